// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_stun.c - STUN known answers: the request bytes of CRC-32, responses captured
 * from real servers (TS:net/stun/stun_test.go responseTests, incl. IPv6 and padding cases),
 * malformed inputs, and the client's TxID matching through the t_send_udp stand-in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include "t.h"
#include "stun.h"

struct resp_kat {
	const char *name, *hex, *txid, *addr;
	uint16_t port;
	int want;                        /* 0, -EINVAL, -ENOENT */
};

static const struct resp_kat resp_kats[] = {
	{ "google-1", "0101000c2112a4422360b11e3ec68ffa93e0800700200008" "0001c7866957856f",
	  "2360b11e3ec68ffa93e08007", "72.69.33.45", 59028, 0 },
	{ "google-2", "0101000c2112a442f9f121cbde7d7c75923ce27100200008" "0001c7876957856f",
	  "f9f121cbde7d7c75923ce271", "72.69.33.45", 59029, 0 },
	/* MAPPED-ADDRESS first, then the old 0x8020 XOR form: the XOR form wins. */
	{ "sipgate", "010100442112a442482eb64715e8b28eaead644400010008" "0001e4ab4845212d"
	  "0004000800012710d90a4498000500080001" "2711d9747a8a802000080001c5b96957856f"
	  "80220010566f766964612e6f726720302e393600",
	  "482eb64715e8b28eaead6444", "72.69.33.45", 58539, 0 },
	/* Only MAPPED-ADDRESS (plus RFC 3489 SOURCE/CHANGED-ADDRESS). */
	{ "powervoip", "010100242112a4427e57966829f444609d1deaa600010008" "0001e9d34845212d"
	  "0004000800010d964d48a9d4000500080001" "0d974d48a9d5",
	  "7e57966829f444609d1deaa6", "72.69.33.45", 59859, 0 },
	/* SOFTWARE padded to 12, FINGERPRINT, then 8 trailing bytes beyond the declared length. */
	{ "pion", "010100242112a442ebc2d36ef471217c4f3e308e8022000a" "656e64706f696e746572000000200008"
	  "0001ce665e12a44380280004b699bb02" "010100242112a442",
	  "ebc2d36ef471217c4f3e308e", "127.0.0.1", 61300, 0 },
	{ "stuntman-v6", "010100482112a44206f56685d28af3e69ce341e200010014" "000290ce260200d1b4cfc10038b231ff"
	  "feef96f6802b0014" "00020d962604a880000200d10000000000c57001" "00200014"
	  "0002b1dc0710a493b23aa785ea38c219620cd714",
	  "06f56685d28af3e69ce341e2", "2602:d1:b4cf:c100:38b2:31ff:feef:96f6", 37070, 0 },
	{ "software-a", "010100142112a442ebc2d36ef471217c4f3e308e80220001" "610000000020000800 01ce665e12a443",
	  "ebc2d36ef471217c4f3e308e", "127.0.0.1", 61300, 0 },
	/* The same bytes with type 0x0001: a request, which must never set our mapped address
	 * (Tailscale's parser accepts it; we are stricter on purpose). */
	{ "request-not-response", "000100142112a442ebc2d36ef471217c4f3e308e80220003"
	  "616263000020000800 01ce665e12a443", NULL, NULL, 0, -EINVAL },
	{ "declared-len-too-long", "0101000c2112a4422360b11e3ec68ffa93e0800700200008" "0001c786695785",
	  NULL, NULL, 0, -EINVAL },
	{ "bad-cookie", "0101000c2112a4432360b11e3ec68ffa93e0800700200008" "0001c7866957856f",
	  NULL, NULL, 0, -EINVAL },
	{ "attr-overruns", "0101000c2112a4422360b11e3ec68ffa93e0800700200010" "0001c7866957856f",
	  NULL, NULL, 0, -EINVAL },
	{ "no-address", "010100082112a4422360b11e3ec68ffa93e0800780220001" "61000000", NULL, NULL, 0, -ENOENT },
	{ "bad-family", "0101000c2112a4422360b11e3ec68ffa93e0800700200008" "0003c7866957856f",
	  NULL, NULL, 0, -ENOENT },
	{ "short", "0101000c2112a442", NULL, NULL, 0, -EINVAL },
};

static void test_request(void)
{
	uint8_t txid[12], req[STUN_REQUEST_LEN], want[64];

	for (int i = 0; i < 12; i++)
		txid[i] = (uint8_t)(i + 1);
	stun_build_request(req, txid);
	CHECK(t_unhex(want, sizeof(want), "000100142112a4420102030405060708090a0b0c"
		      "802200087461696c6e6f646580280004b32c370f") == STUN_REQUEST_LEN);
	CHECK_MEM(req, want, STUN_REQUEST_LEN);
	/* TestAttrOrderForXdpDERP: SOFTWARE at 20, "tailnode" at 24..31. */
	CHECK(req[20] == 0x80 && req[21] == 0x22);
	CHECK_MEM(req + 24, "tailnode", 8);
	CHECK(stun_looks_like(req, sizeof(req)));
	CHECK(stun_crc32((const uint8_t *)"123456789", 9) == 0xcbf43926u);   /* the CRC-32 check value */
	CHECK(stun_crc32(NULL, 0) == 0);
}

static void test_responses(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(resp_kats); i++) {
		const struct resp_kat *k = &resp_kats[i];
		uint8_t pkt[256], txid[12], want_txid[12], addr[16];
		struct mg_endpoint ep;
		size_t n = t_unhex(pkt, sizeof(pkt), k->hex);
		int rc = stun_parse_response(pkt, n, txid, &ep);

		if (rc != k->want)
			fprintf(stderr, "case %s: rc %d want %d\n", k->name, rc, k->want);
		CHECK(rc == k->want);
		if (rc || k->want)
			continue;
		t_unhex(want_txid, sizeof(want_txid), k->txid);
		CHECK_MEM(txid, want_txid, 12);
		if (strchr(k->addr, ':')) {
			CHECK(ep.family == AF_INET6);
			inet_pton(AF_INET6, k->addr, addr);
			CHECK_MEM(ep.addr, addr, 16);
		} else {
			CHECK(ep.family == AF_INET);
			inet_pton(AF_INET, k->addr, addr);
			CHECK_MEM(ep.addr, addr, 4);
		}
		CHECK(ep.port == k->port);
	}
	/* Every truncation of a valid response is rejected, never read past the end. */
	uint8_t pkt[64], txid[12];
	struct mg_endpoint ep;
	size_t n = t_unhex(pkt, sizeof(pkt), resp_kats[0].hex);
	for (size_t l = 0; l < n; l++)
		CHECK(stun_parse_response(pkt, l, txid, &ep) == -EINVAL);
}

/* Headscale's embedded STUN server answers an IPv4 client with ::ffff:a.b.c.d in an IPv6
 * XOR-MAPPED-ADDRESS: that is the IPv4 endpoint a.b.c.d (as tailscale's net/stun unmaps it). */
static void test_mapped_v4_in_v6(void)
{
	static const uint8_t mapped[16] = { [10] = 0xff, [11] = 0xff, 198, 51, 100, 1 };
	uint8_t pkt[44] = { 0x01, 0x01, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42 }, txid[12];
	struct mg_endpoint ep;

	for (int i = 0; i < 12; i++)
		pkt[8 + i] = (uint8_t)(0xa0 + i);
	memcpy(pkt + 20, "\x00\x20\x00\x14\x00\x02", 6);
	pkt[26] = (uint8_t)((41641 >> 8) ^ 0x21);
	pkt[27] = (uint8_t)((41641 & 0xff) ^ 0x12);
	for (int i = 0; i < 16; i++)
		pkt[28 + i] = mapped[i] ^ pkt[4 + i];
	CHECK(stun_parse_response(pkt, sizeof(pkt), txid, &ep) == 0);
	CHECK(ep.family == AF_INET && ep.port == 41641);
	CHECK(ep.addr[0] == 198 && ep.addr[1] == 51 && ep.addr[2] == 100 && ep.addr[3] == 1);
	CHECK(!ep.addr[4] && !ep.addr[15]);
}

/* A response to @req from a server that saw us at @ep (v4), built here independently. */
static size_t make_response(uint8_t *out, const uint8_t *req, const struct mg_endpoint *ep)
{
	memcpy(out, "\x01\x01\x00\x0c", 4);
	memcpy(out + 4, req + 4, 16);
	memcpy(out + 20, "\x00\x20\x00\x08\x00\x01", 6);
	out[26] = (uint8_t)((ep->port >> 8) ^ 0x21);
	out[27] = (uint8_t)((ep->port & 0xff) ^ 0x12);
	for (int i = 0; i < 4; i++)
		out[28 + i] = ep->addr[i] ^ req[4 + i];
	return 32;
}

static void test_client(void)
{
	struct mg_endpoint server = t_ep4(203, 0, 113, 1, 0), mapped = t_ep4(198, 51, 100, 7, 41641), got;
	struct punt_msg m = { .kind = 0 };
	struct stun_stats st;
	struct stun *s;
	uint64_t now = 1000000000ull;

	CHECK(stun_init(&s, t_send_udp, NULL) == 0);
	CHECK(!stun_mapped(s, &got));
	t_nsent = 0;
	CHECK(stun_query(s, &server, now) == 0);
	CHECK(t_nsent == 1);
	CHECK(t_sent[0].len == STUN_REQUEST_LEN && t_sent[0].dst.port == STUN_DEFAULT_PORT);
	/* FINGERPRINT recomputed here with zlib's definition. */
	uint32_t fp = stun_crc32(t_sent[0].data, 32) ^ 0x5354554eu;
	CHECK(t_sent[0].data[36] == fp >> 24 && t_sent[0].data[39] == (fp & 0xff));

	/* An answer with a TxID we never sent is ignored. */
	uint8_t fake[40];
	memcpy(fake, t_sent[0].data, 40);
	fake[8] ^= 1;
	m.len = (uint16_t)make_response(m.data, fake, &mapped);
	stun_receive(s, m.data, m.len, now + 1000);
	CHECK(!stun_mapped(s, &got));

	m.len = (uint16_t)make_response(m.data, t_sent[0].data, &mapped);
	stun_receive(s, m.data, m.len, now + 2000);
	CHECK(stun_mapped(s, &got) && t_ep_eq(&got, &mapped));
	CHECK(stun_mapped_at(s) == now + 2000);
	/* A replay of the same answer does not count twice (the TxID was consumed). */
	stun_receive(s, m.data, m.len, now + 3000);
	stun_get_stats(s, &st);
	CHECK(st.tx == 1 && st.rx_ok == 1 && st.rx_unknown_txid == 2 && st.rx_bad == 0);

	/* An answer after the 5 s timeout is ignored. */
	t_nsent = 0;
	CHECK(stun_query(s, &server, now) == 0);
	struct mg_endpoint other = t_ep4(198, 51, 100, 8, 1);
	m.len = (uint16_t)make_response(m.data, t_sent[0].data, &other);
	stun_receive(s, m.data, m.len, now + STUN_TIMEOUT_NS + 1);
	CHECK(stun_mapped(s, &got) && t_ep_eq(&got, &mapped));

	/* TX queue full -> -ENOBUFS; no family -> -EAFNOSUPPORT. */
	t_send_fails = true;
	CHECK(stun_query(s, &server, now) == -ENOBUFS);
	t_send_fails = false;
	struct mg_endpoint none = { 0 };
	CHECK(stun_query(s, &none, now) == -EAFNOSUPPORT);
	m.len = 3;
	stun_receive(s, m.data, m.len, now);
	stun_get_stats(s, &st);
	CHECK(st.rx_bad == 1);
	stun_uninit(s);
}

/* Periodic re-STUN: all servers at once, then every uniform[20 s, 26 s) while active. */
static void test_periodic(void)
{
	struct mg_endpoint servers[2] = { t_ep4(203, 0, 113, 1, 3478), t_ep4(203, 0, 113, 2, 0) };
	uint64_t t0 = 5000000000ull, s = 1000000000ull;
	unsigned rounds_seen[8] = { 0 };
	struct stun *st;

	CHECK(stun_init(&st, t_send_udp, NULL) == 0);
	t_nsent = 0;
	stun_tick(st, t0, true);                  /* no servers yet */
	stun_set_servers(st, servers, 2);
	stun_tick(st, t0, false);                 /* idle */
	CHECK(t_nsent == 0);
	stun_tick(st, t0, true);
	CHECK(t_nsent == 2 && t_ep_eq(&t_sent[0].dst, &servers[0]) && t_sent[1].dst.port == 3478);
	/* Over many rounds, the next one always comes in [20 s, 26 s). */
	uint64_t last = t0;
	for (int r = 0; r < 40; r++) {
		uint64_t now = last;

		t_nsent = 0;
		while (t_nsent == 0 && now < last + 30 * s) {
			now += s / 10;
			stun_tick(st, now, true);
		}
		CHECK(now - last >= 20 * s && now - last <= 26 * s + s / 10);
		rounds_seen[(now - last - 20 * s) / s % 8]++;
		last = now;
	}
	/* The jitter is not a constant. */
	unsigned distinct = 0;
	for (int i = 0; i < 8; i++)
		distinct += rounds_seen[i] != 0;
	CHECK(distinct >= 3);
	/* A new server list is queried at once. */
	t_nsent = 0;
	stun_set_servers(st, servers, 1);
	stun_tick(st, last + s / 10, true);
	CHECK(t_nsent == 1);
	stun_uninit(st);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_request();
	test_responses();
	test_mapped_v4_in_v6();
	test_client();
	test_periodic();
	return t_done("test_stun");
}
