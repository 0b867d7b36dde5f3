// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsreload.c - the SIGHUP diff of the running config against the re-read file: which changes
 * apply at run time (routes, exit node) and which keys need a restart. Pure functions, so the
 * table of keys is tested without a device (tests/unit/headscale/test_reload.c).
 */
#include <string.h>
#include "config.h"
#include "hsreload.h"

static bool prefix_same(const struct mg_ipprefix *x, const struct mg_ipprefix *y)
{
	return x->family == y->family && x->cidr == y->cidr && !memcmp(x->addr, y->addr, 16);
}

/* Every element of @a is in @b. Quadratic: route lists are short and this runs once per SIGHUP. */
static bool subset(const struct mg_ipprefix *a, size_t na, const struct mg_ipprefix *b, size_t nb)
{
	for (size_t i = 0; i < na; i++) {
		bool found = false;

		for (size_t j = 0; j < nb && !found; j++)
			found = prefix_same(&a[i], &b[j]);
		if (!found)
			return false;
	}
	return true;
}

bool hs_reload_prefixes_equal(const struct mg_ipprefix *a, size_t na, const struct mg_ipprefix *b, size_t nb)
{
	return subset(a, na, b, nb) && subset(b, nb, a, na);
}

bool hs_reload_routes_changed(const struct mg_config *run, const struct mg_config *fresh)
{
	return run->advertise_exit_node != fresh->advertise_exit_node ||
	       !hs_reload_prefixes_equal(run->advertise_routes, run->n_routes,
					 fresh->advertise_routes, fresh->n_routes);
}

static bool endpoints_same(const struct mg_config *a, const struct mg_config *b)
{
	if (a->n_public_endpoints != b->n_public_endpoints)
		return false;
	for (size_t i = 0; i < a->n_public_endpoints; i++) {
		const struct mg_endpoint *x = &a->public_endpoints[i], *y = &b->public_endpoints[i];

		if (x->family != y->family || x->port != y->port || memcmp(x->addr, y->addr, 16))
			return false;
	}
	return true;
}

static bool devices_same(const struct mg_config *a, const struct mg_config *b)
{
	if (a->n_devices != b->n_devices)
		return false;
	for (size_t i = 0; i < a->n_devices; i++)
		if (strcmp(a->devices[i], b->devices[i]))
			return false;
	return true;
}

#define STR_SAME(f) (!strcmp(run->f, fresh->f))
#define VAL_SAME(f) (run->f == fresh->f)

size_t hs_reload_restart_keys(const struct mg_config *run, const struct mg_config *fresh,
			      const char **keys, size_t max)
{
	/* Config-file order (config.c interface_keys). Addresses: the TUN's and, with LoginServer,
	 * Headscale's to assign; MTU, Device, Backend, Queues, CPUs, Poll, Crypto shape the workers. */
	const struct { const char *key; bool same; } t[] = {
		{ "Name", STR_SAME(name) },
		{ "Address", hs_reload_prefixes_equal(run->addresses, run->n_addresses,
						      fresh->addresses, fresh->n_addresses) },
		{ "MTU", VAL_SAME(mtu) },
		{ "Device", devices_same(run, fresh) },
		{ "Backend", VAL_SAME(backend) },
		{ "DPDKArgs", STR_SAME(dpdk_args) },
		{ "Queues", VAL_SAME(queues) },
		{ "SetChannels", VAL_SAME(set_channels) },
		{ "CPUs", run->n_cpus == fresh->n_cpus &&
			  !memcmp(run->cpus, fresh->cpus, run->n_cpus * sizeof(run->cpus[0])) },
		{ "Poll", VAL_SAME(poll_spin_us) },
		{ "Crypto", STR_SAME(crypto) },
		{ "SNAT", VAL_SAME(snat) },
		{ "LoginServer", STR_SAME(login_server) },
		{ "AuthKeyFile", STR_SAME(auth_key_file) },
		{ "StateDir", STR_SAME(state_dir) },
		{ "PublicEndpoint", endpoints_same(run, fresh) },
		{ "ForwardedPort", VAL_SAME(forwarded_port) },
		{ "DERPCAFile", STR_SAME(derp_ca_file) },
		{ "MetricsListen", STR_SAME(metrics_listen) },
		{ "User", STR_SAME(user) },
		{ "TestRekeyAfterTime", VAL_SAME(test_rekey_after_time_s) },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (t[i].same)
			continue;
		if (n < max)
			keys[n] = t[i].key;
		n++;
	}
	return n;
}
