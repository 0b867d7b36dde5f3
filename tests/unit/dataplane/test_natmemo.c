// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_natmemo.c - the worker's memos of the SNAT flows it translated (nat.h, struct nat_memo)
 * against the table itself: a random stream of packets (IPv4 and IPv6; TCP with random flags, UDP
 * with and without a checksum, ICMP echo; IPv4 options and fragments; a few flows interleaved,
 * out from the tailnet and their replies back from the LAN; stamps that change at random) goes
 * through the memo path (nat_memo_translate, else nat_out_remember or nat_in_remember) and, as a
 * copy, through nat_out or nat_in. Every packet must come out byte for byte the same, and the
 * memos must have answered for a good part of the stream. Then the cases one by one: an entry
 * holds under its stamp only and for its own flow only; FIN through the memo marks the flow
 * closing, in both directions; a packet nat_out refuses leaves the memo to its flows; 64 flows
 * interleaved are all remembered at once (but for those sharing a slot); a flow served from the
 * memo for minutes does not idle out; nat_expire moves nat_gen for each flow it removes; a UDP
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
	{ 0, IPPROTO_UDP, "100.64.0.2", "192.168.8.54", 5353, 53 },     /* differs by the destination */
	{ 0, IPPROTO_ICMP, "100.64.0.2", "192.168.8.80", 77, 0 },
	{ 1, IPPROTO_TCP, "fd7a:115c:a1e0::2", "fd00:8::80", 40000, 443 },
	{ 1, IPPROTO_UDP, "fd7a:115c:a1e0::2", "fd00:8::53", 5353, 53 },
	{ 1, IPPROTO_UDP, "fd7a:115c:a1e0::2", "fd00:8::54", 5353, 53 }, /* differs by the destination */
	{ 1, IPPROTO_UDP, "fd7b:115c:a1e0::2", "fd00:8::53", 5353, 53 }, /* by the source's first bytes */
	{ 1, IPPROTO_ICMPV6, "fd7a:115c:a1e0::2", "fd00:8::80", 77, 0 },
};
#define NFLOWS (sizeof(flows) / sizeof(flows[0]))

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

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

/* Random payload and TCP flags; IPv4 sometimes without a UDP checksum, with options, or a
 * fragment (*frag). */
static size_t mutate(uint8_t *b, size_t len, int v6, uint8_t proto, bool *frag)
{
	size_t hl = v6 ? 40 : 20, l4 = proto == IPPROTO_TCP ? 20 : 8;
	uint32_t r = randombytes_uniform(16);

	*frag = false;
	randombytes_buf(b + hl + l4, len - hl - l4);
	if (proto == IPPROTO_TCP)
		b[hl + 13] = (uint8_t)randombytes_uniform(64);   /* FIN, SYN, RST, PSH, ACK, URG */
	ref_fix(b, len);
	if (proto == IPPROTO_UDP && !v6 && r == 0) {
		b[hl + 6] = b[hl + 7] = 0;                      /* IPv4 UDP without a checksum */
	} else if (!v6 && r == 1) {
		len = with_options(b, len);
	} else if (!v6 && r == 2 && proto != IPPROTO_ICMP) {
		b[6] = 0x20;                                    /* MF: a first fragment */
		ref_fix(b, len);
		*frag = true;
	}
	return len;
}

/* A random packet of flow f from the tailnet, or (port != 0) its reply from the LAN to the
 * router's NAT port. */
static size_t random_packet(uint8_t *b, const struct flow_spec *f, uint16_t port, bool *frag)
{
	bool icmp = f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6;
	size_t len, hl = f->v6 ? 40 : 20;

	if (!port)
		return mutate(b, mkpkt(b, f->v6, f->src, f->dst, f->proto, f->sport, f->dport,
				       randombytes_uniform(64)), f->v6, f->proto, frag);
	len = mkpkt(b, f->v6, f->dst, f->v6 ? "fd00:8::105" : "192.168.8.105", f->proto, icmp ? port : f->dport,
		    port, randombytes_uniform(64));
	if (icmp)
		b[hl] = f->v6 ? 129 : 0;                        /* echo reply */
	return mutate(b, len, f->v6, f->proto, frag);
}

/*
 * Both directions: packets of a few flows from the tailnet (nat_out) and their replies from the
 * LAN (nat_in), each through the memo path of its direction and, as a copy, the table itself.
 */
static void stream_test(void)
{
	struct nat n;
	struct nat_memos *m = calloc(2, sizeof(*m));   /* out, in */
	uint16_t natport[NFLOWS] = { 0 };
	uint64_t stamp = 1, now = 10 * S;
	unsigned cur = 0, hits[2] = { 0 }, memoable[2] = { 0 }, translated[2] = { 0 }, differ = 0, refused = 0;

	T_CHECK(!nat_init(&n, 1), "nat_init");
	for (unsigned i = 0; i < 40000; i++) {
		/* A new stamp every 32 packets on average; a flow's run, 4 on average, then another's;
		 * the clock on by up to 0.25 s (the memo's touch tick moves every 1.07 s). */
		const struct flow_spec *f;
		uint8_t a[256], b[256];
		bool frag, hit, nocsum, in;
		size_t len, hl;
		int family, ea, eb;

		if (!randombytes_uniform(32))
			stamp++;
		now += randombytes_uniform(S / 4);
		if (!randombytes_uniform(4))
			cur = randombytes_uniform(NFLOWS);
		f = &flows[cur];
		in = natport[cur] && randombytes_uniform(2);
		len = random_packet(a, f, in ? natport[cur] : 0, &frag);
		family = f->v6 ? AF_INET6 : AF_INET;
		hl = f->v6 ? 40 : (a[0] & 0xf) * 4u;
		memcpy(b, a, len);
		/* The reference first: it creates the flow, so that both find the same one. */
		ea = in ? !nat_in(&n, a, len, family, now) : nat_out(&n, 0, PEER, a, len, family, f->v6 ? lan6 : lan4, now);
		hit = nat_memo_translate(&m[in], stamp, in, b, len, family, now, NULL);
		if (hit)
			eb = 0;
		else if (in)
			eb = !nat_in_remember(&n, &m[in], stamp, b, len, family, now);
		else
			eb = nat_out_remember(&n, &m[in], stamp, 0, PEER, b, len, family, f->v6 ? lan6 : lan4, now);
		nocsum = !f->v6 && f->proto == IPPROTO_UDP && !a[hl + 6] && !a[hl + 7];
		hits[in] += hit;
		memoable[in] += !frag && hl == (f->v6 ? 40u : 20u) && (f->proto == IPPROTO_TCP || f->proto == IPPROTO_UDP);
		if (ea != eb) {
			differ++;
			continue;
		}
		refused += ea != 0;
		translated[in] += ea == 0;
		if (!ea && !in)
			natport[cur] = (uint16_t)(a[hl + (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6 ? 4 : 0)] << 8 |
						  a[hl + (f->proto == IPPROTO_ICMP || f->proto == IPPROTO_ICMPV6 ? 5 : 1)]);
		if (hit && (frag || hl != (f->v6 ? 40u : 20u)))
			differ++;                       /* the memo answered for a packet it must not */
		if (memcmp(a, b, len))
			differ++;
		/* (an IPv4 UDP packet without a checksum has none to verify) */
		if (!ea && !nocsum && !ref_valid(b, len))
			differ++;
	}
	T_CHECK(!differ, "%u of 40000 packets translated differently through the memo", differ);
	T_CHECK(refused > 400, "only %u packets refused: the stream lacks fragments", refused);
	/* Under each stamp, each flow's first packet of each direction goes to the table: the memo
	 * answers a good part, never all. */
	for (int d = 0; d < 2; d++)
		T_CHECK(hits[d] > memoable[d] / 5 && hits[d] < memoable[d],
			"%s: the memo answered %u of %u packets it may stand for", d ? "in" : "out", hits[d], memoable[d]);
	printf("stream: out %u translated, memo answered %u of %u; in %u translated, memo answered %u of %u; "
	       "%u refused\n", translated[0], hits[0], memoable[0], translated[1], hits[1], memoable[1], refused);
	free(m);
	nat_uninit(&n);
}

/* t's entry for the packet at b (IPv4 without options): the one nat_memo_translate reads. */
static struct nat_memo *entry_of(struct nat_memos *t, const uint8_t *b)
{
	uint32_t ports, src;

	memcpy(&ports, b + 20, 4);
	memcpy(&src, b + 12, 4);
	return nat_memo_slot(t, ports, src);
}

static void cases_test(void)
{
	const struct flow_spec *tcp = &flows[0], *other = &flows[1];
	struct nat_memos *t = calloc(2, sizeof(*t)), *in = t + 1;
	struct nat_memo *m;
	struct nat_flow *f;
	struct nat n;
	uint8_t b[256], ref[256];
	size_t len;

	T_CHECK(!nat_init(&n, 1), "nat_init");
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 10);
	m = entry_of(t, b);
	T_CHECK(!nat_memo_translate(t, 5, false, b, len, AF_INET, 10 * S, NULL), "an empty memo translated");
	T_CHECK(!nat_out_remember(&n, t, 5, 0, PEER, b, len, AF_INET, lan4, 10 * S), "flow refused");
	f = m->flow;
	T_CHECK(m->stamp == 5 && f, "the memo did not take the flow into the packet's slot");

	/* The same flow under the same stamp, later: from the memo, as nat_out translates it. */
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 20);
	memcpy(ref, b, len);
	T_CHECK(!nat_out(&n, 0, PEER, ref, len, AF_INET, lan4, 11 * S), "nat_out refused the flow");
	T_CHECK(nat_memo_translate(t, 5, false, b, len, AF_INET, 11 * S, NULL) && !memcmp(b, ref, len),
		"memo hit wrong or missing");
	/* Not under another stamp, nor for another flow, nor for the other protocol. */
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 20);
	T_CHECK(!nat_memo_translate(t, 6, false, b, len, AF_INET, 11 * S, NULL), "the memo held under a new stamp");
	len = mkpkt(b, 0, other->src, other->dst, IPPROTO_TCP, other->sport, other->dport, 20);
	memcpy(ref, b, len);
	T_CHECK(!nat_memo_translate(t, 5, false, b, len, AF_INET, 11 * S, NULL) && !memcmp(b, ref, len),
		"another flow was translated by the memo, or touched");
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_UDP, tcp->sport, tcp->dport, 20);
	T_CHECK(!nat_memo_translate(t, 5, false, b, len, AF_INET, 11 * S, NULL), "UDP with the TCP flow's addresses and ports");

	/* FIN through the memo marks the flow closing (it expires on the short timer). */
	T_CHECK(!atomic_load(&f->tcp_closing), "closing before any FIN");
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 0);
	b[33] = 0x11;                                    /* FIN+ACK */
	ref_fix(b, len);
	T_CHECK(nat_memo_translate(t, 5, false, b, len, AF_INET, 11 * S, NULL), "FIN not from the memo");
	T_CHECK(atomic_load(&f->tcp_closing), "FIN through the memo left the flow open");

	/* A packet nat_out refuses (a non-echo ICMP) leaves the memo to its flows. */
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_ICMP, 7, 0, 4);
	b[20] = 13;                                      /* timestamp request */
	ref_fix(b, len);
	T_CHECK(nat_out_remember(&n, t, 5, 0, PEER, b, len, AF_INET, lan4, 10 * S) == -EPROTONOSUPPORT,
		"non-echo ICMP translated");
	len = mkpkt(b, 0, tcp->src, tcp->dst, IPPROTO_TCP, tcp->sport, tcp->dport, 3);
	T_CHECK(nat_memo_translate(t, 5, false, b, len, AF_INET, 11 * S, NULL) && m->flow == f,
		"the refusal cleared the memo");

	/* The reply direction: the other flow's first reply through the table marks it established,
	 * a second from the memo, and its RST through the memo marks it closing. */
	{
		struct nat_flow *g;
		uint16_t port;

		len = mkpkt(b, 0, other->src, other->dst, IPPROTO_TCP, other->sport, other->dport, 0);
		m = entry_of(t, b);
		T_CHECK(!nat_out_remember(&n, t, 5, 0, PEER, b, len, AF_INET, lan4, 10 * S), "flow refused");
		g = m->flow;
		T_CHECK(m->stamp == 5 && g && g != f, "the other flow not remembered as a flow of its own");
		port = (uint16_t)(b[20] << 8 | b[21]);
		len = mkpkt(b, 0, other->dst, "192.168.8.105", IPPROTO_TCP, other->dport, port, 0);
		m = entry_of(in, b);
		T_CHECK(nat_in_remember(&n, in, 5, b, len, AF_INET, 10 * S) && m->stamp == 5 && m->flow == g,
			"the reply did not go through the table into the memo");
		T_CHECK(atomic_load(&g->established) && !atomic_load(&g->tcp_closing), "reply: established, not closing");
		len = mkpkt(b, 0, other->dst, "192.168.8.105", IPPROTO_TCP, other->dport, port, 0);
		b[33] = 0x14;                            /* RST+ACK */
		ref_fix(b, len);
		T_CHECK(nat_memo_translate(in, 5, true, b, len, AF_INET, 10 * S, NULL), "RST not from the memo");
		T_CHECK(atomic_load(&g->tcp_closing), "RST through the memo left the flow open");
		T_CHECK(get16(b + 22) == other->sport && !memcmp(b + 16, (uint8_t[4]){ 100, 64, 0, 2 }, 4),
			"reply not translated back to the tailnet client");
	}
	free(t);
	nat_uninit(&n);
}

/*
 * 64 UDP flows from 64 tailnet addresses, interleaved as 64 peers' packets reach a worker: after
 * the first round every flow is remembered at once, so the second and later rounds are answered
 * from the memo, but for flows whose slot another flow took later in the round (counted here
 * from the slots themselves).
 */
static void many_flows_test(void)
{
	struct nat_memos *t = calloc(1, sizeof(*t));
	unsigned owner[NAT_MEMO_SLOTS], shared = 0, hits = 0, bad = 0;
	struct nat_memo *slot[64];
	struct nat n;

	T_CHECK(!nat_init(&n, 1), "nat_init");
	memset(owner, 0, sizeof(owner));
	for (unsigned round = 0; round < 4; round++) {
		for (unsigned k = 0; k < 64; k++) {
			char src[32];
			uint8_t b[128], ref[128];
			size_t len;
			bool hit;

			snprintf(src, sizeof(src), "100.64.%u.%u", k / 8, 2 + k % 8);
			len = mkpkt(b, 0, src, "192.168.8.80", IPPROTO_UDP, (uint16_t)(40000 + k), 9000, 18);
			memcpy(ref, b, len);
			slot[k] = entry_of(t, b);
			if (!round)
				owner[slot[k] - t->slot]++;
			hit = nat_memo_translate(t, 1, false, b, len, AF_INET, 10 * S, NULL);
			if (nat_out(&n, 0, PEER, ref, len, AF_INET, lan4, 10 * S) ||
			    (!hit && nat_out_remember(&n, t, 1, 0, PEER, b, len, AF_INET, lan4, 10 * S)) ||
			    memcmp(b, ref, len) || !ref_valid(b, len))
				bad++;
			hits += round && hit;
		}
	}
	for (unsigned k = 0; k < 64; k++)
		shared += owner[slot[k] - t->slot] > 1;
	T_CHECK(!bad, "%u packets refused or translated differently through the memo", bad);
	T_CHECK(hits == 3 * (64 - shared), "64 flows: the memo answered %u of the %u packets of flows alone in "
		"their slot in rounds 2-4", hits, 3 * (64 - shared));
	printf("many flows: %u of 64 share a slot; the memo answered %u of 192 later packets\n", shared, hits);
	free(t);
	nat_uninit(&n);
}

/*
 * A UDP flow served from the memo only, for longer than its idle timeout, is touched by the
 * memo as the table's lookup would touch it, and so is not expired while it is in use; once
 * idle, it expires, and that moves nat_gen (once per flow removed), the holder's cue for a new
 * stamp. nat_expire removing nothing leaves nat_gen where it was.
 */
static void touch_and_gen_test(void)
{
	const struct flow_spec *udp = &flows[2];
	struct nat_memos *t = calloc(1, sizeof(*t));
	uint64_t now = 10 * S, gen;
	uint8_t b[128];
	unsigned hits = 0;
	struct nat n;
	size_t len;

	T_CHECK(!nat_init(&n, 1), "nat_init");
	len = mkpkt(b, 0, udp->src, udp->dst, IPPROTO_UDP, udp->sport, udp->dport, 8);
	T_CHECK(!nat_out_remember(&n, t, 1, 0, PEER, b, len, AF_INET, lan4, now), "flow refused");
	gen = nat_gen(&n);
	/* A packet every 10 s for 3 timeouts, all from the memo; expiry runs in between. */
	for (; now < 10 * S + 3 * NAT_TIMEOUT_UDP_NS; now += 10 * S) {
		len = mkpkt(b, 0, udp->src, udp->dst, IPPROTO_UDP, udp->sport, udp->dport, 8);
		hits += nat_memo_translate(t, 1, false, b, len, AF_INET, now, NULL);
		T_CHECK(nat_expire(&n, now + 5 * S) == 0, "a flow in use through the memo expired at %llu s",
			(unsigned long long)(now / S));
	}
	T_CHECK(hits == 3 * NAT_TIMEOUT_UDP_NS / (10 * S), "the memo answered %u packets", hits);
	T_CHECK(nat_gen(&n) == gen, "nat_gen moved without a removal");
	T_CHECK(nat_expire(&n, now + NAT_TIMEOUT_UDP_NS) == 1, "the idle flow did not expire");
	T_CHECK(nat_gen(&n) == gen + 1, "the removal did not move nat_gen");
	free(t);
	nat_uninit(&n);
}

/*
 * A UDP checksum that the memo's update brings to 0 leaves as 0xffff (RFC 768), both families:
 * the payload's first two bytes run through all 65536 values under one stamp, so every
 * packet after the first is translated from the memo, and one in 65536 sums to zero.
 */
static void zero_csum_test(int v6)
{
	const struct flow_spec *f = &flows[v6 ? 7 : 2];
	int family = v6 ? AF_INET6 : AF_INET;
	size_t hl = v6 ? 40 : 20, len;
	unsigned hits = 0, zero = 0, bad = 0, was_zero = 0;
	struct nat_memos *m = calloc(1, sizeof(*m));
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
		hit = nat_memo_translate(m, 1, false, b, len, family, 10 * S, NULL);
		if (nat_out(&n, 0, PEER, ref, len, family, v6 ? lan6 : lan4, 10 * S) ||
		    (!hit && nat_out_remember(&n, m, 1, 0, PEER, b, len, family, v6 ? lan6 : lan4, 10 * S))) {
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
	free(m);
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
	many_flows_test();
	touch_and_gen_test();
	zero_csum_test(0);
	zero_csum_test(1);
	mg_rcu_unregister_thread();
	printf("%s\n", t_failures ? "FAILED" : "natmemo: all cases pass");
	return t_failures != 0;
}
