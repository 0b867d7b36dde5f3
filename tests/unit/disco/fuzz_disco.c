// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_disco.c - libFuzzer target for everything the disco room parses from the network:
 * STUN responses, disco packets (header, box) and inner disco messages, through the pure
 * parsers and through the control-side state machine. The first byte picks the path; each
 * path checks an invariant and aborts when it breaks:
 *   0  stun_parse_response: a parsed address has a real family
 *   1  disco_parse -> disco_build -> disco_parse gives the same message (round trip)
 *   2  the input as plaintext, sealed by a known peer, into disco_receive / _derp + ticks
 *   3  the input as a raw datagram into disco_receive and stun_receive
 */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "dataplane.h"
#include "disco.h"
#include "stun.h"

static bool fz_send_udp(void *arg, const struct mg_endpoint *dst, const void *msg, uint16_t len)
{
	(void)arg; (void)dst; (void)msg; (void)len;
	return true;
}

static bool derp_send(void *arg, const uint8_t node_key[32], int region, const void *pkt, uint16_t len)
{
	(void)arg; (void)node_key; (void)region; (void)pkt; (void)len;
	return true;
}

static struct disco *fz_disco;
static struct stun *fz_stun;
static uint8_t fz_peer_shared[32], fz_peer_pub[32], fz_node[32] = { 1 };
static uint64_t fz_now = 1000000000ull;

static void fz_init(void)
{
	uint8_t our_priv[32] = { 7 }, our_pub[32], peer_priv[32] = { 9 };
	struct mg_endpoint ep = { .family = AF_INET, .port = 1, .addr = { 192, 0, 2, 1 } };

	if (fz_disco || sodium_init() < 0)
		return;
	crypto_scalarmult_base(our_pub, our_priv);
	crypto_scalarmult_base(fz_peer_pub, peer_priv);
	if (crypto_box_beforenm(fz_peer_shared, our_pub, peer_priv) ||
	    disco_init(&fz_disco, &(struct disco_ops){ .send_udp = fz_send_udp }, our_priv) ||
	    stun_init(&fz_stun, fz_send_udp, NULL) ||
	    disco_peer_set(fz_disco, fz_node, fz_peer_pub, &ep, 1))
		abort();
	disco_set_derp(fz_disco, derp_send, NULL);
}

static bool same_msg(const struct disco_msg *a, const struct disco_msg *b)
{
	struct disco_msg x = *a, y = *b;

	/* Compare the fields that count for the type; the rest is zero in both. */
	x.n_eps = x.type == DISCO_CALL_ME_MAYBE ? x.n_eps : 0;
	y.n_eps = y.type == DISCO_CALL_ME_MAYBE ? y.n_eps : 0;
	return x.type == y.type && !memcmp(x.txid, y.txid, 12) && x.has_node_key == y.has_node_key &&
	       !memcmp(x.node_key, y.node_key, 32) && x.padding == y.padding &&
	       !memcmp(&x.src, &y.src, sizeof(x.src)) && x.n_eps == y.n_eps &&
	       !memcmp(x.eps, y.eps, x.n_eps * sizeof(x.eps[0]));
}

static void fz_roundtrip(const uint8_t *p, size_t n)
{
	struct disco_msg m, back;
	uint8_t out[4096];
	int len;

	if (disco_parse(&m, p, n))
		return;
	if (m.type == DISCO_CALL_ME_MAYBE && m.version)
		m.n_eps = 0;
	len = disco_build(out, sizeof(out), &m);
	if (len < 0 || disco_parse(&back, out, (size_t)len) || !same_msg(&m, &back))
		abort();
}

static void fz_sealed(const uint8_t *p, size_t n)
{
	struct punt_msg pm = { .src = { .family = AF_INET, .port = 2, .addr = { 198, 51, 100, 2 } } };

	if (n > sizeof(pm.data) - DISCO_HDR_LEN - DISCO_TAG_LEN)
		return;
	memcpy(pm.data, DISCO_MAGIC, DISCO_MAGIC_LEN);
	memcpy(pm.data + DISCO_MAGIC_LEN, fz_peer_pub, 32);
	memset(pm.data + 38, 0x42, 24);
	crypto_box_easy_afternm(pm.data + DISCO_HDR_LEN, p, n, pm.data + 38, fz_peer_shared);
	pm.len = (uint16_t)(DISCO_HDR_LEN + DISCO_TAG_LEN + n);
	disco_receive(fz_disco, &pm, fz_now);
	disco_receive_derp(fz_disco, fz_node, 3, pm.data, pm.len, fz_now);
	disco_peer_active(fz_disco, fz_node, fz_now);
	fz_now += 700000000ull;
	disco_tick(fz_disco, fz_now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct punt_msg pm = { .src = { .family = AF_INET6, .port = 3, .addr = { 0x20, 0x01 } } };
	struct mg_endpoint ep;
	uint8_t txid[12];

	fz_init();
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		if (!stun_parse_response(data + 1, size - 1, txid, &ep) &&
		    ep.family != AF_INET && ep.family != AF_INET6)
			abort();
		break;
	case 1:
		fz_roundtrip(data + 1, size - 1);
		break;
	case 2:
		fz_sealed(data + 1, size - 1);
		break;
	case 3:
		pm.len = (uint16_t)(size - 1 < sizeof(pm.data) ? size - 1 : sizeof(pm.data));
		memcpy(pm.data, data + 1, pm.len);
		disco_receive(fz_disco, &pm, fz_now);
		stun_receive(fz_stun, pm.data, pm.len, fz_now);
		break;
	}
	return 0;
}
