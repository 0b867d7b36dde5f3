// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_nat.c - the SNAT table: translation out and back for TCP, UDP, ICMP echo, IPv4 and IPv6
 * with checksums verified from scratch; per-worker port slices; reuse of a flow; unknown replies;
 * expiry by protocol and state; exhaustion of a slice's ports towards one remote endpoint at a
 * bounded cost per creation; UDP checksums that come out zero; a per-peer flow limit; replies to
 * flows the LAN started left untranslated.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sodium.h>
#include "nat.h"
#include "flowtrack.h"
#include "pktcheck.h"

#define S 1000000000ULL
#define PEER 7u                       /* the sending peer's id, unless a case says otherwise */

static uint8_t lan4[4], lan6[16];

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Out: source becomes the router, sport a NAT port of the worker's slice. Returns the NAT port. */
static uint16_t out_ok(struct nat *n, unsigned w, uint8_t *b, size_t len, int v6, uint8_t proto, uint64_t now)
{
	size_t hl = v6 ? 40 : 20;
	uint16_t port;

	T_CHECK(!nat_out(n, w, PEER, b, len, v6 ? AF_INET6 : AF_INET, v6 ? lan6 : lan4, now), "nat_out refused");
	T_CHECK(!memcmp(b + (v6 ? 8 : 12), v6 ? (void *)lan6 : (void *)lan4, v6 ? 16 : 4), "source not the router");
	port = get16(b + hl + (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ? 4 : 0));
	T_CHECK(port >= n->pools[w].port_lo && port <= n->pools[w].port_hi, "port %u outside worker %u's slice", port, w);
	T_CHECK(ref_valid(b, len), "checksums wrong after nat_out (proto %u, v6 %d)", proto, v6);
	return port;
}

static void roundtrip(struct nat *n, int v6, uint8_t proto)
{
	const char *cli = v6 ? "fd7a:115c:a1e0::2" : "100.64.0.2", *srv = v6 ? "fd00:8::80" : "192.168.8.80";
	const char *me = v6 ? "fd00:8::105" : "192.168.8.105";
	uint8_t b[256], r[256];
	size_t len = mkpkt(b, v6, cli, srv, proto, 40000, 443, 37), rlen;
	uint16_t port = out_ok(n, 1, b, len, v6, proto, 10 * S), port2;
	size_t hl = v6 ? 40 : 20;

	/* The reply, from the server to the router's NAT port. */
	bool icmp = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;

	/* An echo reply carries the (translated) identifier where the request had it. */
	rlen = mkpkt(r, v6, srv, me, proto, icmp ? port : 443, port, 37);
	if (icmp) {
		r[hl] = proto == IPPROTO_ICMP ? 0 : 129;     /* echo reply */
		ref_fix(r, rlen);
	}
	T_CHECK(nat_in(n, r, rlen, v6 ? AF_INET6 : AF_INET, 11 * S), "reply not matched (proto %u v6 %d)", proto, v6);
	{
		uint8_t want[16];

		inet_pton(v6 ? AF_INET6 : AF_INET, cli, want);
		T_CHECK(!memcmp(r + (v6 ? 24 : 16), want, v6 ? 16 : 4), "reply not addressed back to the client");
	}
	T_CHECK(get16(r + hl + (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 ? 4 : 2)) == 40000,
		"reply port/id not restored");
	T_CHECK(ref_valid(r, rlen), "checksums wrong after nat_in (proto %u v6 %d)", proto, v6);
	/* The next packet of the flow reuses the mapping. */
	len = mkpkt(b, v6, cli, srv, proto, 40000, 443, 5);
	port2 = out_ok(n, 1, b, len, v6, proto, 12 * S);
	T_CHECK(port2 == port, "flow not reused: %u then %u", port, port2);
}

/*
 * A UDP checksum that the incremental update brings to 0 must leave as 0xffff, in both directions
 * and both families: search the first two payload bytes for the inputs whose translated packet
 * sums to zero (one in 65536), and check the field of every translation. An IPv4 UDP packet
 * without a checksum (0) keeps none.
 */
static void zero_csum_search(struct nat *n, int v6)
{
	const char *cli = v6 ? "fd7a:115c:a1e0::9" : "100.64.0.9", *srv = v6 ? "fd00:8::53" : "192.168.8.53";
	const char *me = v6 ? "fd00:8::105" : "192.168.8.105";
	int family = v6 ? AF_INET6 : AF_INET;
	size_t hl = v6 ? 40 : 20, len;
	unsigned zero_out = 0, zero_in = 0, bad = 0;
	uint16_t port = 0;
	uint8_t b[128];

	for (unsigned x = 0; x < 65536; x++) {
		len = mkpkt(b, v6, cli, srv, IPPROTO_UDP, 5353, 53, 6);
		b[hl + 8] = (uint8_t)(x >> 8);
		b[hl + 9] = (uint8_t)x;
		ref_fix(b, len);
		if (!b[hl + 6] && !b[hl + 7])
			b[hl + 6] = b[hl + 7] = 0xff;   /* a computed 0 is sent as 0xffff */
		if (nat_out(n, 0, PEER, b, len, family, v6 ? lan6 : lan4, 600 * S)) {
			bad++;
			continue;
		}
		port = get16(b + hl);
		zero_out += !b[hl + 6] && !b[hl + 7];
		bad += !ref_valid(b, len);
		/* The same payload back from the server to the NAT port. */
		len = mkpkt(b, v6, srv, me, IPPROTO_UDP, 53, port, 6);
		b[hl + 8] = (uint8_t)(x >> 8);
		b[hl + 9] = (uint8_t)x;
		ref_fix(b, len);
		if (!b[hl + 6] && !b[hl + 7])
			b[hl + 6] = b[hl + 7] = 0xff;
		if (!nat_in(n, b, len, family, 600 * S)) {
			bad++;
			continue;
		}
		zero_in += !b[hl + 6] && !b[hl + 7];
		bad += !ref_valid(b, len);
	}
	T_CHECK(!bad, "v6 %d: %u translations refused or with a wrong checksum", v6, bad);
	T_CHECK(!zero_out, "v6 %d: %u outbound UDP checksums written as 0 (must be 0xffff)", v6, zero_out);
	T_CHECK(!zero_in, "v6 %d: %u inbound UDP checksums written as 0 (must be 0xffff)", v6, zero_in);
	if (!v6) {
		/* IPv4 UDP without a checksum: translated, and still without one. */
		len = mkpkt(b, 0, cli, srv, IPPROTO_UDP, 5354, 53, 6);
		ref_fix(b, len);
		b[hl + 6] = b[hl + 7] = 0;
		T_CHECK(!nat_out(n, 0, PEER, b, len, AF_INET, lan4, 600 * S), "checksum-less UDP refused");
		T_CHECK(!b[hl + 6] && !b[hl + 7], "checksum-less IPv4 UDP got a checksum %02x%02x", b[hl + 6], b[hl + 7]);
	}
}

/*
 * One peer cannot take the pool: its NAT_FLOWS_PER_PEER + 1st flow is refused (-EDQUOT, counted by
 * the caller as nat_peer_limit) while another peer still gets flows; expiry gives the allowance
 * back. Remote ports vary so that the slice's ports are not what runs out.
 */
static void peer_limit_test(struct nat *n)
{
	unsigned ok = 0;
	uint8_t b[128];
	size_t len;
	int err;

	for (unsigned i = 0; i < NAT_FLOWS_PER_PEER; i++) {
		len = mkpkt(b, 0, "100.64.0.11", "192.168.8.81", IPPROTO_UDP, (uint16_t)(1000 + i % 50000),
			    (uint16_t)(1 + i / 50), 0);
		ok += !nat_out(n, 1, 1001, b, len, AF_INET, lan4, 700 * S);
	}
	T_CHECK(ok == NAT_FLOWS_PER_PEER, "peer got %u of its %u flows", ok, NAT_FLOWS_PER_PEER);
	len = mkpkt(b, 0, "100.64.0.11", "192.168.8.81", IPPROTO_UDP, 999, 9999, 0);
	err = nat_out(n, 1, 1001, b, len, AF_INET, lan4, 700 * S);
	T_CHECK(err == -EDQUOT, "flow %u of one peer: %d, want -EDQUOT", NAT_FLOWS_PER_PEER + 1, err);
	/* The same peer on another worker is held to the same count. */
	err = nat_out(n, 0, 1001, b, len, AF_INET, lan4, 700 * S);
	T_CHECK(err == -EDQUOT, "peer over its limit through worker 0: %d, want -EDQUOT", err);
	/* Packets of the peer's existing flows still pass. */
	len = mkpkt(b, 0, "100.64.0.11", "192.168.8.81", IPPROTO_UDP, 1000, 1, 0);
	T_CHECK(!nat_out(n, 1, 1001, b, len, AF_INET, lan4, 700 * S), "an existing flow refused at the limit");
	len = mkpkt(b, 0, "100.64.0.12", "192.168.8.81", IPPROTO_UDP, 999, 9999, 0);
	T_CHECK(!nat_out(n, 1, 1002, b, len, AF_INET, lan4, 700 * S), "another peer refused by one peer's limit");
	nat_expire(n, 700 * S + NAT_TIMEOUT_UDP_NS);
	rcu_barrier();
	len = mkpkt(b, 0, "100.64.0.11", "192.168.8.81", IPPROTO_UDP, 999, 9999, 0);
	T_CHECK(!nat_out(n, 1, 1001, b, len, AF_INET, lan4, 800 * S), "expiry did not give the peer's allowance back");
	T_CHECK(atomic_load(&n->peer_flows[1001 % NAT_PEER_SLOTS]) == 1, "peer count %u after expiry, want 1",
		atomic_load(&n->peer_flows[1001 % NAT_PEER_SLOTS]));
}

/* Two workers see the same new flows at the same time (RSS moved them, or they race): both must
 * end up with one mapping per flow. */
#define RACE_FLOWS 2000

struct racer {
	struct nat *n;
	unsigned worker;
	uint16_t port[RACE_FLOWS];
	unsigned refused;
};

/*
 * Replies to flows the LAN started (flowtrack.h) pass SNAT untranslated: TCP, UDP and echo, both
 * families; a packet of the same shape from a flow the LAN did not start is translated; a flow
 * the tailnet started keeps its translation even when the LAN later sends on the same tuple.
 */
static void lan_started_test(void)
{
	static const struct { int v6; uint8_t proto; } cases[] = {
		{ 0, IPPROTO_TCP }, { 0, IPPROTO_UDP }, { 0, IPPROTO_ICMP },
		{ 1, IPPROTO_TCP }, { 1, IPPROTO_UDP }, { 1, IPPROTO_ICMPV6 },
	};
	struct flowtrack ft;
	struct nat n;
	uint8_t b[256], keep[256];
	size_t len;

	T_CHECK(!nat_init(&n, 1) && !flowtrack_init(&ft, 1), "init");
	nat_set_lan_flows(&n, &ft);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int v6 = cases[i].v6, fam = v6 ? AF_INET6 : AF_INET;
		uint8_t proto = cases[i].proto;
		bool icmp = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
		const char *host = v6 ? "fd00:8::80" : "192.168.8.80", *lap = v6 ? "fd7a:115c:a1e0::2" : "100.64.0.2";
		size_t hl = v6 ? 40 : 20;

		/* The LAN host's request to the laptop: remembered. */
		len = mkpkt(b, v6, host, lap, proto, 50000, 53, 5);
		T_CHECK(flowtrack_note_out(&ft, 0, b, len, fam, 10 * S) == FLOWTRACK_NEW,
			"proto %u v6 %d: the LAN's request not remembered", proto, v6);
		/* The laptop's answer: through untouched. */
		len = mkpkt(b, v6, lap, host, proto, icmp ? 50000 : 53, 50000, 5);
		if (icmp) {
			b[hl] = proto == IPPROTO_ICMP ? 0 : 129;
			ref_fix(b, len);
		} else if (proto == IPPROTO_TCP) {
			b[hl + 13] = 0x12;                   /* SYN-ACK */
			ref_fix(b, len);
		}
		memcpy(keep, b, len);
		T_CHECK(nat_out(&n, 0, PEER, b, len, fam, v6 ? lan6 : lan4, 11 * S) == NAT_PASS,
			"proto %u v6 %d: the answer to a LAN-started flow not passed", proto, v6);
		T_CHECK(!memcmp(b, keep, len), "proto %u v6 %d: the passed answer was changed", proto, v6);
		/* Another port (or identifier) of the laptop: its own flow, translated. */
		len = mkpkt(b, v6, lap, host, proto, icmp ? 50001 : 54, 50000, 5);
		if (icmp)
			T_CHECK(nat_out(&n, 0, PEER, b, len, fam, v6 ? lan6 : lan4, 11 * S) == 0 &&
				!memcmp(b + (v6 ? 8 : 12), v6 ? (void *)lan6 : (void *)lan4, v6 ? 16 : 4),
				"proto %u v6 %d: an echo request the LAN did not start not translated", proto, v6);
		else
			out_ok(&n, 0, b, len, v6, proto, 11 * S);
		/* After the LAN flow's life, the same answer is no longer passed. */
		len = mkpkt(b, v6, lap, host, proto, icmp ? 50000 : 53, 50000, 5);
		if (icmp) {
			b[hl] = proto == IPPROTO_ICMP ? 0 : 129;
			ref_fix(b, len);
			T_CHECK(nat_out(&n, 0, PEER, b, len, fam, v6 ? lan6 : lan4, 11 * S + FLOWTRACK_TIMEOUT_NS) ==
				-EPROTONOSUPPORT, "proto %u v6 %d: an echo reply passed after its flow expired", proto, v6);
		} else {
			T_CHECK(nat_out(&n, 0, PEER, b, len, fam, v6 ? lan6 : lan4, 11 * S + FLOWTRACK_TIMEOUT_NS) == 0,
				"proto %u v6 %d: not translated after the LAN flow expired", proto, v6);
		}
	}
	/* A tailnet-started flow stays translated although the LAN's answers (after nat_in) would
	 * look like a flow of its own: the NAT table is asked first. */
	len = mkpkt(b, 0, "100.64.0.9", "192.168.8.80", IPPROTO_UDP, 7000, 9000, 5);
	out_ok(&n, 0, b, len, 0, IPPROTO_UDP, 500 * S);
	len = mkpkt(b, 0, "192.168.8.80", "100.64.0.9", IPPROTO_UDP, 9000, 7000, 5);
	flowtrack_note_out(&ft, 0, b, len, AF_INET, 500 * S);
	len = mkpkt(b, 0, "100.64.0.9", "192.168.8.80", IPPROTO_UDP, 7000, 9000, 5);
	out_ok(&n, 0, b, len, 0, IPPROTO_UDP, 501 * S);
	nat_uninit(&n);
	flowtrack_uninit(&ft);
}

static void *race(void *arg)
{
	struct racer *r = arg;
	uint8_t b[128];

	mg_rcu_register_thread();
	for (unsigned i = 0; i < RACE_FLOWS; i++) {
		size_t len = mkpkt(b, 0, "100.64.0.7", "192.168.8.80", IPPROTO_UDP, (uint16_t)(2000 + i), 9, 0);

		if (!nat_out(r->n, r->worker, PEER, b, len, AF_INET, lan4, 500 * S))
			r->port[i] = get16(b + 20);
		else
			r->refused++;
		mg_rcu_quiescent_state();
	}
	mg_rcu_unregister_thread();
	return NULL;
}

static void race_test(struct nat *n)
{
	static struct racer a, b;
	pthread_t ta, tb;
	uint64_t before = atomic_load(&n->nflows);
	unsigned same = 0;

	a = (struct racer){ .n = n, .worker = 0 };
	b = (struct racer){ .n = n, .worker = 1 };
	mg_rcu_thread_offline();
	pthread_create(&ta, NULL, race, &a);
	pthread_create(&tb, NULL, race, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	mg_rcu_thread_online();
	for (unsigned i = 0; i < RACE_FLOWS; i++)
		same += a.port[i] == b.port[i];
	T_CHECK(!a.refused && !b.refused, "refused %u/%u", a.refused, b.refused);
	T_CHECK(same == RACE_FLOWS, "only %u of %u flows got one mapping on both workers", same, RACE_FLOWS);
	T_CHECK(atomic_load(&n->nflows) - before == RACE_FLOWS, "%lu flows for %u tuples",
		(unsigned long)(atomic_load(&n->nflows) - before), RACE_FLOWS);
}

int main(void)
{
	struct nat n;
	uint8_t b[256];
	size_t len;

	if (sodium_init() < 0)
		return 1;
	mg_rcu_register_thread();
	inet_pton(AF_INET, "192.168.8.105", lan4);
	inet_pton(AF_INET6, "fd00:8::105", lan6);
	T_CHECK(!nat_init(&n, 2), "nat_init");
	T_CHECK(n.pools[0].port_hi < n.pools[1].port_lo, "worker slices overlap");

	/* 1-6: every protocol, both families. */
	roundtrip(&n, 0, IPPROTO_TCP);
	roundtrip(&n, 0, IPPROTO_UDP);
	roundtrip(&n, 0, IPPROTO_ICMP);
	roundtrip(&n, 1, IPPROTO_TCP);
	roundtrip(&n, 1, IPPROTO_UDP);
	roundtrip(&n, 1, IPPROTO_ICMPV6);

	/* 7: a reply to a port nobody mapped is not translated. */
	len = mkpkt(b, 0, "192.168.8.80", "192.168.8.105", IPPROTO_UDP, 53, 61999, 4);
	T_CHECK(!nat_in(&n, b, len, AF_INET, 13 * S), "unknown reply translated");
	/* 8: only echo requests create ICMP flows; fragments are refused. */
	len = mkpkt(b, 0, "100.64.0.2", "192.168.8.80", IPPROTO_ICMP, 7, 0, 4);
	b[20] = 13;                                  /* timestamp request */
	T_CHECK(nat_out(&n, 0, PEER, b, len, AF_INET, lan4, 13 * S) == -EPROTONOSUPPORT, "non-echo ICMP created a flow");
	len = mkpkt(b, 0, "100.64.0.2", "192.168.8.80", IPPROTO_UDP, 7, 7, 4);
	b[6] = 0x20;                                 /* MF: a first fragment */
	T_CHECK(nat_out(&n, 0, PEER, b, len, AF_INET, lan4, 13 * S) == -EPROTONOSUPPORT, "fragment translated");

	/* 9: expiry, each protocol at its own timeout after the last packet (12 s). */
	T_CHECK(atomic_load(&n.nflows) == 6, "6 flows expected, have %lu", (unsigned long)atomic_load(&n.nflows));
	T_CHECK(nat_expire(&n, 12 * S + NAT_TIMEOUT_ICMP_NS - 1) == 0, "expired too early");
	T_CHECK(nat_expire(&n, 12 * S + NAT_TIMEOUT_ICMP_NS) == 2, "ICMP flows did not expire at their timeout");
	T_CHECK(nat_expire(&n, 12 * S + NAT_TIMEOUT_UDP_NS - 1) == 0, "UDP expired too early");
	T_CHECK(nat_expire(&n, 12 * S + NAT_TIMEOUT_UDP_NS) == 2, "UDP flows did not expire at their timeout");
	/* TCP (replied, so established, no FIN) lives on the long timer. */
	T_CHECK(nat_expire(&n, 12 * S + NAT_TIMEOUT_TCP_TRANS_NS) == 0, "established TCP expired on the short timer");
	T_CHECK(nat_expire(&n, 12 * S + NAT_TIMEOUT_TCP_EST_NS) == 2, "established TCP did not expire at its timeout");
	/* 10: a TCP flow that saw FIN expires on the short timer. */
	len = mkpkt(b, 0, "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 40001, 22, 0);
	out_ok(&n, 0, b, len, 0, IPPROTO_TCP, 100 * S);
	len = mkpkt(b, 0, "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 40001, 22, 0);
	b[33] = 0x11;                                /* FIN+ACK */
	ref_fix(b, len);
	out_ok(&n, 0, b, len, 0, IPPROTO_TCP, 100 * S);
	T_CHECK(nat_expire(&n, 100 * S + NAT_TIMEOUT_TCP_TRANS_NS) == 1, "closing TCP did not expire on the short timer");

	/* 11: exhaustion: every port of worker 0's slice towards one server endpoint, then refusal. */
	{
		unsigned span = n.pools[0].port_hi - n.pools[0].port_lo + 1, ok = 0;

		for (unsigned i = 0; i < span + 10; i++) {
			len = mkpkt(b, 0, "100.64.0.3", "192.168.8.80", IPPROTO_UDP, (uint16_t)(1024 + i), 53, 0);
			ok += !nat_out(&n, 0, PEER, b, len, AF_INET, lan4, 200 * S);
		}
		T_CHECK(ok == span, "slice of %u ports gave %u flows", span, ok);
		/* The cost of a creation does not grow with occupancy: with every port towards this
		 * endpoint taken, a refused creation tries at most NAT_PORT_PROBES ports, not the slice. */
		{
			uint64_t before = n.pools[0].probes;
			unsigned refused = 0;

			for (unsigned i = 0; i < 100; i++) {
				len = mkpkt(b, 0, "100.64.0.3", "192.168.8.80", IPPROTO_UDP, (uint16_t)(30000 + i), 53, 0);
				refused += nat_out(&n, 0, PEER, b, len, AF_INET, lan4, 200 * S) == -EADDRNOTAVAIL;
			}
			T_CHECK(refused == 100, "full slice: %u of 100 new flows refused for want of a port", refused);
			T_CHECK(n.pools[0].probes - before <= 100 * NAT_PORT_PROBES,
				"100 creations in a full slice of %u ports cost %lu probes (bound %u each)", span,
				(unsigned long)(n.pools[0].probes - before), NAT_PORT_PROBES);
		}
		/* Worker 1's slice is untouched by worker 0's exhaustion. */
		len = mkpkt(b, 0, "100.64.0.3", "192.168.8.80", IPPROTO_UDP, 9, 53, 0);
		T_CHECK(!nat_out(&n, 1, PEER, b, len, AF_INET, lan4, 200 * S), "worker 1 affected by worker 0's exhaustion");
		/* Expiry returns the ports: the slice works again after a grace period. */
		nat_expire(&n, 200 * S + NAT_TIMEOUT_UDP_NS);
		mg_rcu_barrier();
		len = mkpkt(b, 0, "100.64.0.4", "192.168.8.80", IPPROTO_UDP, 1, 53, 0);
		T_CHECK(!nat_out(&n, 0, PEER, b, len, AF_INET, lan4, 400 * S), "ports not reusable after expiry");
	}
	/* 12: UDP checksums that come out zero. */
	zero_csum_search(&n, 0);
	zero_csum_search(&n, 1);
	/* 13: a per-peer flow limit. */
	peer_limit_test(&n);
	/* 14: concurrent creation of the same flows by two workers. */
	race_test(&n);
	/* 15: replies to flows the LAN started keep their addresses. */
	lan_started_test();
	nat_uninit(&n);
	mg_rcu_unregister_thread();
	printf("%s\n", t_failures ? "FAILED" : "nat: all cases pass");
	return t_failures != 0;
}
