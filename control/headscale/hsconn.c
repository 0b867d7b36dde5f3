// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsconn.c - ts2021 connection (TS control/controlhttp/client.go, control/controlbase/conn.go,
 * control/ts2021/conn.go; HS hscontrol/noise.go).
 *
 * Byte flow in:  TCP/TLS -> [HTTP/1.1 101 headers] -> [51-byte Noise response] -> records
 *                -> plaintext -> [early payload] -> nghttp2_session_mem_recv.
 * Byte flow out: nghttp2 send callback -> records of <= 4077 plaintext bytes -> TCP/TLS.
 * Record boundaries carry no meaning (Headscale writes the early payload as three records).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include "hsconn.h"

/* The owner learns it through ops->failed and closes later, from its own timer: never
 * inside an nghttp2 callback. Until then the socket stays out of epoll. */
static void die(struct hs_conn *c, const char *fmt, const char *detail)
{
	if (c->state == HS_CONN_DEAD)
		return;
	snprintf(c->why, sizeof(c->why), fmt, detail ? detail : "");
	c->state = HS_CONN_DEAD;
	hs_tcp_mute(&c->tcp);
	c->ops->failed(c->arg, c->why);
}

/* --- HTTP/2 glue ------------------------------------------------------------------------- */

static ssize_t h2_send(nghttp2_session *s, const uint8_t *data, size_t len, int flags, void *arg)
{
	struct hs_conn *c = arg;
	uint8_t rec[HS_RECORD_MAX];
	size_t done = 0;

	(void)s;
	(void)flags;
	while (done < len) {
		size_t n = len - done < HS_RECORD_PT_MAX ? len - done : HS_RECORD_PT_MAX;
		int r = hs_record_seal(&c->tr.tx, data + done, n, rec);

		if (r < 0 || hs_tcp_write(&c->tcp, rec, (size_t)r))
			return NGHTTP2_ERR_CALLBACK_FAILURE;
		done += n;
	}
	return (ssize_t)len;
}

static int h2_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t namelen,
		     const uint8_t *value, size_t valuelen, uint8_t flags, void *arg)
{
	struct hs_conn *c = arg;
	char v[8];

	(void)s;
	(void)flags;
	if (f->hd.type != NGHTTP2_HEADERS || namelen != 7 || memcmp(name, ":status", 7) || valuelen > 3)
		return 0;
	memcpy(v, value, valuelen);
	v[valuelen] = '\0';
	c->ops->response(c->arg, f->hd.stream_id, atoi(v));
	return 0;
}

static int h2_data(nghttp2_session *s, uint8_t flags, int32_t stream, const uint8_t *data, size_t len, void *arg)
{
	struct hs_conn *c = arg;

	(void)s;
	(void)flags;
	c->ops->data(c->arg, stream, data, len);
	return 0;
}

static int h2_closed(nghttp2_session *s, int32_t stream, uint32_t error, void *arg)
{
	struct hs_conn *c = arg;

	(void)s;
	c->ops->closed(c->arg, stream, error);
	return 0;
}

static int h2_start(struct hs_conn *c)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20 },
	};
	int ret;

	if (nghttp2_session_callbacks_new(&cbs))
		return -ENOMEM;
	nghttp2_session_callbacks_set_send_callback(cbs, h2_send);
	nghttp2_session_callbacks_set_on_header_callback(cbs, h2_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, h2_data);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, h2_closed);
	ret = nghttp2_session_client_new(&c->h2, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (ret)
		return -ENOMEM;
	/* Prior knowledge: nghttp2 writes the connection preface before this SETTINGS frame. */
	if (nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, iv, 2) ||
	    nghttp2_session_set_local_window_size(c->h2, NGHTTP2_FLAG_NONE, 0, 4 << 20))
		return -ENOMEM;
	return 0;
}

static void h2_pump(struct hs_conn *c)
{
	if (c->h2 && c->state != HS_CONN_DEAD && nghttp2_session_send(c->h2))
		die(c, "HTTP/2 send failed%s", NULL);
}

/* Request bodies live on c->bodies until nghttp2 has read them all, or the connection closes. */
struct hs_body {
	struct hs_body *next, **pprev;
	size_t len, off;
	char data[];
};

static void body_unlink(struct hs_body *b)
{
	*b->pprev = b->next;
	if (b->next)
		b->next->pprev = b->pprev;
	free(b);
}

static ssize_t body_read(nghttp2_session *s, int32_t stream, uint8_t *buf, size_t len, uint32_t *flags,
			 nghttp2_data_source *src, void *arg)
{
	struct hs_body *b = src->ptr;
	size_t n = b->len - b->off < len ? b->len - b->off : len;

	(void)s;
	(void)stream;
	(void)arg;
	memcpy(buf, b->data + b->off, n);
	b->off += n;
	if (b->off == b->len) {
		*flags |= NGHTTP2_DATA_FLAG_EOF;
		body_unlink(b);          /* nghttp2 does not call us again after EOF */
	}
	return (ssize_t)n;
}

#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

int32_t hs_conn_request(struct hs_conn *c, const char *method, const char *path, const char *body, size_t len)
{
	nghttp2_nv hdrs[] = {
		NV(":method", method), NV(":scheme", "https"), NV(":authority", c->authority),
		NV(":path", path), NV("content-type", "application/json"),
	};
	nghttp2_data_provider prov;
	struct hs_body *b = NULL;
	int32_t id;

	if (!c->h2_ready || c->state == HS_CONN_DEAD)
		return -ENOTCONN;
	if (body) {
		b = malloc(sizeof(*b) + len);
		if (!b)
			return -ENOMEM;
		b->len = len;
		b->off = 0;
		memcpy(b->data, body, len);
		b->next = c->bodies;
		b->pprev = &c->bodies;
		if (c->bodies)
			c->bodies->pprev = &b->next;
		c->bodies = b;
		prov.source.ptr = b;
		prov.read_callback = body_read;
	}
	id = nghttp2_submit_request(c->h2, NULL, hdrs, body ? 5 : 4, body ? &prov : NULL, NULL);
	if (id < 0) {
		if (b)
			body_unlink(b);
		return -EIO;
	}
	h2_pump(c);
	return id;
}

void hs_conn_cancel(struct hs_conn *c, int32_t stream)
{
	if (c->h2 && c->state != HS_CONN_DEAD) {
		nghttp2_submit_rst_stream(c->h2, NGHTTP2_FLAG_NONE, stream, NGHTTP2_CANCEL);
		h2_pump(c);
	}
}

/* --- Inbound parsing --------------------------------------------------------------------- */

static void plaintext(struct hs_conn *c, const uint8_t *p, size_t len)
{
	const uint8_t *replay;
	size_t rlen;
	ssize_t r;

	if (c->early.state != HS_EARLY_DONE) {
		long used = hs_early_feed(&c->early, p, len);

		if (used < 0)
			return die(c, "early payload too large%s", NULL);
		p += used;
		len -= (size_t)used;
		if (c->early.state != HS_EARLY_DONE)
			return;
		if (hs_early_passthrough(&c->early, &replay, &rlen) &&
		    nghttp2_session_mem_recv(c->h2, replay, rlen) < 0)
			return die(c, "HTTP/2 protocol error%s", NULL);
	}
	if (len && (r = nghttp2_session_mem_recv(c->h2, p, len)) < 0)
		return die(c, "HTTP/2: %s", nghttp2_strerror((int)r));
}

/* Parses as many whole records as @in holds; returns bytes consumed. */
static size_t records(struct hs_conn *c, const uint8_t *in, size_t len)
{
	uint8_t pt[HS_RECORD_MAX];
	size_t used = 0;

	while (c->state == HS_CONN_RECORDS && len - used >= HS_RECORD_HDR) {
		size_t clen = (size_t)in[used + 1] << 8 | in[used + 2];
		int n;

		if (in[used] != HS_MSG_RECORD)
			return die(c, "Noise: unexpected message type%s", NULL), used;
		if (clen > HS_RECORD_MAX - HS_RECORD_HDR)
			return die(c, "Noise: oversized record%s", NULL), used;
		if (len - used < HS_RECORD_HDR + clen)
			break;
		n = hs_record_open(&c->tr.rx, in + used + HS_RECORD_HDR, clen, pt);
		if (n < 0)
			return die(c, "Noise: record does not authenticate%s", NULL), used;
		used += HS_RECORD_HDR + clen;
		if (n)
			plaintext(c, pt, (size_t)n);
	}
	return used;
}

static size_t noise_response(struct hs_conn *c, const uint8_t *in, size_t len)
{
	if (len < 3)
		return 0;
	if (in[0] == HS_MSG_ERROR) {
		size_t n = (size_t)in[1] << 8 | in[2];
		char text[200];

		if (len < 3 + n)
			return 0;
		n = n < sizeof(text) - 1 ? n : sizeof(text) - 1;
		memcpy(text, in + 3, n);
		text[n] = '\0';
		/* Unauthenticated: shown, never acted on. */
		die(c, "Noise error from server (unauthenticated): %s", text);
		return 0;
	}
	if (len < HS_NOISE_RESP_LEN)
		return 0;
	if (hs_noise_finish(&c->hs, in, &c->tr)) {
		die(c, "Noise handshake failed (wrong server key?)%s", NULL);
		return 0;
	}
	if (h2_start(c)) {
		die(c, "HTTP/2 setup failed%s", NULL);
		return 0;
	}
	c->state = HS_CONN_RECORDS;
	c->h2_ready = true;
	c->ops->ready(c->arg);
	return HS_NOISE_RESP_LEN;
}

static const char *find_crlf2(const uint8_t *in, size_t len)
{
	return memmem(in, len, "\r\n\r\n", 4);
}

/* Checks "HTTP/1.1 101" and "Upgrade: tailscale-control-protocol". */
static size_t upgrade_response(struct hs_conn *c, const uint8_t *in, size_t len)
{
	const char *end = find_crlf2(in, len), *line;
	char head[1024];
	size_t hlen;
	bool upgrade = false;

	if (!end) {
		if (len > 16384)
			die(c, "upgrade: response headers too long%s", NULL);
		return 0;
	}
	hlen = (size_t)(end - (const char *)in);
	if (hlen >= sizeof(head))
		hlen = sizeof(head) - 1;
	memcpy(head, in, hlen);
	head[hlen] = '\0';
	if (strncmp(head, "HTTP/1.1 101", 12) && strncmp(head, "HTTP/1.0 101", 12)) {
		char *eol = strstr(head, "\r\n");

		if (eol)
			*eol = '\0';
		die(c, "upgrade refused: %.200s", head);
		return 0;
	}
	for (line = strstr(head, "\r\n"); line; line = strstr(line + 2, "\r\n"))
		if (!strncasecmp(line + 2, "Upgrade:", 8) &&
		    strcasestr(line + 10, "tailscale-control-protocol") == line + 10 + strspn(line + 10, " \t"))
			upgrade = true;
	if (!upgrade) {
		die(c, "upgrade: 101 without Upgrade: tailscale-control-protocol%s", NULL);
		return 0;
	}
	c->state = HS_CONN_NOISE;
	return (size_t)(end - (const char *)in) + 4;
}

static void parse_input(struct hs_conn *c)
{
	size_t used = 0, n;

	do {
		switch (c->state) {
		case HS_CONN_UPGRADE:
			n = upgrade_response(c, c->in + used, c->in_len - used);
			break;
		case HS_CONN_NOISE:
			n = noise_response(c, c->in + used, c->in_len - used);
			break;
		case HS_CONN_RECORDS:
			n = records(c, c->in + used, c->in_len - used);
			break;
		default:
			return;
		}
		used += n;
	} while (n && c->state != HS_CONN_DEAD);
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	h2_pump(c);
	if (c->h2 && c->state != HS_CONN_DEAD && !nghttp2_session_want_read(c->h2) &&
	    !nghttp2_session_want_write(c->h2))
		die(c, "HTTP/2 session ended (GOAWAY)%s", NULL);
}

static void on_readable(struct hs_conn *c)
{
	for (;;) {
		ssize_t n;

		if (c->in_cap - c->in_len < 16384) {
			uint8_t *nb = realloc(c->in, c->in_cap + 65536);

			if (!nb)
				return die(c, "out of memory%s", NULL);
			c->in = nb;
			c->in_cap += 65536;
		}
		n = hs_tcp_read(&c->tcp, c->in + c->in_len, c->in_cap - c->in_len);
		if (n == -EAGAIN)
			break;
		/* Headscale >= 0.25 completes the handshake, then closes if our capver is too old. */
		if (n <= 0 && c->state == HS_CONN_RECORDS && c->early.state == HS_EARLY_HEADER && !c->early.hdr_len)
			return die(c, "closed right after the Noise handshake (capability version refused?)%s", NULL);
		if (n == 0)
			return die(c, "connection closed by the server%s", NULL);
		if (n < 0)
			return die(c, "%s", c->tcp.errtext);
		c->in_len += (size_t)n;
		parse_input(c);
		if (c->state == HS_CONN_DEAD)
			return;
	}
}

static void send_upgrade(struct hs_conn *c)
{
	uint8_t init[HS_NOISE_INIT_LEN];
	char b64[sodium_base64_ENCODED_LEN(HS_NOISE_INIT_LEN, sodium_base64_VARIANT_ORIGINAL)];
	char req[1024];
	int n;

	/* The initiation was computed at open time; it sits in c->in until the socket is up. */
	memcpy(init, c->in, sizeof(init));
	c->in_len = 0;
	sodium_bin2base64(b64, sizeof(b64), init, sizeof(init), sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(req, sizeof(req),
		     "POST /ts2021 HTTP/1.1\r\nHost: %s\r\nUpgrade: tailscale-control-protocol\r\n"
		     "Connection: upgrade\r\nX-Tailscale-Handshake: %s\r\nContent-Length: 0\r\n\r\n",
		     c->authority, b64);
	if (hs_tcp_write(&c->tcp, req, (size_t)n))
		die(c, "%s", c->tcp.errtext);
}

static void on_tcp(void *arg, enum hs_tcp_event ev)
{
	struct hs_conn *c = arg;

	if (c->state == HS_CONN_DEAD)
		return;
	if (ev == HS_TCP_ERROR)
		die(c, "%s", c->tcp.errtext);
	else if (ev == HS_TCP_OPEN)
		send_upgrade(c);
	else
		on_readable(c);
}

int hs_conn_open(struct hs_conn *c, int epfd, const char *host, uint16_t port, SSL_CTX *ctx, uint16_t capver,
		 const uint8_t machine_priv[32], const uint8_t server_pub[32], const struct hs_conn_ops *ops, void *arg)
{
	bool v6 = strchr(host, ':') != NULL, dflt = port == (ctx ? 443 : 80);
	int ret;

	memset(c, 0, sizeof(*c));
	c->ops = ops;
	c->arg = arg;
	snprintf(c->authority, sizeof(c->authority), v6 ? "[%s]" : "%s", host);
	if (!dflt)
		snprintf(c->authority + strlen(c->authority), sizeof(c->authority) - strlen(c->authority), ":%u", port);
	c->in = malloc(65536);
	if (!c->in)
		return -ENOMEM;
	c->in_cap = 65536;
	ret = hs_noise_initiate(&c->hs, capver, machine_priv, server_pub, NULL, c->in);
	if (ret)
		goto fail;
	c->in_len = HS_NOISE_INIT_LEN;
	c->state = HS_CONN_UPGRADE;
	ret = hs_tcp_open(&c->tcp, epfd, host, port, ctx, on_tcp, c);
	if (ret)
		goto fail;
	return 0;
fail:
	sodium_memzero(&c->hs, sizeof(c->hs));
	free(c->in);
	c->in = NULL;
	c->state = HS_CONN_IDLE;
	return ret;
}

void hs_conn_close(struct hs_conn *c)
{
	if (c->h2)
		nghttp2_session_del(c->h2);
	c->h2 = NULL;
	while (c->bodies)
		body_unlink(c->bodies);
	hs_tcp_close(&c->tcp);
	free(c->in);
	c->in = NULL;
	sodium_memzero(&c->hs, sizeof(c->hs));
	sodium_memzero(&c->tr, sizeof(c->tr));
	c->state = HS_CONN_IDLE;
	c->h2_ready = false;
}
