// SPDX-License-Identifier: GPL-2.0-only
/*
 * status.c - `meshgate status [--json] [--header] [-c FILE | -i NAME]`, shaped like
 * `tailscale status`: this node first, then one line per peer (tailnet IP, name, endpoint, state,
 * last handshake, tx/rx), then health warnings as "# Health check:" lines. Which daemon: -c FILE
 * names it by its config, -i NAME by its interface; with neither, the only meshgate running
 * (discover.h). Exit 1 with one line when it is not running, 3 with the list when several are.
 *
 * Peer state uses the exporter's rule (peerstate.h), so the CLI and the dashboard agree. An active
 * peer reads `active; direct ADDR`, or `active; relay "derp-N"` while its endpoint is DERP's
 * pseudo-address 127.3.3.40:N.
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
#include "peerstate.h"
#include "mg_config.h"
#include "keyfmt.h"
#include "mg.h"

#define MAX_HEALTH 8

struct health {
	unsigned n;
	char msg[MAX_HEALTH][160];
};

static void warn(struct health *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(struct health *h, const char *fmt, ...)
{
	va_list ap;

	if (h->n == MAX_HEALTH)
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

static void ago(char *out, size_t len, uint64_t then, uint64_t now)
{
	uint64_t s = now > then ? now - then : 0;

	if (!then)
		snprintf(out, len, "never");
	else if (s < 60)
		snprintf(out, len, "%lus ago", (unsigned long)s);
	else if (s < 3600)
		snprintf(out, len, "%lum%lus ago", (unsigned long)(s / 60), (unsigned long)(s % 60));
	else
		snprintf(out, len, "%luh%lum ago", (unsigned long)(s / 3600), (unsigned long)(s / 60 % 60));
}

static enum peerstate state_of(const struct cli_peer *p, uint64_t now)
{
	return peerstate_of(p->handshake_sec * 1000000000ull, p->endpoint[0] != '\0', now * 1000000000ull);
}

/* ---- control server (from /metrics; only with LoginServer) ------------------------------------- */

struct ctlinfo {
	bool present, connected;
	double last_map, last_lite, lite_maps, derp;
	unsigned n_ep;
	char ep[16][64], ep_type[16][24];   /* published endpoints: "addr:port", type name */
};

/* Collects the meshgate_control_endpoint{endpoint="..",type=".."} lines. */
static void ctl_endpoints(const char *text, struct ctlinfo *ci)
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

static void ctl_from_metrics(struct ctlinfo *ci, const char *text)
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

static void health_from_metrics(struct health *h, struct ctlinfo *ci, const struct cli_target *t)
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

static void health_from_device(struct health *h, const struct cli_device *d, uint64_t now)
{
	unsigned offline = 0;

	if (!d->has_private_key)
		warn(h, "no private key: no handshake can complete");
	if (!d->n_peers)
		warn(h, "no peers configured");
	for (size_t i = 0; i < d->n_peers; i++)
		offline += state_of(&d->peers[i], now) == PEER_OFFLINE;
	if (offline)
		warn(h, "%u peer(s) offline: no endpoint known and no session", offline);
}

/* ---- output -------------------------------------------------------------------------------- */

static void json_str_array(const char *key, char (*v)[52], size_t n)
{
	printf("\"%s\":[", key);
	for (size_t i = 0; i < n; i++)
		printf("%s\"%s\"", i ? "," : "", v[i]);
	printf("]");
}

/* Tailscale's pseudo-endpoint 127.3.3.40:<region> means "through DERP region N". */
static int derp_region_of(const char *endpoint)
{
	return strncmp(endpoint, "127.3.3.40:", 11) ? 0 : atoi(endpoint + 11);
}

static void json_control(const struct ctlinfo *ci)
{
	if (!ci->present)
		return;
	printf(",\"Control\":{\"Connected\":%s,\"LastMapUpdate\":%.0f,\"LiteMaps\":%.0f,\"LastLiteMap\":%.0f,"
	       "\"PreferredDERP\":%.0f,\"Endpoints\":[", ci->connected ? "true" : "false", ci->last_map,
	       ci->lite_maps, ci->last_lite, ci->derp);
	for (unsigned i = 0; i < ci->n_ep; i++)
		printf("%s{\"Addr\":\"%s\",\"Type\":\"%s\"}", i ? "," : "", ci->ep[i], ci->ep_type[i]);
	printf("]}");
}

static void print_json(const struct cli_target *t, const struct cli_device *d, const struct health *h,
		       const struct ctlinfo *ci, uint64_t now)
{
	char key[KEYFMT_BASE64_LEN + 1], host[256] = "", ips[512];

	gethostname(host, sizeof(host) - 1);
	self_ips(t->name, ips, sizeof(ips));
	keyfmt_base64_encode(key, d->public_key);
	printf("{\"Version\":\"%s\",\"BackendState\":\"Running\",\"Self\":{\"Name\":\"%s\",\"Device\":\"%s\","
	       "\"PublicKey\":\"%s\",\"TailscaleIPs\":[", MG_VERSION, host, t->name, d->has_private_key ? key : "");
	for (char *s = ips, *e; *s; s = *e ? e + 1 : e) {
		e = s + strcspn(s, ",");
		printf("%s\"%.*s\"", s == ips ? "" : ",", (int)(e - s), s);
	}
	printf("],\"ListenPort\":%u},\"Peers\":[", d->listen_port);
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct cli_peer *p = &d->peers[i];
		enum peerstate st = state_of(p, now);
		char name[12];

		keyfmt_base64_encode(key, p->public_key);
		cli_peer_name(name, p->public_key);
		printf("%s{\"PublicKey\":\"%s\",\"Name\":\"%s\",\"TailscaleIP\":\"%s\",", i ? "," : "", key, name,
		       cli_peer_tailnet_ip(p));
		json_str_array("AllowedIPs", p->ips, p->n_ips);
		printf(",\"Endpoint\":\"%s\",\"State\":\"%s\",\"Path\":\"%s\",\"LastHandshake\":%lu,"
		       "\"RxBytes\":%lu,\"TxBytes\":%lu,\"PersistentKeepalive\":%u}", p->endpoint, peerstate_label(st),
		       st != PEER_ACTIVE ? "" : derp_region_of(p->endpoint) ? "relay" : "direct",
		       (unsigned long)p->handshake_sec, (unsigned long)p->rx_bytes,
		       (unsigned long)p->tx_bytes, p->persistent_keepalive);
	}
	printf("]");
	json_control(ci);
	printf(",\"Health\":[");
	for (unsigned i = 0; i < h->n; i++)
		printf("%s\"%s\"", i ? "," : "", h->msg[i]);
	printf("]}\n");
}

/* "# Control server:" block: map stream, last lite map request, what we publish. */
static void table_control(const struct ctlinfo *ci, uint64_t now)
{
	char map[32], lite[32];

	if (!ci->present)
		return;
	ago(map, sizeof(map), (uint64_t)ci->last_map, now);
	ago(lite, sizeof(lite), (uint64_t)ci->last_lite, now);
	printf("\n# Control server: %s, last map %s, %.0f lite map request%s (last %s), home DERP %.0f\n",
	       ci->connected ? "connected" : "NOT connected", map, ci->lite_maps, ci->lite_maps == 1 ? "" : "s",
	       lite, ci->derp);
	for (unsigned i = 0; i < ci->n_ep; i++)
		printf("#     endpoint %s (%s)\n", ci->ep[i], ci->ep_type[i]);
}

static void print_table(const struct cli_target *t, const struct cli_device *d, const struct health *h,
			const struct ctlinfo *ci, uint64_t now, bool header)
{
	char host[256] = "", ips[512], listen[32];

	gethostname(host, sizeof(host) - 1);
	self_ips(t->name, ips, sizeof(ips));
	snprintf(listen, sizeof(listen), "listening :%u", d->listen_port);
	if (header)
		printf("%-39s  %-10s  %-45s  %s\n", "IP", "NAME", "ENDPOINT", "STATUS");
	ips[strcspn(ips, ",")] = '\0';   /* the table shows the first address, like tailscale */
	printf("%-39s  %-10.10s  %-45s  -\n", ips[0] ? ips : "-", host, listen);
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct cli_peer *p = &d->peers[i];
		enum peerstate st = state_of(p, now);
		char name[12], hs[32], tx[24], rx[24];

		cli_peer_name(name, p->public_key);
		ago(hs, sizeof(hs), p->handshake_sec, now);
		cli_bytes(tx, sizeof(tx), p->tx_bytes);
		cli_bytes(rx, sizeof(rx), p->rx_bytes);
		printf("%-39s  %-10s  %-45s  ", cli_peer_tailnet_ip(p), name, p->endpoint[0] ? p->endpoint : "-");
		if (st == PEER_ACTIVE && derp_region_of(p->endpoint))
			printf("active; relay \"derp-%d\"", derp_region_of(p->endpoint));
		else if (st == PEER_ACTIVE)
			printf("active; direct %s", p->endpoint[0] ? p->endpoint : "(roaming)");
		else
			printf("%s", peerstate_label(st));
		printf(", handshake %s, tx %s rx %s\n", hs, tx, rx);
	}
	table_control(ci, now);
	if (h->n) {
		printf("\n# Health check:\n");
		for (unsigned i = 0; i < h->n; i++)
			printf("#     - %s\n", h->msg[i]);
	}
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
	struct health h = { 0 };
	struct ctlinfo ci = { 0 };
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
	if (json)
		print_json(&t, &d, &h, &ci, now);
	else
		print_table(&t, &d, &h, &ci, now, header);
	cli_device_free(&d);
	return 0;
}
