// SPDX-License-Identifier: GPL-2.0-only
/*
 * status_fmt.c - the table and the JSON of `meshgate status` (status_fmt.h). Peer state uses the
 * exporter's rule (peerstate.h), so the CLI and the dashboard agree. An active peer reads
 * `active; direct ADDR`, or `active; relay "derp-N"` while its endpoint is DERP's pseudo-address
 * 127.3.3.40:N. Names and addresses are printed into JSON unescaped: names passed
 * nodename_valid in the parser, keys are base64, the rest is numbers and addresses.
 */
#include <stdlib.h>
#include <string.h>
#include "keyfmt.h"
#include "mg_config.h"
#include "nodename.h"
#include "status_fmt.h"

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

enum peerstate status_peer_state(const struct cli_peer *p, uint64_t now)
{
	return peerstate_of(p->handshake_sec * 1000000000ull, p->endpoint[0] != '\0', now * 1000000000ull);
}

/* Tailscale's pseudo-endpoint 127.3.3.40:<region> means "through DERP region N". */
static int derp_region_of(const char *endpoint)
{
	return strncmp(endpoint, "127.3.3.40:", 11) ? 0 : atoi(endpoint + 11);
}

/* The table's NAME column: the short tailnet name, or "-". */
static void short_name(char *out, size_t len, const char *full)
{
	nodename_short(out, len, full);
	if (!out[0])
		snprintf(out, len, "-");
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static void json_str_array(FILE *f, const char *key, char (*v)[52], size_t n)
{
	fprintf(f, "\"%s\":[", key);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", v[i]);
	fprintf(f, "]");
}

/* "TailscaleIPs": the peer's own addresses without their prefix length; without any
 * (a static peer), its tailnet address as the table shows it, if it has one. */
static void json_peer_ips(FILE *f, const struct cli_peer *p)
{
	const char *one = cli_peer_tailnet_ip(p);

	fprintf(f, "\"TailscaleIPs\":[");
	for (size_t i = 0; i < p->n_addrs; i++)
		fprintf(f, "%s\"%.*s\"", i ? "," : "", (int)strcspn(p->addrs[i], "/"), p->addrs[i]);
	if (!p->n_addrs && strcmp(one, "-"))
		fprintf(f, "\"%s\"", one);
	fprintf(f, "]");
}

static void json_control(FILE *f, const struct status_ctl *ci)
{
	if (!ci->present)
		return;
	fprintf(f, ",\"Control\":{\"Connected\":%s,\"LastMapUpdate\":%.0f,\"LiteMaps\":%.0f,\"LastLiteMap\":%.0f,"
		"\"PreferredDERP\":%.0f,\"Endpoints\":[", ci->connected ? "true" : "false", ci->last_map,
		ci->lite_maps, ci->last_lite, ci->derp);
	for (unsigned i = 0; i < ci->n_ep; i++)
		fprintf(f, "%s{\"Addr\":\"%s\",\"Type\":\"%s\"}", i ? "," : "", ci->ep[i], ci->ep_type[i]);
	fprintf(f, "]}");
}

void status_print_json(FILE *f, const struct status_self *self, const struct cli_device *d,
		       const struct status_health *h, const struct status_ctl *ci, uint64_t now)
{
	char key[KEYFMT_BASE64_LEN + 1];

	keyfmt_base64_encode(key, d->public_key);
	fprintf(f, "{\"Version\":\"%s\",\"BackendState\":\"Running\",\"Self\":{\"Name\":\"%s\",\"DNSName\":\"%s\","
		"\"Device\":\"%s\",\"PublicKey\":\"%s\",\"TailscaleIPs\":[", MG_VERSION, self->host, d->name,
		self->device, d->has_private_key ? key : "");
	for (const char *s = self->ips, *e; *s; s = *e ? e + 1 : e) {
		e = s + strcspn(s, ",");
		fprintf(f, "%s\"%.*s\"", s == self->ips ? "" : ",", (int)(e - s), s);
	}
	fprintf(f, "],\"ListenPort\":%u},\"Peers\":[", d->listen_port);
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct cli_peer *p = &d->peers[i];
		enum peerstate st = status_peer_state(p, now);
		char name[12];

		keyfmt_base64_encode(key, p->public_key);
		cli_peer_name(name, p->public_key);
		fprintf(f, "%s{\"PublicKey\":\"%s\",\"Name\":\"%s\",\"DNSName\":\"%s\",\"TailscaleIP\":\"%s\",",
			i ? "," : "", key, name, p->name, cli_peer_tailnet_ip(p));
		json_peer_ips(f, p);
		fprintf(f, ",");
		json_str_array(f, "AllowedIPs", p->ips, p->n_ips);
		fprintf(f, ",\"Endpoint\":\"%s\",\"State\":\"%s\",\"Path\":\"%s\",\"LastHandshake\":%lu,"
			"\"RxBytes\":%lu,\"TxBytes\":%lu,\"PersistentKeepalive\":%u}", p->endpoint, peerstate_label(st),
			st != PEER_ACTIVE ? "" : derp_region_of(p->endpoint) ? "relay" : "direct",
			(unsigned long)p->handshake_sec, (unsigned long)p->rx_bytes,
			(unsigned long)p->tx_bytes, p->persistent_keepalive);
	}
	fprintf(f, "]");
	json_control(f, ci);
	fprintf(f, ",\"Health\":[");
	for (unsigned i = 0; i < h->n; i++)
		fprintf(f, "%s\"%s\"", i ? "," : "", h->msg[i]);
	fprintf(f, "]}\n");
}

/* ---- table --------------------------------------------------------------------------------- */

/* "# Control server:" block: map stream, last lite map request, what we publish. */
static void table_control(FILE *f, const struct status_ctl *ci, uint64_t now)
{
	char map[32], lite[32];

	if (!ci->present)
		return;
	ago(map, sizeof(map), (uint64_t)ci->last_map, now);
	ago(lite, sizeof(lite), (uint64_t)ci->last_lite, now);
	fprintf(f, "\n# Control server: %s, last map %s, %.0f lite map request%s (last %s), home DERP %.0f\n",
		ci->connected ? "connected" : "NOT connected", map, ci->lite_maps, ci->lite_maps == 1 ? "" : "s",
		lite, ci->derp);
	for (unsigned i = 0; i < ci->n_ep; i++)
		fprintf(f, "#     endpoint %s (%s)\n", ci->ep[i], ci->ep_type[i]);
}

void status_print_table(FILE *f, const struct status_self *self, const struct cli_device *d,
			const struct status_health *h, const struct status_ctl *ci, uint64_t now, bool header)
{
	char ip[64], listen[32], tn[NODENAME_MAX + 1];

	snprintf(listen, sizeof(listen), "listening :%u", d->listen_port);
	/* the table shows the first address, like tailscale */
	snprintf(ip, sizeof(ip), "%.*s", (int)strcspn(self->ips, ","), self->ips);
	short_name(tn, sizeof(tn), d->name);
	if (header)
		fprintf(f, "%-39s  %-15s  %-10s  %-45s  %s\n", "IP", "NAME", "HOST/KEY", "ENDPOINT", "STATUS");
	fprintf(f, "%-39s  %-15s  %-10.10s  %-45s  -\n", ip[0] ? ip : "-", tn, self->host, listen);
	for (size_t i = 0; i < d->n_peers; i++) {
		const struct cli_peer *p = &d->peers[i];
		enum peerstate st = status_peer_state(p, now);
		char name[12], hs[32], tx[24], rx[24];

		cli_peer_name(name, p->public_key);
		short_name(tn, sizeof(tn), p->name);
		ago(hs, sizeof(hs), p->handshake_sec, now);
		cli_bytes(tx, sizeof(tx), p->tx_bytes);
		cli_bytes(rx, sizeof(rx), p->rx_bytes);
		fprintf(f, "%-39s  %-15s  %-10s  %-45s  ", cli_peer_tailnet_ip(p), tn, name,
			p->endpoint[0] ? p->endpoint : "-");
		if (st == PEER_ACTIVE && derp_region_of(p->endpoint))
			fprintf(f, "active; relay \"derp-%d\"", derp_region_of(p->endpoint));
		else if (st == PEER_ACTIVE)
			fprintf(f, "active; direct %s", p->endpoint[0] ? p->endpoint : "(roaming)");
		else
			fprintf(f, "%s", peerstate_label(st));
		fprintf(f, ", handshake %s, tx %s rx %s\n", hs, tx, rx);
	}
	table_control(f, ci, now);
	if (h->n) {
		fprintf(f, "\n# Health check:\n");
		for (unsigned i = 0; i < h->n; i++)
			fprintf(f, "#     - %s\n", h->msg[i]);
	}
}
