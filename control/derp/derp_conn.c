// SPDX-License-Identifier: GPL-2.0-only
/*
 * derp_conn.c - one DERP connection's state and primitives, the bottom of the client: the output
 * queue, epoll interest, close and fail (backoff, next node), and the pump that moves bytes
 * through TLS and parses what arrives, from the HTTP 101 through the ServerKey/ClientInfo/
 * ServerInfo handshake to READY and the frames after it. Dialing (derp_dial.c), the home choice
 * (derp_homing.c) and the API (derp.c) sit above. Control thread only.
 *
 * I/O: every byte goes through one output buffer, written when epoll says the socket is writable
 * (level-triggered: EPOLLOUT only while bytes wait), so a burst of SendPackets becomes a few TLS
 * records. Input is read into a buffer and parsed frame by frame; frames larger than the buffer
 * (only a server's giant ServerInfo or Health could be) are skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include <jansson.h>
#include "derp_conn.h"
#include "evsource.h"
#include "hsresolve.h"

#define CLIENT_INFO_JSON "{\"version\":2,\"CanAckPings\":true}"

/* --- helpers ------------------------------------------------------------------------- */

struct derp_conn *derp_conn_find(const struct derp *d, int region)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->conns[i]->region.id == region)
			return d->conns[i];
	return NULL;
}

const struct derp_node *derp_conn_node(const struct derp_conn *c)
{
	return &c->region.nodes[c->node_idx % c->region.n_nodes];
}

void derp_conn_set_events(struct derp_conn *c)
{
	uint32_t ev = EPOLLIN;

	if (c->state == ST_TCP || c->tls_wants_write || (c->state >= ST_HTTP && c->out_len))
		ev |= EPOLLOUT;
	if (ev != c->ep_events && c->fd >= 0) {
		evsource_mod(c->d->cfg.epfd, c->fd, ev, &c->src);
		c->ep_events = ev;
	}
}

void derp_conn_fail(struct derp_conn *c, const char *why, uint64_t now)
{
	const struct derp_node *n = derp_conn_node(c);

	fprintf(stderr, "meshgate: derp: region %d (%s port %u): %s; retrying in %llu ms\n",
		c->region.id, n->host, n->derp_port, why, (unsigned long long)(c->backoff / 1000000));
	derp_conn_close(c);
	c->fails++;
	c->next_try = now + c->backoff + randombytes_uniform((uint32_t)(c->backoff / 4 / 1000)) * 1000ull;
	c->backoff = c->backoff * 2 > DERP_BACKOFF_MAX_NS ? DERP_BACKOFF_MAX_NS : c->backoff * 2;
	c->node_idx++;                   /* fall back to the region's next node */
	if (c->restart_at) {             /* the server said when to come back: same node, then */
		c->next_try = c->restart_at;
		c->backoff = DERP_BACKOFF_MIN_NS;
		c->node_idx--;
		c->restart_at = 0;
	}
}

void derp_conn_set_state(struct derp_conn *c, enum conn_state s, uint64_t now)
{
	c->state = s;
	c->state_since = now;
}

/* Appends @len bytes to the output queue; false if it does not fit (caller counts a drop). */
bool derp_conn_put(struct derp_conn *c, const void *p, size_t len)
{
	if (c->out_off && c->out_off + c->out_len + len > OUT_CAP) {
		memmove(c->out, c->out + c->out_off, c->out_len);
		c->out_off = 0;
	}
	if (c->out_off + c->out_len + len > OUT_CAP)
		return false;
	memcpy(c->out + c->out_off + c->out_len, p, len);
	c->out_len += len;
	return true;
}

/* --- frames in ----------------------------------------------------------------------- */

/* ServerInfo's optional TokenBucketBytesPerSecond/Burst: our send limit there. */
static void server_info_limit(struct derp_conn *c, const char *json, size_t len, uint64_t now)
{
	json_t *o = json_loadb(json, len, 0, NULL);
	json_t *r = json_object_get(o, "TokenBucketBytesPerSecond");
	json_t *b = json_object_get(o, "TokenBucketBytesBurst");
	json_int_t rate = json_is_integer(r) ? json_integer_value(r) : 0;
	json_int_t burst = json_is_integer(b) ? json_integer_value(b) : 0;

	if (rate < 0 || burst < 0)
		rate = burst = 0;
	derp_bucket_set(&c->bucket, (uint64_t)rate, (uint64_t)burst, now);
	if (rate)
		fprintf(stderr, "meshgate: derp: region %d limits what we send to %lld B/s, burst %lld B\n",
			c->region.id, (long long)rate, (long long)burst);
	json_decref(o);
}

/*
 * Restarting: reconnect-in ms, then try-for ms. Come back when told, and do not fail
 * over while the server said it would be back; both capped so a confused server cannot park us.
 */
static void on_restarting(struct derp_conn *c, const uint8_t *p, uint32_t len, uint64_t now)
{
	uint32_t in_ms = 0, for_ms = 0;

	if (len >= 8) {
		in_ms = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		for_ms = (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
	}
	if (in_ms > 10000)
		in_ms = 10000;
	if (for_ms > 50000)
		for_ms = 50000;
	c->restart_at = now + DERP_NS(in_ms) + 1;
	c->grace_until = now + DERP_NS(in_ms) + DERP_NS(for_ms);
}

/* SendPacket frame @f (header || key || packet) through the server's token bucket. */
static int put_limited(struct derp_conn *c, const uint8_t *f, size_t len, uint64_t now)
{
	if (!derp_bucket_take(&c->bucket, len, now)) {
		c->st.rate_limited++;
		return -EDQUOT;
	}
	if (!derp_conn_put(c, f, len)) {
		c->st.tx_drops++;
		return -ENOBUFS;
	}
	c->st.tx_packets++;
	return 0;
}

/* Frames queued while connecting go out now, each through the bucket the server just set. */
static void flush_pending(struct derp_conn *c, uint64_t now)
{
	for (size_t off = 0; off + DERP_HDR_LEN <= c->pend_len;) {
		uint8_t type;
		uint32_t len;

		if (derp_frame_get_header(c->pend + off, &type, &len) || off + DERP_HDR_LEN + len > c->pend_len)
			break;               /* cannot happen: derp_send wrote them whole */
		put_limited(c, c->pend + off, DERP_HDR_LEN + len, now);
		off += DERP_HDR_LEN + len;
	}
	c->pend_len = 0;
}

static void became_ready(struct derp_conn *c, uint64_t now)
{
	uint8_t np[DERP_HDR_LEN + 1];

	derp_conn_set_state(c, ST_READY, now);
	c->backoff = DERP_BACKOFF_MIN_NS;
	c->node_idx = c->node_idx % c->region.n_nodes;
	c->fails = 0;
	c->unready_since = 0;
	c->grace_until = 0;
	fprintf(stderr, "meshgate: derp: region %d connected%s%s\n", c->region.id,
		c->region.id == c->d->home ? " (home)" : "", c->down ? " (back after fail-over)" : "");
	if (c->down)
		c->last_used = now;      /* kept 60 s like an on-demand region unless it is chosen again */
	c->down = false;
	/* Brief §6.3 step 4: tell the home region's server this is where peers find us. */
	if (c->region.id == c->d->home)
		derp_conn_put(c, np, (size_t)derp_build_note_preferred(np, true));
	flush_pending(c, now);
}

static int on_frame(struct derp_conn *c, uint8_t type, const uint8_t *p, uint32_t len, uint64_t now)
{
	uint8_t buf[DERP_HDR_LEN + DERP_KEY_LEN + DERP_NONCE_LEN + 16 + sizeof(CLIENT_INFO_JSON)];
	const uint8_t *src, *pkt;
	char json[512];
	size_t plen;
	int n;

	if (c->state == ST_KEY) {
		if (type != DERP_SERVER_KEY || derp_parse_server_key(p, len, c->server_pub))
			return -EPROTO;
		n = derp_build_client_info(buf, sizeof(buf), c->d->pub, c->d->priv, c->server_pub, NULL,
					   CLIENT_INFO_JSON, strlen(CLIENT_INFO_JSON));
		if (n < 0 || !derp_conn_put(c, buf, (size_t)n))
			return -EPROTO;
		derp_conn_set_state(c, ST_INFO, now);
		return 0;
	}
	if (c->state == ST_INFO) {
		if (type != DERP_SERVER_INFO)
			return 0;                /* unknown frames are skipped, as derp_client.go does */
		/* A box that opens proves the server holds the key it announced. */
		n = derp_open_server_info(json, sizeof(json), p, len, c->d->priv, c->server_pub);
		if (n < 0)
			return -EBADMSG;
		server_info_limit(c, json, (size_t)n, now);
		became_ready(c, now);
		return 0;
	}
	switch (type) {
	case DERP_RECV_PACKET:
		if (derp_parse_recv_packet(p, len, &src, &pkt, &plen))
			return 0;
		c->st.rx_packets++;
		c->d->cfg.recv(c->d->cfg.arg, c->region.id, src, pkt, plen);
		return 0;
	case DERP_PING:
		if (len >= 8) {
			uint8_t pong[DERP_HDR_LEN + 8];

			derp_conn_put(c, pong, (size_t)derp_build_pong(pong, p));
		}
		return 0;
	case DERP_PEER_GONE:
		c->st.peer_gone++;
		return 0;
	case DERP_HEALTH:
		if (len)
			fprintf(stderr, "meshgate: derp: region %d health: %.*s\n", c->region.id,
				(int)(len > 200 ? 200 : len), (const char *)p);
		return 0;
	case DERP_RESTARTING:
		on_restarting(c, p, len, now);
		return -ECONNRESET;
	default:
		return 0;                        /* KeepAlive (liveness only), Pong, unknown */
	}
}

static int parse_http(struct derp_conn *c, uint64_t now)
{
	uint8_t *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	size_t hl;

	if (!end)
		return c->in_len >= 8192 ? -EPROTO : 0;
	hl = (size_t)(end - c->in) + 4;
	if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 101", 12)) {
		fprintf(stderr, "meshgate: derp: region %d: upgrade refused: %.*s\n", c->region.id,
			(int)(memchr(c->in, '\r', hl) ? (uint8_t *)memchr(c->in, '\r', hl) - c->in : 0), c->in);
		return -EPROTO;
	}
	memmove(c->in, c->in + hl, c->in_len - hl);
	c->in_len -= hl;
	derp_conn_set_state(c, ST_KEY, now);
	return 0;
}

static int parse_input(struct derp_conn *c, uint64_t now)
{
	size_t off = 0;
	int ret = 0;

	if (c->state == ST_HTTP && (ret = parse_http(c, now)))
		return ret;
	if (c->state == ST_HTTP)
		return 0;
	while (c->state >= ST_KEY) {
		uint8_t type;
		uint32_t len;

		if (c->skip) {
			uint32_t k = c->in_len - off < c->skip ? (uint32_t)(c->in_len - off) : c->skip;

			off += k;
			c->skip -= k;
			if (c->skip)
				break;
		}
		if (c->in_len - off < DERP_HDR_LEN)
			break;
		if (derp_frame_get_header(c->in + off, &type, &len)) {
			ret = -EMSGSIZE;
			break;
		}
		if (len > IN_CAP - DERP_HDR_LEN) {
			off += DERP_HDR_LEN;
			c->skip = len;
			continue;
		}
		if (c->in_len - off < DERP_HDR_LEN + len)
			break;
		ret = on_frame(c, type, c->in + off + DERP_HDR_LEN, len, now);
		off += DERP_HDR_LEN + len;
		if (ret)
			break;
	}
	if (off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return ret;
}

/* --- the pump ------------------------------------------------------------------------ */

/* TLS read/write until both would block. Runs for HTTP and later states. */
void derp_conn_io(struct derp_conn *c, uint64_t now)
{
	int n, err;

	c->tls_wants_write = false;
	while (c->out_len) {
		n = SSL_write(c->ssl, c->out + c->out_off, (int)(c->out_len > 65536 ? 65536 : c->out_len));
		if (n <= 0) {
			err = SSL_get_error(c->ssl, n);
			if (err == SSL_ERROR_WANT_WRITE)
				break;
			if (err == SSL_ERROR_WANT_READ)
				break;
			return derp_conn_fail(c, "write failed", now);
		}
		c->out_off += (size_t)n;
		c->out_len -= (size_t)n;
		if (!c->out_len)
			c->out_off = 0;
	}
	for (;;) {
		int ret;

		if (c->in_len == IN_CAP)
			return derp_conn_fail(c, "input buffer full", now);
		n = SSL_read(c->ssl, c->in + c->in_len, (int)(IN_CAP - c->in_len));
		if (n <= 0) {
			err = SSL_get_error(c->ssl, n);
			if (err == SSL_ERROR_WANT_READ)
				break;
			if (err == SSL_ERROR_WANT_WRITE) {
				c->tls_wants_write = true;
				break;
			}
			return derp_conn_fail(c, err == SSL_ERROR_ZERO_RETURN ? "closed by server" : "read failed", now);
		}
		c->in_len += (size_t)n;
		c->last_rx = now;
		ret = parse_input(c, now);
		if (ret)
			return derp_conn_fail(c, ret == -ECONNRESET ? "server restarting" : "protocol error", now);
	}
	/* Frames queued while parsing (ClientInfo, Pong, NotePreferred, pending packets). */
	if (c->out_len && !c->tls_wants_write) {
		n = SSL_write(c->ssl, c->out + c->out_off, (int)(c->out_len > 65536 ? 65536 : c->out_len));
		if (n > 0) {
			c->out_off += (size_t)n;
			c->out_len -= (size_t)n;
			if (!c->out_len)
				c->out_off = 0;
		} else if (SSL_get_error(c->ssl, n) != SSL_ERROR_WANT_WRITE &&
			   SSL_get_error(c->ssl, n) != SSL_ERROR_WANT_READ) {
			return derp_conn_fail(c, "write failed", now);
		}
	}
	derp_conn_set_events(c);
}

void derp_conn_close(struct derp_conn *c)
{
	hs_resolve_free(c->res);
	c->res = NULL;
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		evsource_del(c->d->cfg.epfd, c->fd);
		close(c->fd);
		c->fd = -1;
	}
	c->ep_events = 0;
	c->tls_wants_write = false;
	c->in_len = c->out_len = c->out_off = c->pend_len = 0;
	c->skip = 0;
	c->probe_at = 0;
	c->state = ST_IDLE;
}
