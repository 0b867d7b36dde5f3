// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_derp.c - the DERP client's parsers of what a server sends, without a network: the
 * connection's byte-stream parser (HTTP 101 head, frame headers, ServerKey/ServerInfo handshake,
 * RecvPacket, Ping, Health, oversized frames to skip) and the DERPMap JSON parser.
 *
 * derp_conn.c (and derp.c, for conn_new) are included whole so the static parser runs exactly as
 * in meshgate; the TLS layer is bypassed (bytes are appended to the connection's input buffer and
 * parsed).
 *
 * Input: mode[1] || data.
 *   mode 0: data is DERPMap JSON for derp_map_parse.
 *   mode 1..255: data is the server's byte stream, fed in chunks of (mode % 61) + 1 bytes; odd
 *   modes put a valid 101 + ServerKey + ServerInfo in front (made here with a fixed server key),
 *   so the rest is parsed by a READY connection.
 * Invariants: the parser never reads or writes past its buffers (ASan), a RecvPacket handed up
 * lies inside the input, queued output never exceeds the output buffer.
 */
#include "../../../control/derp/derp.c"
#include "../../../control/derp/derp_conn.c"
#include "../../../control/conf/derpmap.c"
#include "../../../control/conf/atomicfile.c"

static const uint8_t srv_priv[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
static const uint8_t cli_priv[32] = { 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 };
static size_t handed_up;

static void on_recv(void *arg, int region, const uint8_t src[32], const uint8_t *pkt, size_t len)
{
	(void)arg, (void)region, (void)src;
	if (len > DERP_MAX_PACKET)
		abort();
	for (size_t i = 0; i < len; i++)        /* touch every byte: ASan checks the bounds */
		handed_up += pkt[i];
}

/* 101 head, ServerKey, ServerInfo boxed to our client key. Returns the length. */
static size_t valid_prefix(uint8_t *out, size_t cap)
{
	static const char head[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n";
	/* With a send limit, so ServerInfo's JSON parse (server_info_limit) runs on every input. */
	static const char info[] = "{\"version\":2,\"TokenBucketBytesPerSecond\":100000,\"TokenBucketBytesBurst\":20000}";
	uint8_t srv_pub[32], cli_pub[32], nonce[24] = { 7 };
	size_t n = sizeof(head) - 1;

	if (cap < n + 5 + 40 + 5 + 24 + 16 + sizeof(info))
		return 0;
	crypto_scalarmult_base(srv_pub, srv_priv);
	crypto_scalarmult_base(cli_pub, cli_priv);
	memcpy(out, head, n);
	derp_frame_put_header(out + n, DERP_SERVER_KEY, 40);
	memcpy(out + n + 5, DERP_MAGIC, 8);
	memcpy(out + n + 13, srv_pub, 32);
	n += 45;
	derp_frame_put_header(out + n, DERP_SERVER_INFO, (uint32_t)(24 + 16 + sizeof(info) - 1));
	memcpy(out + n + 5, nonce, 24);
	if (crypto_box_easy(out + n + 29, (const uint8_t *)info, sizeof(info) - 1, nonce, cli_pub, srv_priv))
		abort();
	return n + 29 + 16 + sizeof(info) - 1;
}

static void feed_stream(const uint8_t *data, size_t size, unsigned mode)
{
	static uint8_t pre[512];
	struct derp d = { .cfg = { .recv = on_recv, .epfd = -1, .idle_ns = DERP_IDLE_NS } };
	struct derp_region r = { .id = 900, .n_nodes = 1, .nodes = { { .host = "derp.test", .derp_port = 443 } } };
	struct derp_conn *c;
	size_t chunk = mode % 61 + 1, plen = 0, off = 0;

	static uint8_t cli_pub[32];

	if (sodium_is_zero(cli_pub, 32))
		crypto_scalarmult_base(cli_pub, cli_priv);
	memcpy(d.priv, cli_priv, 32);
	memcpy(d.pub, cli_pub, 32);
	d.has_key = true;
	d.home = 900;
	c = conn_new(&d, &r);
	if (!c)
		return;
	c->state = ST_HTTP;
	static size_t pre_len;

	if (!pre_len)
		pre_len = valid_prefix(pre, sizeof(pre));        /* once: the same bytes every time */
	if (mode & 1)
		plen = pre_len;
	while (off < plen + size) {
		size_t k = chunk, room = IN_CAP - c->in_len;

		if (k > plen + size - off)
			k = plen + size - off;
		if (k > room)
			k = room;
		if (!k)
			break;                           /* a full buffer: conn_io fails the conn here */
		for (size_t i = 0; i < k; i++, off++)
			c->in[c->in_len + i] = off < plen ? pre[off] : data[off - plen];
		c->in_len += k;
		if (parse_input(c, 1) || c->out_off + c->out_len > OUT_CAP)
			break;
	}
	if ((mode & 1) && plen && off >= plen && c->state < ST_READY && size == 0)
		abort();                                 /* the valid handshake alone must get READY */
	free(c->in), free(c->out), free(c->pend), free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (sodium_init() < 0)
		abort();
	if (data[0] == 0) {
		struct derp_region out[8];
		json_t *j = json_loadb((const char *)data + 1, size - 1, 0, NULL);

		derp_map_parse(j, out, 8);
		json_decref(j);
		return 0;
	}
	feed_stream(data + 1, size - 1, data[0]);
	return 0;
}
