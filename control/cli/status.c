// SPDX-License-Identifier: GPL-2.0-only
/*
 * status.c - `meshgate status [--json] [--header] [-c FILE | -i NAME]`, shaped like
 * `tailscale status`: this node first, then one line per peer (tailnet IP, tailnet name, key
 * prefix, endpoint, state, last handshake, tx/rx), then health warnings as "# Health check:" lines. Which daemon: -c FILE
 * names it by its config, -i NAME by its interface; with neither, the only meshgate running
 * (discover.h). Exit 1 with one line when it is not running, 3 with the list when several are.
 * This file gathers (UAPI reply, TUN addresses, /metrics, health); status_fmt.c prints.
 */
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sodium.h>
#include "cli.h"
#include "discover.h"
#include "status.h"
#include "status_fmt.h"
#include "mg.h"

static void warn(struct status_health *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct status_health *h, const char *fmt, ...)
{
	va_list ap;

	if (h->n == STATUS_HEALTH_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(h->msg[h->n++], sizeof(h->msg[0]), fmt, ap);
	va_end(ap);
}

/* The router's own tailnet addresses are on its TUN device, which carries the daemon's NAME. */
static void self_ips(const char *name, char *out, size_t len)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	out[0] = '\0';
	if (getifaddrs(&ifa))
		return;
	for (int fam = AF_INET; fam; fam = fam == AF_INET ? AF_INET6 : 0) {
		for (i = ifa; i; i = i->ifa_next) {
			char ip[NI_MAXHOST];

			if (!i->ifa_addr || i->ifa_addr->sa_family != fam || strcmp(i->ifa_name, name))
				continue;
			if (fam == AF_INET6 &&
			    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
				continue;
			if (getnameinfo(i->ifa_addr, fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
					ip, sizeof(ip), NULL, 0, NI_NUMERICHOST))
				continue;
			n += snprintf(out + n, n < len ? len - n : 0, "%s%s", n ? "," : "", ip);
		}
	}
	freeifaddrs(ifa);
}

/* ---- control server (from /metrics; only with LoginServer) ------------------------------------- */

/* Collects the meshgate_control_endpoint{endpoint="..",type=".."} lines. */
static void ctl_endpoints(const char *text, struct status_ctl *ci)
{
	static const char pfx[] = "meshgate_control_endpoint{endpoint=\"";

	for (const char *l = strstr(text, pfx); l && ci->n_ep < ARRAY_SIZE(ci->ep); l = strstr(l + 1, pfx)) {
		const char *ep = l + sizeof(pfx) - 1, *ee = strchr(ep, '"'), *ty, *te;

		if (l != text && l[-1] != '\n')
			continue;
		if (!ee || !(ty = strstr(ee, "type=\"")) || !(te = strchr(ty + 6, '"')))
			break;
		snprintf(ci->ep[ci->n_ep], sizeof(ci->ep[0]), "%.*s", (int)(ee - ep), ep);
		snprintf(ci->ep_type[ci->n_ep++], sizeof(ci->ep_type[0]), "%.*s", (int)(te - ty - 6), ty + 6);
	}
}

static void ctl_from_metrics(struct status_ctl *ci, const char *text)
{
	double v;

	if (!cli_metric(text, "meshgate_control_map_updates_total", &v))
		return;
	ci->present = true;
	ci->connected = cli_metric(text, "meshgate_control_connected", &v) && v == 1;
	cli_metric(text, "meshgate_control_last_map_update_timestamp_seconds", &ci->last_map);
	cli_metric(text, "meshgate_control_last_lite_map_timestamp_seconds", &ci->last_lite);
	cli_metric(text, "meshgate_control_lite_maps_total", &ci->lite_maps);
	cli_metric(text, "meshgate_control_preferred_derp", &ci->derp);
	ctl_endpoints(text, ci);
}

/* ---- health ------------------------------------------------------------------------------------ */

static void health_from_metrics(struct status_health *h, struct status_ctl *ci, const struct cli_target *t)
{
	char *text;
	size_t len;
	double v;
	int ret;

	if (!t->metrics[0])
		return;
	ret = cli_http_get(t->metrics, "/metrics", &text, &len);
	if (ret) {
		/* Without -c we only guessed the address; silence is right when /metrics is elsewhere. */
		if (t->metrics_from_config)
			warn(h, "cannot read /metrics at %s: %s", t->metrics, strerror(-ret));
		return;
	}
	ctl_from_metrics(ci, text);
	if (ci->present && !ci->connected)
		warn(h, "not connected to the control server: serving the last netmap");
	if (cli_metric(text, "tailscale_backend_running", &v) && v == 0)
		warn(h, "the data path is not running (a worker stopped)");
	if (cli_metric(text, "meshgate_under_load", &v) && v == 1)
		warn(h, "under load: handshakes are answered with cookie replies");
	for (unsigned q = 0; q < 64; q++) {
		char series[96];

		snprintf(series, sizeof(series), "meshgate_xsk_rx_ring_full_total{queue=\"%u\"}", q);
		if (!cli_metric(text, series, &v))
			break;
		if (v > 0)
			warn(h, "queue %u: AF_XDP RX ring overflowed %.0f times (worker saturated)", q, v);
	}
	free(text);
}

static void health_from_device(struct status_health *h, const struct cli_device *d, uint64_t now)
{
	unsigned offline = 0;

	if (!d->has_private_key)
		warn(h, "no private key: no handshake can complete");
	if (!d->n_peers)
		warn(h, "no peers configured");
	for (size_t i = 0; i < d->n_peers; i++)
		offline += status_peer_state(&d->peers[i], now) == PEER_OFFLINE;
	if (offline)
		warn(h, "%u peer(s) offline: no endpoint known and no session", offline);
}

static int usage(void)
{
	fprintf(stderr, "usage: meshgate status [--json] [--header] [-c FILE | -i NAME]\n"
			"  -c FILE   the daemon of this config file\n"
			"  -i NAME   the running daemon of interface NAME (its UAPI socket NAME.sock)\n"
			"            neither: the only meshgate running (found by its UAPI socket)\n"
			"exit status: 0 shown, 1 not running or no answer, 2 usage, 3 several running (use -i)\n");
	return 2;
}

int status_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' }, { "header", no_argument, NULL, 'H' },
		{ "config", required_argument, NULL, 'c' }, { "interface", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *name = NULL;
	bool json = false, header = false;
	struct cli_target t;
	struct cli_device d;
	struct status_health h = { 0 };
	struct status_ctl ci = { 0 };
	char host[256] = "", ips[512];
	struct status_self self = { .host = host, .device = t.name, .ips = ips };
	uint64_t now = (uint64_t)time(NULL);
	int c, ret;

	if (sodium_init() < 0)   /* key derivation (status), random ping ids (ping) */
		return 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:i:", opts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'H')
			header = true;
		else if (c == 'c')
			config = optarg;
		else if (c == 'i')
			name = optarg;
		else
			return usage();
	}
	if (optind != argc || (config && name))
		return usage();
	ret = cli_target_find(&t, config, name, false);
	if (ret)
		return ret;
	ret = cli_uapi_get(t.name, &d);
	if (ret) {
		if (ret == -ENOENT || ret == -ECONNREFUSED)
			fprintf(stderr, "meshgate is not running (%s: no daemon on %s/%s.sock).\n", t.name, "/var/run/wireguard", t.name);
		else
			fprintf(stderr, "meshgate %s: cannot read its state over UAPI: %s\n", t.name, strerror(-ret));
		return 1;
	}
	health_from_device(&h, &d, now);
	health_from_metrics(&h, &ci, &t);
	gethostname(host, sizeof(host) - 1);
	self_ips(t.name, ips, sizeof(ips));
	if (json)
		status_print_json(stdout, &self, &d, &h, &ci, now);
	else
		status_print_table(stdout, &self, &d, &h, &ci, now, header);
	cli_device_free(&d);
	return 0;
}
