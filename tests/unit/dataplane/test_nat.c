// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_nat.c - the SNAT table: translation out and back for TCP, UDP, ICMP echo, IPv4 and IPv6
 * with checksums verified from scratch; per-worker port slices; reuse of a flow; unknown replies;
 * expiry by protocol and state; exhaustion of a slice's ports towards one remote endpoint.
 */
#include <pthread.h>
#include <stdlib.h>
#include <sodium.h>
#include "nat.h"
#include "pktcheck.h"

#define S 1000000000ULL

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

	T_CHECK(nat_out(n, w, b, len, v6 ? AF_INET6 : AF_INET, v6 ? lan6 : lan4, now), "nat_out refused");
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

/* Two workers see the same new flows at the same time (RSS moved them, or they race): both must
 * end up with one mapping per flow. */
#define RACE_FLOWS 2000

struct racer {
	struct nat *n;
	unsigned worker;
	uint16_t port[RACE_FLOWS];
	unsigned refused;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	uint8_t b[128];

	mg_rcu_register_thread();
	for (unsigned i = 0; i < RACE_FLOWS; i++) {
		size_t len = mkpkt(b, 0, "100.64.0.7", "192.168.8.80", IPPROTO_UDP, (uint16_t)(2000 + i), 9, 0);

		if (nat_out(r->n, r->worker, b, len, AF_INET, lan4, 500 * S))
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
	T_CHECK(!nat_out(&n, 0, b, len, AF_INET, lan4, 13 * S), "non-echo ICMP created a flow");
	len = mkpkt(b, 0, "100.64.0.2", "192.168.8.80", IPPROTO_UDP, 7, 7, 4);
	b[6] = 0x20;                                 /* MF: a first fragment */
	T_CHECK(!nat_out(&n, 0, b, len, AF_INET, lan4, 13 * S), "fragment translated");

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
			ok += nat_out(&n, 0, b, len, AF_INET, lan4, 200 * S);
		}
		T_CHECK(ok == span, "slice of %u ports gave %u flows", span, ok);
		/* Worker 1's slice is untouched by worker 0's exhaustion. */
		len = mkpkt(b, 0, "100.64.0.3", "192.168.8.80", IPPROTO_UDP, 9, 53, 0);
		T_CHECK(nat_out(&n, 1, b, len, AF_INET, lan4, 200 * S), "worker 1 affected by worker 0's exhaustion");
		/* Expiry returns the ports: the slice works again after a grace period. */
		nat_expire(&n, 200 * S + NAT_TIMEOUT_UDP_NS);
		mg_rcu_barrier();
		len = mkpkt(b, 0, "100.64.0.4", "192.168.8.80", IPPROTO_UDP, 1, 53, 0);
		T_CHECK(nat_out(&n, 0, b, len, AF_INET, lan4, 400 * S), "ports not reusable after expiry");
	}
	/* 12: concurrent creation of the same flows by two workers. */
	race_test(&n);
	nat_uninit(&n);
	mg_rcu_unregister_thread();
	printf("%s\n", t_failures ? "FAILED" : "nat: all cases pass");
	return t_failures != 0;
}
