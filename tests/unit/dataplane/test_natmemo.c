// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_natmemo.c - the worker's memo of the SNAT flow it translated last (nat.h, struct
 * nat_memo) against nat_out itself: a random stream of packets (IPv4 and IPv6; TCP with random
 * flags, UDP with and without a checksum, ICMP echo; IPv4 options and fragments; a few flows
 * interleaved; passes of random length) goes through the memo path (nat_memo_translate, else
 * nat_out_remember) and, as a copy, through nat_out. Every translated packet must come out byte
 * for byte the same, and the memo must have answered for most packets of the stream. Then the
 * cases one by one: a memo holds for its pass only and for its own flow only; FIN through the
 * memo marks the flow closing; a packet nat_out refuses leaves the memo to its flow; a UDP
 * checksum the memo's update brings to zero leaves as 0xffff.
 */
#include <errno.h>
#include <stdlib.h>
#include <sodium.h>
#include "nat.h"
#include "pktcheck.h"

#define S 1000000000ULL
#define PEER 7u

static uint8_t lan4[4], lan6[16];

struct flow_spec {
	int v6;
	uint8_t proto;
	const char *src, *dst;
	uint16_t sport, dport;
};

static const struct flow_spec flows[] = {
	{ 0, IPPROTO_TCP, "100.64.0.2", "192.168.8.80", 40000, 443 },
	{ 0, IPPROTO_TCP, "100.64.0.2", "192.168.8.80", 40001, 443 },   /* differs by a port */
	{ 0, IPPROTO_UDP, "100.64.0.2", "192.168.8.53", 5353, 53 },
	{ 0, IPPROTO_UDP, "100.64.0.3", "192.168.8.53", 5353, 53 },     /* differs by the source */
	{ 0, IPPROTO_ICMP, "100.64.0.2", "192.168.8.80", 77, 0 },
	{ 1, IPPROTO_TCP, "fd7a:115c:a1e0::2", "fd00:8::80", 40000, 443 },
	{ 1, IPPROTO_UDP, "fd7a:115c:a1e0::2", "fd00:8::53", 5353, 53 },
	{ 1, IPPROTO_UDP, "fd7a:115c:a1e0::2", "fd00:8::54", 5353, 53 }, /* differs by the destination */
	{ 1, IPPROTO_ICMPV6, "fd7a:115c:a1e0::2", "fd00:8::80", 77, 0 },
};
#define NFLOWS (sizeof(flows) / sizeof(flows[0]))

/* An IPv4 packet with 4 bytes of options (IHL 6): the same flow, not one the memo stands for. */
static size_t with_options(uint8_t *b, size_t len)
{
	memmove(b + 24, b + 20, len - 20);
	memset(b + 20, 1, 4);                 /* four NOPs */
	b[0] = 0x46;
	len += 4;
	b[2] = (uint8_t)(len >> 8);
	b[3] = (uint8_t)len;
	ref_fix(b, len);
	return len;
}

/* A random packet of flow f; IPv4 sometimes with options, sometimes a fragment (*frag). */
static size_t random_packet(uint8_t *b, const struct flow_spec *f, bool *frag)
{
	size_t hl = f->v6 ? 40 : 20, len = mkpkt(b, f->v6, f->src, f->dst, f->proto, f->sport, f->dport,
					       randombytes_uniform(64));
	uint32_t r = randombytes_uniform(16);

	*frag = false;
	randombytes_buf(b + len - (len - hl - (f->proto == IPPROTO_TCP ? 20 : 8)),
			len - hl - (f->proto == IPPROTO_TCP ? 20 : 8));
	if (f->proto == IPPROTO_TCP)
		b[hl + 13] = (uint8_t)randombytes_uniform(64);   /* FIN, SYN, RST, PSH, ACK, URG */
	ref_fix(b, len);
	if (f->proto == IPPROTO_UDP && !f->v6 && r == 0) {
		b[hl + 6] = b[hl + 7] = 0;                      /* IPv4 UDP without a checksum */
	} else if (!f->v6 && r == 1) {
		len = with_options(b, len);
	} else if (!f->v6 && r == 2 && f->proto != IPPROTO_ICMP) {
		b[6] = 0x20;                                    /* MF: a first fragment */
		ref_fix(b, len);
		*frag = true;
	}
	return len;
}

static void stream_test(void)
{
	struct nat n;
	struct nat_memo m = { 0 };
	uint64_t pass = 1;
	unsigned cur = 0, hits = 0, memoable = 0, translated = 0, differ = 0, refused = 0;

	T_CHECK(!nat_init(&n, 1), "nat_init");
	for (unsigned i = 0; i < 20000; i++) {
		/* Passes of 32 packets on average; a flow's run, 4 on average, then another's. */
		uint8_t a[256], b[256];
		bool frag, hit, nocsum;
		size_t len;
		int family, ea, eb;

		if (!randombytes_uniform(32))
			pass++;
		if (!randombytes_uniform(4))
			cur = randombytes_uniform(NFLOWS);
		len = random_packet(a, &flows[cur], &frag);
		family = flows[cur].v6 ? AF_INET6 : AF_INET;
		memcpy(b, a, len);
		/* The reference first: it creates the flow, so that both find the same one. */
		ea = nat_out(&n, 0, PEER, a, len, family, flows[cur].v6 ? lan6 : lan4, 10 * S);
		nocsum = !flows[cur].v6 && flows[cur].proto == IPPROTO_UDP && !a[a[0] % 16 * 4 + 6] &&
			 !a[a[0] % 16 * 4 + 7];
		hit = nat_memo_translate(&m, pass, b, len, family);
		eb = hit ? 0 : nat_out_remember(&n, &m, pass, 0, PEER, b, len, family,
						flows[cur].v6 ? lan6 : lan4, 10 * S);
		hits += hit;
		memoable += !frag && (a[0] == 0x45 || family == AF_INET6) &&
			    (flows[cur].proto == IPPROTO_TCP || flows[cur].proto == IPPROTO_UDP);
		if (ea != eb) {
			differ++;
			continue;
		}
		refused += ea != 0;
		translated += ea == 0;
		if (hit && (frag || (family == AF_INET && a[0] != 0x45)))
			differ++;                       /* the memo answered for a packet it must not */
		if (memcmp(a, b, len))
			differ++;
		/* (an IPv4 UDP packet without a checksum has none to verify) */
		if (!ea && !nocsum && !ref_valid(b, len))
			differ++;
	}
	T_CHECK(!differ, "%u of 20000 packets translated differently through the memo", differ);
	T_CHECK(refused > 200, "only %u fragments refused: the stream lacks them", refused);
	/* A flow's run in a pass is 4 packets on average and its first goes to the table: about
	 * half of what the memo may stand for is answered by it. */
	T_CHECK(hits > memoable / 3 && hits < memoable, "memo answered %u of %u packets it may stand for",
		hits, memoable);
	printf("stream: %u translated, %u refused, memo answered %u of %u\n", translated, refused, hits, memoable);
	nat_uninit(&n);
}

static void cases_test(void)
{
	const struct flow_spec *tcp = &flows[0], *other = &flows[1];
	struct nat n;
	struct nat_memo m = { 0 };
	struct nat_flow *f;
	uint8_t b[256], ref[256];
	size_t len;

	T_CHECK(!nat_init(&n, 1), "nat_init");
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 10);
	T_CHECK(!nat_memo_translate(&m, 5, b, len, AF_INET), "an empty memo translated");
	T_CHECK(!nat_out_remember(&n, &m, 5, 0, PEER, b, len, AF_INET, lan4, 10 * S), "flow refused");
	f = m.flow;
	T_CHECK(m.pass == 5 && f, "the memo did not take the flow");

	/* The same flow in the same pass: from the memo, as nat_out translates it. */
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 20);
	memcpy(ref, b, len);
	T_CHECK(!nat_out(&n, 0, PEER, ref, len, AF_INET, lan4, 10 * S), "nat_out refused the flow");
	T_CHECK(nat_memo_translate(&m, 5, b, len, AF_INET) && !memcmp(b, ref, len), "memo hit wrong or missing");
	/* Not in the next pass, nor for another flow, nor for the other family. */
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 20);
	T_CHECK(!nat_memo_translate(&m, 6, b, len, AF_INET), "the memo held into the next pass");
	len = mkpkt(b, 0, other->src, other->dst, IPPROTO_TCP, other->sport, other->dport, 20);
	memcpy(ref, b, len);
	T_CHECK(!nat_memo_translate(&m, 5, b, len, AF_INET) && !memcmp(b, ref, len),
		"another flow was translated by the memo, or touched");
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_UDP, tcp->sport, tcp->dport, 20);
	T_CHECK(!nat_memo_translate(&m, 5, b, len, AF_INET), "UDP with the TCP flow's addresses and ports");

	/* FIN through the memo marks the flow closing (it expires on the short timer). */
	T_CHECK(!atomic_load(&f->tcp_closing), "closing before any FIN");
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 0);
	b[33] = 0x11;                                    /* FIN+ACK */
	ref_fix(b, len);
	T_CHECK(nat_memo_translate(&m, 5, b, len, AF_INET), "FIN not from the memo");
	T_CHECK(atomic_load(&f->tcp_closing), "FIN through the memo left the flow open");

	/* A packet nat_out refuses (a non-echo ICMP) leaves the memo to its flow. */
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_ICMP, 7, 0, 4);
	b[20] = 13;                                      /* timestamp request */
	ref_fix(b, len);
	T_CHECK(nat_out_remember(&n, &m, 5, 0, PEER, b, len, AF_INET, lan4, 10 * S) == -EPROTONOSUPPORT,
		"non-echo ICMP translated");
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 3);
	T_CHECK(nat_memo_translate(&m, 5, b, len, AF_INET) && m.flow == f, "the refusal cleared the memo");
	nat_uninit(&n);
}

/*
 * A UDP checksum that the memo's update brings to 0 leaves as 0xffff (RFC 768), both families:
 * the payload's first two bytes run through all 65536 values in one pass of one flow, so every
 * packet after the first is translated from the memo, and one in 65536 sums to zero.
 */
static void zero_csum_test(int v6)
{
	const struct flow_spec *f = &flows[v6 ? 6 : 2];
	int family = v6 ? AF_INET6 : AF_INET;
	size_t hl = v6 ? 40 : 20, len;
	unsigned hits = 0, zero = 0, bad = 0, was_zero = 0;
	struct nat_memo m = { 0 };
	bool hit;
	struct nat n;
	uint8_t b[128], ref[128];

	T_CHECK(!nat_init(&n, 1), "nat_init");
	for (unsigned x = 0; x < 65536; x++) {
		len = mkpkt(b, v6, f->src, f->dst, IPPROTO_UDP, f->sport, f->dport, 6);
		b[hl + 8] = (uint8_t)(x >> 8);
		b[hl + 9] = (uint8_t)x;
		ref_fix(b, len);
		if (!b[hl + 6] && !b[hl + 7])
			b[hl + 6] = b[hl + 7] = 0xff;   /* as a sender writes a computed 0 */
		memcpy(ref, b, len);
		hit = nat_memo_translate(&m, 1, b, len, family);
		if (nat_out(&n, 0, PEER, ref, len, family, v6 ? lan6 : lan4, 10 * S) ||
		    (!hit && nat_out_remember(&n, &m, 1, 0, PEER, b, len, family, v6 ? lan6 : lan4, 10 * S))) {
			bad++;
			continue;
		}
		hits += hit;
		was_zero += ref[hl + 6] == 0xff && ref[hl + 7] == 0xff;
		zero += !b[hl + 6] && !b[hl + 7];
		bad += memcmp(b, ref, len) || !ref_valid(b, len);
	}
	T_CHECK(!bad, "v6 %d: %u UDP packets refused or translated differently through the memo", v6, bad);
	T_CHECK(!zero, "v6 %d: %u UDP checksums written as 0 through the memo (must be 0xffff)", v6, zero);
	T_CHECK(was_zero >= 1, "v6 %d: no payload made the translated checksum 0xffff: the search found no case",
		v6);
	T_CHECK(hits == 65535, "v6 %d: the memo answered %u of 65535", v6, hits);
	nat_uninit(&n);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	mg_rcu_register_thread();
	inet_pton(AF_INET, "192.168.8.105", lan4);
	inet_pton(AF_INET6, "fd00:8::105", lan6);
	stream_test();
	cases_test();
	zero_csum_test(0);
	zero_csum_test(1);
	mg_rcu_unregister_thread();
	printf("%s\n", t_failures ? "FAILED" : "natmemo: all cases pass");
	return t_failures != 0;
}
