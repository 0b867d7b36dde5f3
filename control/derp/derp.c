// SPDX-License-Identifier: GPL-2.0-only
/*
 * derp.c - DERP client connections, non-blocking on the control thread's epoll loop.
 *
 * One connection per region, a small state machine (the connection and its pump in derp_conn.c;
 * connecting in derp_dial.c; the home region's choice and fail-over in derp_homing.c; this file
 * is the API on top: regions, sends, STUN answers per region, the tick, status):
 *   IDLE -> [RESOLVE (a HostName without forced address: getaddrinfo_a, polled from the tick)] ->
 *   TCP (connect in progress) -> TLS (handshake) -> HTTP (GET /derp, Upgrade: DERP; wait for 101)
 *   -> KEY (wait ServerKey; send ClientInfo) -> INFO (wait ServerInfo) -> READY
 * Any failure closes the socket and retries after a backoff (1 s doubling to 30 s, with jitter),
 * trying the region's next node. READY connections answer Ping with Pong, count KeepAlive as
 * liveness (read deadline 120 s) and hand RecvPacket payloads to the caller.
 *
 * TLS (derp_tls.c): OpenSSL, TLS 1.2+, no ALPN (the upgrade is HTTP/1.1). The certificate is
 * checked against the system store plus an optional CA file, for CertName (or HostName) as DNS
 * name or IP; CertName "sha256-raw:<hex>" pins the leaf certificate's SHA-256 instead;
 * InsecureForTests turns checking off (the DERP map says so; only test servers set it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include "derp.h"
#include "derp_conn.h"
#include "derp_dial.h"
#include "derp_homing.h"
#include "derpmap.h"
#include "derp_tls.h"
#include "evsource.h"
#include "mg.h"

static const char *const state_name[] = {
	[ST_IDLE] = "idle", [ST_RESOLVE] = "resolving", [ST_TCP] = "connecting", [ST_TLS] = "tls", [ST_HTTP] = "upgrade",
	[ST_KEY] = "handshake", [ST_INFO] = "handshake", [ST_READY] = "connected",
};

static uint64_t derp_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void on_event(struct evsource *src, uint32_t events)
{
	struct derp_conn *c = container_of(src, struct derp_conn, src);
	uint64_t now = derp_now();
	int err = 0;
	socklen_t el = sizeof(err);

	if (c->state == ST_TCP) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) || err)
			return derp_conn_fail(c, strerror(err ? err : errno), now);
		c->ssl = derp_tls_new(c->d->ctx, c->fd, derp_conn_node(c));
		if (!c->ssl)
			return derp_conn_fail(c, "TLS setup", now);
		derp_conn_set_state(c, ST_TLS, now);
	}
	if (c->state == ST_TLS)
		return derp_dial_tls_step(c, now);
	if (c->state >= ST_HTTP)
		derp_conn_io(c, now);
}

/* --- public -------------------------------------------------------------------------- */

static struct derp_conn *conn_new(struct derp *d, const struct derp_region *r)
{
	struct derp_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->in = malloc(IN_CAP);
	c->out = malloc(OUT_CAP);
	c->pend = malloc(PEND_CAP);
	if (!c->in || !c->out || !c->pend) {
		free(c->in), free(c->out), free(c->pend), free(c);
		return NULL;
	}
	c->d = d;
	c->src.cb = on_event;
	c->fd = -1;
	c->region = *r;
	c->backoff = DERP_BACKOFF_MIN_NS;
	c->st.id = r->id;
	return c;
}

static void conn_free(struct derp_conn *c)
{
	derp_conn_close(c);
	free(c->in), free(c->out), free(c->pend), free(c);
}

int derp_init(struct derp **out, const struct derp_cfg *cfg)
{
	struct derp *d = calloc(1, sizeof(*d));

	if (!d || sodium_init() < 0) {
		free(d);
		return -ENOMEM;
	}
	d->cfg = *cfg;
	if (!d->cfg.idle_ns)
		d->cfg.idle_ns = DERP_IDLE_NS;
	if (!d->cfg.probe_ns)
		d->cfg.probe_ns = DERP_PROBE_NS;
	d->ctx = derp_tls_ctx_new(cfg->ca_file);
	if (!d->ctx) {
		fprintf(stderr, "meshgate: derp: TLS context%s%s failed\n", cfg->ca_file ? " with CA file " : "",
			cfg->ca_file ? cfg->ca_file : "");
		goto err;
	}
	*out = d;
	return 0;
err:
	SSL_CTX_free(d->ctx);
	free(d);
	return -EINVAL;
}

void derp_uninit(struct derp *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		conn_free(d->conns[i]);
	SSL_CTX_free(d->ctx);
	sodium_memzero(d->priv, sizeof(d->priv));
	free(d);
}

void derp_set_key(struct derp *d, const uint8_t node_priv[32])
{
	if (d->has_key && !sodium_memcmp(d->priv, node_priv, 32))
		return;
	memcpy(d->priv, node_priv, 32);
	crypto_scalarmult_base(d->pub, d->priv);
	d->has_key = true;
	for (size_t i = 0; i < d->n; i++) {
		derp_conn_close(d->conns[i]);
		d->conns[i]->next_try = 0;
	}
}

static bool same_first_node(const struct derp_region *a, const struct derp_region *b)
{
	const struct derp_node *x = &a->nodes[0], *y = &b->nodes[0];

	return a->n_nodes == b->n_nodes && !strcmp(x->host, y->host) && !strcmp(x->ipv4, y->ipv4) &&
	       !strcmp(x->ipv6, y->ipv6) && x->derp_port == y->derp_port &&
	       !strcmp(x->cert_name, y->cert_name) && x->insecure == y->insecure;
}

void derp_set_map(struct derp *d, const struct derp_region *regions, size_t n, uint64_t now)
{
	struct derp_conn *next[DERP_REGIONS_MAX];
	size_t k = 0;

	for (size_t i = 0; i < n && k < DERP_REGIONS_MAX; i++) {
		struct derp_conn *c = derp_conn_find(d, regions[i].id);

		if (!regions[i].n_nodes)
			continue;
		if (c && !same_first_node(&c->region, &regions[i])) {
			derp_conn_close(c);
			c->next_try = 0;
		}
		if (!c && !(c = conn_new(d, &regions[i])))
			continue;
		c->region = regions[i];
		next[k++] = c;
	}
	for (size_t i = 0; i < d->n; i++) {
		bool kept = false;

		for (size_t j = 0; j < k && !kept; j++)
			kept = next[j] == d->conns[i];
		if (!kept)
			conn_free(d->conns[i]);
	}
	memcpy(d->conns, next, k * sizeof(next[0]));
	d->n = k;
	derp_homing_update(d, now);
	derp_tick(d, now);
}

int derp_home(const struct derp *d)
{
	return d->home;
}

bool derp_region_known(const struct derp *d, int region)
{
	return derp_conn_find(d, region) != NULL;
}

bool derp_region_up(const struct derp *d, int region)
{
	const struct derp_conn *c = derp_conn_find(d, region);

	return c && c->state == ST_READY;
}

int derp_send(struct derp *d, int region, const uint8_t dst[32], const void *pkt, size_t len, uint64_t now)
{
	struct derp_conn *c = derp_conn_find(d, region);
	uint8_t hdr[DERP_HDR_LEN + DERP_KEY_LEN];

	if (!c)
		return -ENOENT;
	if (len > DERP_MAX_PACKET)
		return -EMSGSIZE;
	c->last_used = now;
	c->wanted = true;
	derp_frame_put_header(hdr, DERP_SEND_PACKET, (uint32_t)(DERP_KEY_LEN + len));
	memcpy(hdr + DERP_HDR_LEN, dst, DERP_KEY_LEN);
	if (c->state != ST_READY) {
		if (c->state == ST_IDLE && now >= c->next_try)
			derp_dial_start(c, now);
		if (c->pend_len + sizeof(hdr) + len > PEND_CAP) {
			c->st.tx_drops++;
			return -ENOBUFS;
		}
		memcpy(c->pend + c->pend_len, hdr, sizeof(hdr));
		memcpy(c->pend + c->pend_len + sizeof(hdr), pkt, len);
		c->pend_len += sizeof(hdr) + len;
		return 0;
	}
	if (c->out_len + sizeof(hdr) + len > OUT_CAP) {
		c->st.tx_drops++;
		return -ENOBUFS;
	}
	if (!derp_bucket_take(&c->bucket, sizeof(hdr) + len, now)) {
		c->st.rate_limited++;    /* the server's ServerInfo limit: drop, as tailscaled does */
		return -EDQUOT;
	}
	derp_conn_put(c, hdr, sizeof(hdr));    /* both fit: checked above */
	derp_conn_put(c, pkt, len);
	c->st.tx_packets++;
	derp_conn_set_events(c);               /* written when the socket is writable: bursts batch */
	return 0;
}

/* Liveness of the home connection (DERP_PROBE_NS): a Ping after a quiet spell, any frame back
 * (the Pong or anything else) clears it. */
static void probe(struct derp_conn *c, uint64_t now)
{
	uint8_t ping[DERP_HDR_LEN + 8];
	uint64_t quiet = c->d->cfg.probe_ns;

	if (c->probe_at && c->last_rx > c->probe_at)
		c->probe_at = 0;
	if (c->probe_at && now - c->probe_at >= quiet / 2)
		return derp_conn_fail(c, "no answer to our ping", now);
	if (c->probe_at || now < c->last_rx || now - c->last_rx < quiet)
		return;
	derp_frame_put_header(ping, DERP_PING, 8);
	randombytes_buf(ping + DERP_HDR_LEN, 8);
	if (derp_conn_put(c, ping, sizeof(ping))) {
		c->probe_at = now;
		derp_conn_set_events(c);
	}
}

void derp_tick(struct derp *d, uint64_t now)
{
	for (size_t i = 0; i < d->n; i++) {
		struct derp_conn *c = d->conns[i];
		bool home = c->region.id == d->home;

		/* last_used may be a little after @now: disco sends with its own clock read. */
		if (!home && !c->down && c->wanted && now > c->last_used && now - c->last_used >= d->cfg.idle_ns) {
			c->wanted = false;       /* derpInactiveCleanupTime */
			if (c->state != ST_IDLE)
				fprintf(stderr, "meshgate: derp: region %d idle, closed\n", c->region.id);
			derp_conn_close(c);
			continue;
		}
		if (home || c->down)
			c->wanted = true;        /* a down region is probed so we learn it is back */
		if (c->state == ST_RESOLVE)
			derp_dial_resolve_poll(c, now);
		if (c->state == ST_IDLE) {
			if (c->wanted && now >= c->next_try)
				derp_dial_start(c, now);
		} else if (c->state != ST_READY && now - c->state_since >= DERP_SETUP_NS) {
			derp_conn_fail(c, "setup timed out", now);
		} else if (c->state == ST_READY && now - c->last_rx >= DERP_READ_DEADLINE_NS) {
			derp_conn_fail(c, "no frame from the server in 120 s", now);
		} else if (c->state == ST_READY && home) {
			probe(c, now);
		}
		if (home)
			derp_homing_watch(c, now);
		if (c->st.rate_limited != c->limited_logged && now >= c->limited_log_at) {
			fprintf(stderr, "meshgate: derp: region %d: %llu packets dropped by the server's rate limit\n",
				c->region.id, (unsigned long long)c->st.rate_limited);
			c->limited_logged = c->st.rate_limited;
			c->limited_log_at = now + DERP_NS(5000);
		}
	}
	derp_homing_update(d, now);
}

bool derp_note_stun(struct derp *d, const struct mg_endpoint *server, uint64_t rtt_ns, uint64_t now)
{
	for (size_t i = 0; i < d->n; i++) {
		struct derp_conn *c = d->conns[i];

		for (size_t j = 0; j < c->region.n_nodes; j++) {
			if (!derp_node_is_stun_server(&c->region.nodes[j], server))
				continue;
			derp_lat_add(&c->lat, rtt_ns, now);
			derp_homing_update(d, now);
			return true;
		}
	}
	return false;
}

size_t derp_get_status(const struct derp *d, struct derp_region_status *out, size_t max)
{
	uint64_t now = derp_now();
	size_t k = 0;

	for (size_t i = 0; i < d->n && k < max; i++) {
		const struct derp_conn *c = d->conns[i];

		out[k] = c->st;
		out[k].down = c->down;
		out[k].latency_ns = derp_lat_current(&c->lat, now);
		out[k].best_latency_ns = derp_lat_best(&c->lat, now);
		out[k].rate_limit = c->bucket.rate;
		out[k].rate_burst = c->bucket.burst;
		out[k].home = c->region.id == d->home;
		out[k].up = c->state == ST_READY;
		out[k].state = state_name[c->state];
		k++;
	}
	return k;
}
