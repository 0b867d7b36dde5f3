// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_disco.c - disco known answers and behaviour:
 *   1. inner encodings: the TS:disco/disco_test.go TestMarshalAndParse vectors, both directions;
 *   2. malformed / forward-compatible inputs;
 *   3. keys: tailscale's test X25519 pair; a packet sealed by PyNaCl (independent framing) opens;
 *   4. the control-side state machine, driven directly, against a peer built here from raw
 *      libsodium calls: Ping -> Pong (TxID, observed source), unknown key / bad box dropped,
 *      our pings and trust on Pong, heartbeats, timeouts, CallMeMaybe via DERP only.
 */
#include <errno.h>
#include <sodium.h>
#include "t.h"
#include "disco.h"

struct enc_kat {
	const char *name, *hex;
	struct disco_msg m;
};

#define TXID { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }
#define NK { [1] = 1, [2] = 2, [30] = 30, [31] = 31 }

static const struct enc_kat enc_kats[] = {
	{ "ping", "01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c",
	  { .type = DISCO_PING, .txid = TXID } },
	{ "ping_with_nodekey_src", "01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 00 01 02 00 00 00 00 00 00"
	  " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 1e 1f",
	  { .type = DISCO_PING, .txid = TXID, .has_node_key = true, .node_key = NK } },
	{ "ping_with_padding", "01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 00 00 00",
	  { .type = DISCO_PING, .txid = TXID, .padding = 3 } },
	{ "ping_with_padding_and_nodekey_src", "01 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 00 01 02 00 00 00"
	  " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 1e 1f 00 00 00",
	  { .type = DISCO_PING, .txid = TXID, .has_node_key = true, .node_key = NK, .padding = 3 } },
	{ "pong", "02 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 00 00 00 00 00 00 00 00 00 00 ff ff 02 03 04 05"
	  " 04 d2", { .type = DISCO_PONG, .txid = TXID,
		       .src = { .family = AF_INET, .port = 1234, .addr = { 2, 3, 4, 5 } } } },
	{ "pongv6", "02 00 01 02 03 04 05 06 07 08 09 0a 0b 0c fe d0 00 00 00 00 00 00 00 00 00 00 00 00"
	  " 00 12 1a 0a", { .type = DISCO_PONG, .txid = TXID,
			    .src = { .family = AF_INET6, .port = 6666, .addr = { 0xfe, 0xd0, [15] = 0x12 } } } },
	{ "call_me_maybe", "03 00", { .type = DISCO_CALL_ME_MAYBE } },
	{ "call_me_maybe_endpoints", "03 00 00 00 00 00 00 00 00 00 00 00 ff ff 01 02 03 04 02 37 20 01"
	  " 00 00 00 00 00 00 00 00 00 00 00 00 34 56 03 15",
	  { .type = DISCO_CALL_ME_MAYBE, .n_eps = 2, .eps = {
		{ .family = AF_INET, .port = 567, .addr = { 1, 2, 3, 4 } },
		{ .family = AF_INET6, .port = 789, .addr = { 0x20, 0x01, [14] = 0x34, [15] = 0x56 } } } } },
};

static bool msg_eq(const struct disco_msg *a, const struct disco_msg *b)
{
	if (a->type != b->type || a->version != b->version)
		return false;
	switch (a->type) {
	case DISCO_PING:
		return !memcmp(a->txid, b->txid, 12) && a->has_node_key == b->has_node_key &&
		       !memcmp(a->node_key, b->node_key, 32) && a->padding == b->padding;
	case DISCO_PONG:
		return !memcmp(a->txid, b->txid, 12) && t_ep_eq(&a->src, &b->src);
	default:
		if (a->n_eps != b->n_eps)
			return false;
		for (size_t i = 0; i < a->n_eps; i++)
			if (!t_ep_eq(&a->eps[i], &b->eps[i]))
				return false;
		return true;
	}
}

static void test_encodings(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(enc_kats); i++) {
		const struct enc_kat *k = &enc_kats[i];
		uint8_t want[128], got[128];
		struct disco_msg back;
		size_t n = t_unhex(want, sizeof(want), k->hex);
		int len = disco_build(got, sizeof(got), &k->m);

		CHECK(len == (int)n);
		CHECK(len == (int)n && !memcmp(got, want, n));
		CHECK(disco_build(got, n - 1, &k->m) == -ENOSPC);
		CHECK(disco_parse(&back, want, n) == 0);
		if (!msg_eq(&back, &k->m))
			fprintf(stderr, "case %s: parse differs\n", k->name);
		CHECK(msg_eq(&back, &k->m));
	}
}

static void test_malformed(void)
{
	uint8_t p[64] = { 0 };
	struct disco_msg m;

	CHECK(disco_parse(&m, p, 0) == -EINVAL);
	p[0] = DISCO_PING;
	CHECK(disco_parse(&m, p, 13) == -EINVAL);              /* TxID cut short */
	CHECK(disco_parse(&m, p, 14) == 0 && !m.has_node_key);
	p[0] = DISCO_PONG;
	CHECK(disco_parse(&m, p, 31) == -EINVAL);
	CHECK(disco_parse(&m, p, 32) == 0);
	CHECK(disco_parse(&m, p, 40) == 0);                    /* trailing bytes ignored */
	p[0] = DISCO_CALL_ME_MAYBE;
	p[1] = 0;
	CHECK(disco_parse(&m, p, 2 + 18 * 2) == 0 && m.n_eps == 2);
	CHECK(disco_parse(&m, p, 2 + 18 * 2 + 1) == 0 && m.n_eps == 0);   /* ragged: none */
	p[1] = 1;
	CHECK(disco_parse(&m, p, 2 + 18 * 2) == 0 && m.n_eps == 0);       /* v != 0: none */
	for (int t = 4; t <= 9; t++) {                                      /* peer relay */
		p[0] = (uint8_t)t;
		CHECK(disco_parse(&m, p, 40) == -EPROTONOSUPPORT);
	}
	p[0] = 0;
	CHECK(disco_parse(&m, p, 40) == -EPROTONOSUPPORT);
	struct disco_msg bad = { .type = 7 };
	CHECK(disco_build(p, sizeof(p), &bad) == -EINVAL);
	CHECK(!disco_looks_like((const uint8_t *)"TS\xf0\x9f\x92\xac", 6));
}

/* Keys of the test: "us" and a peer; the PyNaCl packet below is peer -> us. */
static uint8_t our_priv[32], our_pub[32], peer_priv[32], peer_pub[32], peer_shared[32];

static void keys_init(void)
{
	for (int i = 0; i < 32; i++) {
		our_priv[i] = (uint8_t)(i + 1);
		peer_priv[i] = (uint8_t)(i + 33);
	}
	crypto_scalarmult_base(our_pub, our_priv);
	crypto_scalarmult_base(peer_pub, peer_priv);
	CHECK(crypto_box_beforenm(peer_shared, our_pub, peer_priv) == 0);
}

static void test_keys_and_box(void)
{
	uint8_t priv[32], want[32], pub[32], pkt[128], plain[128], shared[32], nonce[24];
	struct disco *d;
	struct disco_msg m;
	size_t n;

	/* (TS:types/key/disco_test.go): private -> public. */
	t_unhex(priv, 32, "40ab1b58e9076c7a4d9d07291f5edf9d1aa017eb949624ba683317f48a640369");
	t_unhex(want, 32, "50d20b455ecf12bc453f83c2cfdb2a24925d06cf2598dcaa54e91af82ce9f765");
	CHECK(disco_init(&d, &t_disco_ops, priv) == 0);
	disco_public_key(d, pub);
	CHECK_MEM(pub, want, 32);
	disco_uninit(d);

	t_unhex(want, 32, "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c");
	CHECK_MEM(our_pub, want, 32);
	/* Sealed by tests/disco/gen_kat.py (PyNaCl Box(peer, us).encrypt, nonce 100..123). */
	n = t_unhex(pkt, sizeof(pkt), "5453f09f92ac5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4"
		    "a1a768f1a67b6465666768696a6b6c6d6e6f707172737475767778797a7bbb1233b61cbb8435860ad1"
		    "94366864b6ff35aef06edda4c6844ccfc2693e");
	CHECK(n == 92 && disco_looks_like(pkt, n));
	CHECK_MEM(pkt + 6, peer_pub, 32);
	CHECK(crypto_box_beforenm(shared, peer_pub, our_priv) == 0);
	CHECK(disco_open(plain, sizeof(plain), shared, pkt, n) == 14);
	CHECK(disco_parse(&m, plain, 14) == 0 && m.type == DISCO_PING && m.txid[11] == 12);
	/* Our sealing of the same plaintext with the same nonce gives the same bytes. */
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(100 + i);
	uint8_t again[128];
	CHECK(disco_seal(again, sizeof(again), peer_pub, peer_shared, nonce, plain, 14) == 92);
	CHECK_MEM(again, pkt, 92);
	CHECK(disco_seal(again, 91, peer_pub, peer_shared, nonce, plain, 14) == -ENOSPC);
	/* Every single-bit flip in nonce, tag or ciphertext is refused. */
	for (size_t i = 38; i < n; i++) {
		pkt[i] ^= 0x10;
		CHECK(disco_open(plain, sizeof(plain), shared, pkt, n) == -EBADMSG);
		pkt[i] ^= 0x10;
	}
	CHECK(disco_open(plain, sizeof(plain), shared, pkt, 77) == -EINVAL);
}

/* --- the state machine, with a peer made of raw libsodium calls ------------------------ */

static uint8_t peer_node[32] = { 0xaa, [31] = 0x01 }, other_node[32] = { 0xbb };
static struct mg_endpoint path_seen;
static unsigned path_calls;
static uint8_t derp_pkt[512], derp_to[32];
static uint16_t derp_len;
static unsigned derp_calls;

static void on_path(void *arg, const uint8_t node_key[32], const struct mg_endpoint *ep)
{
	(void)arg;
	CHECK_MEM(node_key, peer_node, 32);
	path_seen = *ep;
	path_calls++;
}

static int derp_region;                /* 0 = the peer's home */

static bool derp_send(void *arg, const uint8_t node_key[32], int region, const void *pkt, uint16_t len)
{
	(void)arg;
	derp_region = region;
	memcpy(derp_to, node_key, 32);
	memcpy(derp_pkt, pkt, len);
	derp_len = len;
	derp_calls++;
	return true;
}

/* Peer -> us: magic || peer key || nonce || box(plain). */
static uint16_t peer_seal(uint8_t *out, const uint8_t *plain, size_t plen, const uint8_t *key)
{
	memcpy(out, DISCO_MAGIC, 6);
	memcpy(out + 6, peer_pub, 32);
	randombytes_buf(out + 38, 24);
	crypto_box_easy_afternm(out + 62, plain, plen, out + 38, key);
	return (uint16_t)(62 + 16 + plen);
}

/* Us -> peer: opens and parses; false if it does not open. */
static bool peer_open(struct disco_msg *m, const uint8_t *pkt, size_t len)
{
	uint8_t plain[512];

	if (len < 78 || memcmp(pkt, DISCO_MAGIC, 6) || memcmp(pkt + 6, our_pub, 32))
		return false;
	if (crypto_box_open_easy_afternm(plain, pkt + 62, len - 62, pkt + 38, peer_shared))
		return false;
	return disco_parse(m, plain, len - 78) == 0;
}

static void deliver(struct disco *d, const struct disco_msg *msg, const struct mg_endpoint *src,
		    uint64_t now)
{
	struct punt_msg pm = { .kind = 0, .src = *src };
	uint8_t plain[256];
	int n = disco_build(plain, sizeof(plain), msg);

	CHECK(n > 0);
	pm.len = peer_seal(pm.data, plain, (size_t)n, peer_shared);
	disco_receive(d, &pm, now);
}

static void test_answer_ping(struct disco *d, uint64_t now)
{
	struct mg_endpoint src = t_ep4(198, 51, 100, 2, 41641);
	struct disco_msg ping = { .type = DISCO_PING, .txid = TXID, .has_node_key = true }, pong;
	struct disco_stats st;

	memcpy(ping.node_key, peer_node, 32);
	t_nsent = 0;
	deliver(d, &ping, &src, now);
	CHECK(t_nsent == 2);                                 /* the Pong, then our ping back */
	CHECK(t_ep_eq(&t_sent[0].dst, &src));
	CHECK(t_sent[0].len == 110);                         /* a Pong is 110 bytes */
	CHECK(peer_open(&pong, t_sent[0].data, t_sent[0].len));
	CHECK(pong.type == DISCO_PONG && !memcmp(pong.txid, ping.txid, 12));
	CHECK(t_ep_eq(&pong.src, &src));

	/* IPv6 source: the Pong carries it verbatim. */
	struct mg_endpoint src6 = { .family = AF_INET6, .port = 7, .addr = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 } };
	t_nsent = 0;
	deliver(d, &ping, &src6, now);
	CHECK(t_nsent == 2 && peer_open(&pong, t_sent[0].data, t_sent[0].len) && t_ep_eq(&pong.src, &src6));

	/* Tampered: no answer. A stranger's key: no answer. */
	struct punt_msg pm = { .src = src };
	uint8_t plain[64];
	int n = disco_build(plain, sizeof(plain), &ping);
	pm.len = peer_seal(pm.data, plain, (size_t)n, peer_shared);
	pm.data[pm.len - 1] ^= 1;
	t_nsent = 0;
	disco_receive(d, &pm, now);
	pm.data[pm.len - 1] ^= 1;
	pm.data[6] ^= 1;                                     /* unknown sender key */
	disco_receive(d, &pm, now);
	pm.len = 40;                                         /* header only */
	disco_receive(d, &pm, now);
	CHECK(t_nsent == 0);
	disco_get_stats(d, &st);
	CHECK(st.rx_ping == 2 && st.tx_pong == 2 && st.rx_bad_box == 1 && st.rx_unknown_key == 1 &&
	      st.rx_bad_msg == 1);
	/* The UDP source of a ping is now a candidate: we ping it when active (below). */
}

/* Finds our ping to @dst in the captured sends. */
static bool find_ping(const struct mg_endpoint *dst, struct disco_msg *out)
{
	for (unsigned i = 0; i < t_nsent; i++)
		if (t_ep_eq(&t_sent[i].dst, dst) && peer_open(out, t_sent[i].data, t_sent[i].len) &&
		    out->type == DISCO_PING)
			return true;
	return false;
}

static void pong_back(struct disco *d, const struct disco_msg *ping, const struct mg_endpoint *from,
		      uint64_t now)
{
	struct disco_msg pong = { .type = DISCO_PONG, .src = t_ep4(192, 0, 2, 1, 41641) };

	memcpy(pong.txid, ping->txid, 12);
	deliver(d, &pong, from, now);
}

static void test_our_pings(struct disco *d, uint64_t now)
{
	struct mg_endpoint a = t_ep4(198, 51, 100, 2, 41641), b = t_ep4(203, 0, 113, 9, 1000), got;
	struct mg_endpoint self = t_ep4(192, 0, 2, 1, 41641);
	struct disco_msg pa, pb, cmm;
	struct disco_stats st;
	uint8_t zero_node[32] = { 0 };

	/* Idle peer: nothing goes out. */
	t_nsent = 0;
	disco_tick(d, now);
	CHECK(t_nsent == 0);
	CHECK(!disco_peer_path(d, peer_node, now, &got));
	CHECK(!disco_peer_last_path(d, peer_node, &got));       /* nothing ever answered */

	/* Active, no trusted path: ping every candidate (netmap b, ping-learned a and the IPv6
	 * source) and send a CallMeMaybe with our endpoints through DERP. */
	disco_set_self_endpoints(d, &self, 1);
	disco_peer_active(d, peer_node, now);
	derp_calls = 0;
	disco_tick(d, now);
	CHECK(t_nsent == 3);
	CHECK(find_ping(&a, &pa) && find_ping(&b, &pb));
	CHECK(memcmp(pa.txid, pb.txid, 12) != 0);
	CHECK(derp_calls == 1 && !memcmp(derp_to, peer_node, 32) && derp_region == 0);   /* its home */
	CHECK(peer_open(&cmm, derp_pkt, derp_len) && cmm.type == DISCO_CALL_ME_MAYBE &&
	      cmm.n_eps == 1 && t_ep_eq(&cmm.eps[0], &self));
	CHECK(!pa.has_node_key);                  /* no device identity in this test */

	/* Within 5 s nothing is pinged again. */
	t_nsent = 0;
	disco_tick(d, now + DISCO_NS(4000));
	CHECK(t_nsent == 0);

	/* A pong with a TxID we never sent changes nothing. */
	struct disco_msg fake = pa;
	fake.txid[0] ^= 0xff;
	path_calls = 0;
	pong_back(d, &fake, &a, now + DISCO_NS(10));
	CHECK(path_calls == 0 && !disco_peer_path(d, peer_node, now + DISCO_NS(10), &got));

	/* Pong from b: b is the path, trusted for 6.5 s. Then a (faster) pong from a: a wins. */
	pong_back(d, &pb, &b, now + DISCO_NS(40));
	CHECK(path_calls == 1 && t_ep_eq(&path_seen, &b));
	CHECK(disco_peer_path(d, peer_node, now + DISCO_NS(100), &got) && t_ep_eq(&got, &b));
	pong_back(d, &pa, &a, now + DISCO_NS(20) + DISCO_NS(40));  /* 60 ms, slower than b */
	CHECK(path_calls == 1);
	CHECK(disco_peer_path(d, peer_node, now + DISCO_NS(100), &got) && t_ep_eq(&got, &b));
	/* The same pong again: its TxID is used up. */
	pong_back(d, &pb, &b, now + DISCO_NS(50));
	disco_get_stats(d, &st);
	CHECK(st.pong_unmatched == 2);

	/* Heartbeat: 3 s after the last ping of the best endpoint, only it is pinged. */
	t_nsent = 0;
	disco_peer_active(d, peer_node, now + DISCO_NS(3000));
	disco_tick(d, now + DISCO_NS(3000));
	CHECK(t_nsent == 1 && find_ping(&b, &pb));
	pong_back(d, &pb, &b, now + DISCO_NS(3010));           /* extends trust to 9.51 s */
	CHECK(disco_peer_path(d, peer_node, now + DISCO_NS(9000), &got));
	CHECK(!disco_peer_path(d, peer_node, now + DISCO_NS(9510), &got));
	/* Untrusted now, but still the last path that answered (the fallback when DERP is down). */
	memset(&got, 0, sizeof(got));
	CHECK(disco_peer_last_path(d, peer_node, &got) && t_ep_eq(&got, &b));

	/* Trust expired, still active: probe all again (both last pinged > 5 s ago). */
	t_nsent = 0;
	disco_tick(d, now + DISCO_NS(9600));
	CHECK(t_nsent == 3);
	/* A pong 5 s or more after its ping is too late. */
	CHECK(find_ping(&a, &pa));
	disco_tick(d, now + DISCO_NS(14600));
	pong_back(d, &pa, &a, now + DISCO_NS(14601));
	CHECK(!disco_peer_path(d, peer_node, now + DISCO_NS(14601), &got));

	/* Idle again after 45 s without data: no pings at all. */
	t_nsent = 0;
	disco_tick(d, now + DISCO_NS(3000) + DISCO_SESSION_ACTIVE_NS);
	CHECK(t_nsent == 0);
	(void)zero_node;
}

static void test_call_me_maybe(struct disco *d, uint64_t now)
{
	struct mg_endpoint c = t_ep4(100, 100, 1, 1, 5555), got;
	struct mg_endpoint ll = { .family = AF_INET6, .port = 5, .addr = { 0xfe, 0x80, [15] = 1 } };
	struct disco_msg cmm = { .type = DISCO_CALL_ME_MAYBE, .n_eps = 2, .eps = { c, ll } }, ping;
	uint8_t plain[128], pkt[256];
	struct disco_stats st0, st;
	int n = disco_build(plain, sizeof(plain), &cmm);
	uint16_t len = peer_seal(pkt, plain, (size_t)n, peer_shared);

	disco_get_stats(d, &st0);
	/* Over UDP: ignored. Via DERP from another node: ignored. */
	t_nsent = 0;
	deliver(d, &cmm, &c, now);
	disco_receive_derp(d, other_node, 1, pkt, len, now);
	CHECK(t_nsent == 0);
	/* Via DERP from the owner: ping its endpoints at once (not the link-local one), and the
	 * ones we already knew too (CallMeMaybe resets the 5 s gap). */
	disco_receive_derp(d, peer_node, 1, pkt, len, now);
	CHECK(find_ping(&c, &ping));
	CHECK(!find_ping(&ll, &ping));
	CHECK(t_nsent == 4);                      /* c, and a, b, the IPv6 source from before */
	disco_get_stats(d, &st);
	CHECK(st.rx_cmm == st0.rx_cmm + 1 && st.rx_ignored == st0.rx_ignored + 2);
	/* A pong from c makes it the path. */
	pong_back(d, &ping, &c, now + DISCO_NS(1));
	CHECK(disco_peer_path(d, peer_node, now + DISCO_NS(2), &got) && t_ep_eq(&got, &c));

	/* A ping through DERP is answered through DERP on the region it came in on (7, not the
	 * peer's home), source 127.3.3.40:<region>. */
	struct disco_msg p2 = { .type = DISCO_PING, .txid = { 9 } }, pong;
	n = disco_build(plain, sizeof(plain), &p2);
	len = peer_seal(pkt, plain, (size_t)n, peer_shared);
	derp_calls = 0;
	t_nsent = 0;
	disco_receive_derp(d, peer_node, 7, pkt, len, now);
	CHECK(derp_calls == 1 && t_nsent == 0 && !memcmp(derp_to, peer_node, 32) && derp_region == 7);
	CHECK(peer_open(&pong, derp_pkt, derp_len) && pong.type == DISCO_PONG && pong.txid[0] == 9);
	struct mg_endpoint derp_src = t_ep4(127, 3, 3, 40, 7);
	CHECK(t_ep_eq(&pong.src, &derp_src));
}

static void test_netmap(struct disco *d, uint64_t now)
{
	struct mg_endpoint e = t_ep4(198, 51, 100, 50, 1), got;
	uint8_t newkey_priv[32], newkey[32];

	/* The netmap drops endpoint b: a trusted path elsewhere survives a re-set. */
	CHECK(disco_peer_set(d, peer_node, peer_pub, &e, 1) == 0);
	CHECK(disco_peer_path(d, peer_node, now + DISCO_NS(2), &got));
	/* A new disco key (peer restarted): everything about the old one is forgotten. */
	randombytes_buf(newkey_priv, 32);
	crypto_scalarmult_base(newkey, newkey_priv);
	CHECK(disco_peer_set(d, peer_node, newkey, &e, 1) == 0);
	CHECK(!disco_peer_path(d, peer_node, now + DISCO_NS(2), &got));
	CHECK(!disco_peer_last_path(d, peer_node, &got));       /* a restarted peer: no old path */
	/* Our old peer key is unknown now: its pings go unanswered. */
	struct disco_msg ping = { .type = DISCO_PING };
	t_nsent = 0;
	deliver(d, &ping, &e, now);
	CHECK(t_nsent == 0);
	uint8_t zero[32] = { 0 };
	CHECK(disco_peer_set(d, peer_node, zero, NULL, 0) == 0);   /* zero key: removed */
	disco_peer_active(d, peer_node, now);
	disco_tick(d, now);
	CHECK(t_nsent == 0);
}

/* Ping sources fill the candidate table; the oldest ping-only one makes room, the netmap
 * endpoint stays. A fresh disco instance, so earlier state does not blur the counts. */
static void test_eviction(uint64_t now)
{
	struct mg_endpoint b = t_ep4(203, 0, 113, 9, 1000), newest = t_ep4(10, 0, 0, 99, 99), first = t_ep4(10, 0, 0, 0, 0);
	struct disco_msg ping = { .type = DISCO_PING }, got;
	struct disco *d;

	CHECK(disco_init(&d, &t_disco_ops, our_priv) == 0);
	CHECK(disco_peer_set(d, peer_node, peer_pub, &b, 1) == 0);
	for (unsigned i = 0; i < 100; i++) {
		struct mg_endpoint src = t_ep4(10, 0, 0, (uint8_t)i, (uint16_t)i);

		deliver(d, &ping, &src, now + i);
	}
	/* Each ping was pinged back at once; the probe round comes after the 5 s gap. */
	t_nsent = 0;
	disco_peer_active(d, peer_node, now + DISCO_NS(6000));
	disco_tick(d, now + DISCO_NS(6000));
	CHECK(t_nsent == DISCO_PEER_EPS_MAX);
	CHECK(find_ping(&b, &got));
	CHECK(find_ping(&newest, &got));
	CHECK(!find_ping(&first, &got));
	disco_uninit(d);
}

/* A peer's UDP ping from an untrusted source is pinged back at once, active or not, so both
 * sides prove the path in one round; at most once a second per source, never for the trusted
 * best path (heartbeats cover it). */
static void test_ping_back(uint64_t now)
{
	struct mg_endpoint b = t_ep4(203, 0, 113, 9, 1000), a = t_ep4(198, 51, 100, 2, 41642);
	struct disco_msg ping = { .type = DISCO_PING, .txid = TXID }, got, ours;
	struct mg_endpoint path;
	struct disco *d;

	CHECK(disco_init(&d, &t_disco_ops, our_priv) == 0);
	CHECK(disco_peer_set(d, peer_node, peer_pub, &b, 1) == 0);
	t_nsent = 0;
	deliver(d, &ping, &a, now);                      /* idle too: pong, then our ping to a */
	CHECK(t_nsent == 2 && find_ping(&a, &got) && !find_ping(&b, &got));
	disco_peer_active(d, peer_node, now);
	t_nsent = 0;
	deliver(d, &ping, &a, now + DISCO_NS(1000));     /* active: pong, then our ping to a */
	CHECK(t_nsent == 2 && find_ping(&a, &ours) && !find_ping(&b, &got));
	t_nsent = 0;
	deliver(d, &ping, &a, now + DISCO_NS(1500));     /* within 1 s: pong only */
	CHECK(t_nsent == 1);
	pong_back(d, &ours, &a, now + DISCO_NS(1600));   /* proves a */
	CHECK(disco_peer_path(d, peer_node, now + DISCO_NS(1600), &path) && t_ep_eq(&path, &a));
	t_nsent = 0;
	deliver(d, &ping, &a, now + DISCO_NS(3000));     /* trusted best: no extra ping */
	CHECK(t_nsent == 1);
	disco_uninit(d);
}

/* What the owner lends through struct disco_ops: our node key goes into every ping while it has
 * one (not before), and a send the owner refuses is counted, not retried at once. */
static const uint8_t our_node[32] = { 0x5a, [31] = 0xa5 };
static bool have_node_key;

static bool lend_node_key(void *arg, uint8_t out[32])
{
	CHECK(arg == &have_node_key);
	if (!have_node_key)
		return false;
	memcpy(out, our_node, 32);
	return true;
}

static void test_ops(uint64_t now)
{
	const struct disco_ops ops = { .send_udp = t_send_udp, .node_key = lend_node_key, .arg = &have_node_key };
	struct mg_endpoint b = t_ep4(203, 0, 113, 9, 1000);
	struct disco_stats st;
	struct disco_msg got;
	struct disco *d;

	CHECK(disco_init(&d, &ops, our_priv) == 0);
	CHECK(disco_peer_set(d, peer_node, peer_pub, &b, 1) == 0);
	disco_peer_active(d, peer_node, now);
	have_node_key = false;
	t_nsent = 0;
	disco_tick(d, now);
	CHECK(t_nsent == 1 && find_ping(&b, &got) && !got.has_node_key);
	have_node_key = true;
	t_nsent = 0;
	disco_tick(d, now + DISCO_PING_INTERVAL_NS + 1);
	CHECK(t_nsent == 1 && find_ping(&b, &got) && got.has_node_key && !memcmp(got.node_key, our_node, 32));
	disco_get_stats(d, &st);
	CHECK(st.tx_fail == 0);
	t_send_fails = true;
	t_nsent = 0;
	disco_tick(d, now + 2 * (DISCO_PING_INTERVAL_NS + 1));
	t_send_fails = false;
	disco_get_stats(d, &st);
	CHECK(t_nsent == 0 && st.tx_fail == 1);
	disco_uninit(d);
}

int main(void)
{
	struct mg_endpoint b = t_ep4(203, 0, 113, 9, 1000);
	struct disco *d;
	uint64_t now = 100 * 1000000000ull;

	if (sodium_init() < 0)
		return 1;
	keys_init();
	test_encodings();
	test_malformed();
	test_keys_and_box();

	CHECK(disco_init(&d, &t_disco_ops, our_priv) == 0);
	disco_set_path_cb(d, on_path, NULL);
	disco_set_derp(d, derp_send, NULL);
	CHECK(disco_peer_set(d, other_node, (const uint8_t[32]){ 9 }, NULL, 0) == 0);
	CHECK(disco_peer_set(d, peer_node, peer_pub, &b, 1) == 0);
	test_answer_ping(d, now);
	test_our_pings(d, now + DISCO_NS(6000));       /* past the ping backs' 5 s probe gap */
	test_call_me_maybe(d, now + DISCO_NS(200000));
	test_netmap(d, now + DISCO_NS(200000));
	disco_uninit(d);
	test_eviction(now);
	test_ping_back(now);
	test_ops(now);
	return t_done("test_disco");
}
