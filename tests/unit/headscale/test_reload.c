// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_reload.c - SIGHUP: which changes apply while running and which need a restart
 * (hsreload.h), table-driven from config text pairs; the route set as a set (order, repeats,
 * host bits); the Hostinfo a lite request carries after a change; the client
 * keeping its PreferredDERP and marking the Hostinfo for the next request; the data plane's
 * route set for an exit node.
 */
#include <jansson.h>
#include "addrfmt.h"
#include "config.h"
#include "device.h"
#include "hsclient.h"
#include "hsreload.h"
#include "hsreq.h"
#include "t.h"

#define CHECK_INT(got, want) do { \
		long long g_ = (long long)(got), w_ = (long long)(want); \
		CHECK(g_ == w_); \
		if (g_ != w_) \
			fprintf(stderr, "  got %lld, want %lld\n", g_, w_); \
	} while (0)

/* Device is given once: a second Device line is refused like a list. */
#define BASE_DEV(dev) "[Interface]\nListenPort = 41641\nAddress = 100.64.0.5/32\nMTU = 1280\nDevice = " dev "\n" \
	     "AdvertiseRoutes = 192.168.8.0/24, fd00:8::/64\nLoginServer = https://hs.example\n"
#define BASE BASE_DEV("eth0")

static const struct {
	const char *fresh;
	bool routes_changed;
	const char *keys;              /* restart-only keys, space separated, config order */
} cases[] = {
	/* 0 */ { BASE, false, "" },
	/* 1 */ { BASE "AdvertiseRoutes = fd00:8::/64, 192.168.8.0/24, 192.168.8.0/24\n", false, "" },
	/* 2 */ { BASE "AdvertiseRoutes = 192.168.9.0/24\n", true, "" },
	/* 3 */ { BASE "AdvertiseExitNode = true\n", true, "" },
	/* 4 */ { BASE "AdvertiseRoutes = 192.168.8.1/24, fd00:8::/64\n", true, "" },   /* host bits differ */
	/* 5 */ { BASE "ListenPort = 41642\nFwMark = 7\nFilterFile = /etc/acl.json\n"
		  "[Peer]\nPublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nAllowedIPs = 100.64.0.2/32\n",
		  false, "" },                                                      /* wg syncconf's */
	/* 6 */ { BASE_DEV("eth1") "MTU = 1300\nQueues = 2\nCPUs = 1\n", false, "MTU Device Queues CPUs" },
	/* 7 */ { BASE "Address = 100.64.0.6/32\nName = mg1\n", false, "Name Address" },
	/* 8 */ { BASE "LoginServer = https://other.example\nAuthKeyFile = /k\nStateDir = /s\n", false,
		  "LoginServer AuthKeyFile StateDir" },
	/* 9 */ { BASE "SNAT = false\nAcceptRoutes = true\nAdvertiseExitNode = true\n", true, "SNAT" },
	/* 10 */ { BASE "PublicEndpoint = 203.0.113.9:41641\nForwardedPort = 41641\n", false,
		   "PublicEndpoint ForwardedPort" },
	/* 11 */ { BASE "Backend = dpdk\nDPDKArgs = -l 0\nPoll = busy\nCrypto = sodium\n", false,
		   "Backend DPDKArgs Poll Crypto" },
	/* 12 */ { BASE "DERPCAFile = /ca.pem\nMetricsListen = off\nUser = nobody\nTestRekeyAfterTime = 9\n",
		   false, "DERPCAFile MetricsListen User TestRekeyAfterTime" },
};

static void test_diff_table(void)
{
	struct mg_config run, fresh;
	char err[256], got[512];

	CHECK_INT(config_load_string(&run, "run.conf", BASE, err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *keys[HS_RELOAD_KEYS_MAX];
		size_t n, k;

		if (config_load_string(&fresh, "new.conf", cases[i].fresh, err, sizeof(err))) {
			CHECK(!"case config loads");
			fprintf(stderr, "case %zu: %s\n", i, err);
			continue;
		}
		n = hs_reload_restart_keys(&run, &fresh, keys, HS_RELOAD_KEYS_MAX);
		got[0] = '\0';
		for (k = 0; k < n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", k ? " " : "", keys[k]);
		CHECK(!strcmp(got, cases[i].keys));
		if (strcmp(got, cases[i].keys))
			fprintf(stderr, "case %zu: restart keys \"%s\", want \"%s\"\n", i, got, cases[i].keys);
		CHECK(hs_reload_routes_changed(&run, &fresh) == cases[i].routes_changed);
		if (hs_reload_routes_changed(&run, &fresh) != cases[i].routes_changed)
			fprintf(stderr, "case %zu: routes_changed wrong\n", i);
		config_free(&fresh);
	}
	/* More changed keys than room: the count is exact, only @max names are written. */
	CHECK_INT(config_load_string(&fresh, "new.conf", cases[12].fresh, err, sizeof(err)), 0);
	{
		const char *one[2] = { NULL, "untouched" };

		CHECK_INT(hs_reload_restart_keys(&run, &fresh, one, 1), 4);
		CHECK(!strcmp(one[0], "DERPCAFile") && !strcmp(one[1], "untouched"));
	}
	config_free(&fresh);
	config_free(&run);
}

static void test_prefix_sets(void)
{
	struct mg_ipprefix a[3], b[2];

	CHECK(!addrfmt_parse_prefix(&a[0], "10.0.0.0/8"));
	CHECK(!addrfmt_parse_prefix(&a[1], "fd00::/64"));
	CHECK(!addrfmt_parse_prefix(&a[2], "10.0.0.0/8"));
	CHECK(!addrfmt_parse_prefix(&b[0], "fd00::/64"));
	CHECK(!addrfmt_parse_prefix(&b[1], "10.0.0.0/8"));
	CHECK(hs_reload_prefixes_equal(a, 3, b, 2));
	CHECK(hs_reload_prefixes_equal(NULL, 0, NULL, 0));
	CHECK(!hs_reload_prefixes_equal(a, 3, b, 1));
	CHECK(!hs_reload_prefixes_equal(NULL, 0, b, 1));
	CHECK(!addrfmt_parse_prefix(&b[1], "10.0.0.0/9"));           /* length differs */
	CHECK(!hs_reload_prefixes_equal(a, 3, b, 2));
	CHECK(!addrfmt_parse_prefix(&b[1], "0.0.0.0/0"));            /* family matters for /0 */
	CHECK(!addrfmt_parse_prefix(&a[0], "::/0"));
	CHECK(!hs_reload_prefixes_equal(a, 2, b, 2));
}

/* RoutableIPs of a lite MapRequest, as one comma-joined string. */
static void routable(const struct hs_hostinfo *hi, char *out, size_t len)
{
	uint8_t nk[32] = { 1 }, dk[32] = { 2 };
	char *s = hs_req_map(nk, dk, false, hi, NULL, false);
	json_t *j = json_loads(s, 0, NULL), *arr;
	size_t i;

	free(s);
	out[0] = '\0';
	CHECK(json_is_false(json_object_get(j, "Stream")) && json_is_true(json_object_get(j, "OmitPeers")));
	arr = json_object_get(json_object_get(j, "Hostinfo"), "RoutableIPs");
	for (i = 0; i < json_array_size(arr); i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? "," : "",
			 json_string_value(json_array_get(arr, i)));
	CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(j, "Hostinfo"), "NetInfo"),
						 "PreferredDERP")) == hi->preferred_derp);
	json_decref(j);
}

static void test_hostinfo_change(void)
{
	struct mg_ipprefix before[1], after[2];
	struct hs_hostinfo hi = { .hostname = "gw", .routes = before, .n_routes = 1, .preferred_derp = 999 };
	struct hs_hostinfo next = { .hostname = "gw2", .routes = after, .n_routes = 2, .exit_node = true,
				    .preferred_derp = 0 /* the caller's: ignored */ };
	struct hs_client c;
	char got[256];

	CHECK(!addrfmt_parse_prefix(&before[0], "192.168.8.0/24"));
	CHECK(!addrfmt_parse_prefix(&after[0], "fd00:8::/64"));
	CHECK(!addrfmt_parse_prefix(&after[1], "192.168.9.0/24"));
	routable(&hi, got, sizeof(got));
	CHECK(!strcmp(got, "192.168.8.0/24"));
	/* A client that is not on a live map stream sends nothing now, but keeps the news. */
	memset(&c, 0, sizeof(c));
	c.state = HS_C_BACKOFF;
	c.cfg.hostinfo = hi;
	CHECK(!hs_client_set_hostinfo(&c, &next));
	CHECK(c.hostinfo_stale);
	CHECK(c.cfg.hostinfo.preferred_derp == 999);     /* the DERP client's, kept */
	CHECK(!strcmp(c.cfg.hostinfo.hostname, "gw2") && c.cfg.hostinfo.routes == after);
	routable(&c.cfg.hostinfo, got, sizeof(got));
	CHECK(!strcmp(got, "0.0.0.0/0,192.168.9.0/24,::/0,fd00:8::/64"));
	if (strcmp(got, "0.0.0.0/0,192.168.9.0/24,::/0,fd00:8::/64"))
		fprintf(stderr, "RoutableIPs after the change: %s\n", got);
	/* Exit node off again, no routes: an empty list, not null (the server clears them). */
	c.cfg.hostinfo.n_routes = 0;
	c.cfg.hostinfo.exit_node = false;
	routable(&c.cfg.hostinfo, got, sizeof(got));
	CHECK(!strcmp(got, ""));
}

static void test_routeset(void)
{
	struct mg_ipprefix r[1];
	struct mg_routeset *s;

	CHECK(!addrfmt_parse_prefix(&r[0], "192.168.8.0/24"));
	s = mg_routeset_new(r, 1, true);
	CHECK(s && s->n == 3);
	CHECK(s && s->r[0].cidr == 24 && s->r[1].family == AF_INET && s->r[1].cidr == 0 &&
	      s->r[2].family == AF_INET6 && s->r[2].cidr == 0);
	free(s);
	s = mg_routeset_new(NULL, 0, false);
	CHECK(s && s->n == 0);
	free(s);
}

int main(void)
{
	test_diff_table();
	test_prefix_sets();
	test_hostinfo_change();
	test_routeset();
	return t_done("test_reload");
}
