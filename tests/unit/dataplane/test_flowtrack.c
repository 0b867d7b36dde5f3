// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_flowtrack.c - the remembered LAN-started flows (flowtrack.h):
 *   1  a reply matches only the exact reversed tuple (addresses, ports, protocol, family)
 *   2  an entry written by one worker is found by a lookup that may run on any worker
 *   3  an entry expires FLOWTRACK_TIMEOUT_NS after the flow's last outgoing packet
 *   4  bounded: more flows than slots push live ones out, each push reported as EVICTED;
 *      the newest flows are always found
 *   5  TCP by its ports and an ICMP echo by its identifier are tracked (an echo reply matches
 *      the request's identifier); other ICMP, other protocols and later fragments are not
 */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "flowtrack.h"
#include "pkt.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

#define S 1000000000ULL

static uint32_t pkt(uint8_t *b, uint8_t proto, const uint8_t src[4], uint16_t sport, const uint8_t dst[4], uint16_t dport)
{
	struct mg_endpoint d = { .family = AF_INET, .port = dport };

	memcpy(d.addr, dst, 4);
	ipudp_build(b, &d, src, sport, 4);
	b[9] = proto;
	return IP4_HLEN + UDP_HLEN + 4;
}

static const uint8_t host[4] = { 192, 168, 8, 80 }, peer[4] = { 100, 64, 0, 2 }, other[4] = { 100, 64, 0, 3 };

int main(void)
{
	struct flowtrack ft;
	uint8_t b[64];
	uint32_t len;
	uint64_t now = 1000 * S;
	unsigned evicted = 0;

	if (sodium_init() < 0 || flowtrack_init(&ft, 2))
		return 1;
	/* 1, 2: worker 1 notes host:5353 -> peer:53 */
	len = pkt(b, IPPROTO_UDP, host, 5353, peer, 53);
	CHECK(flowtrack_note_out(&ft, 1, b, len, AF_INET, now) == FLOWTRACK_NEW);
	CHECK(flowtrack_note_out(&ft, 1, b, len, AF_INET, now) == FLOWTRACK_NONE);   /* known */
	CHECK(flowtrack_is_reply(&ft, b + 0, pkt(b, IPPROTO_UDP, peer, 53, host, 5353), AF_INET, now));
	CHECK(!flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, peer, 53, host, 5354), AF_INET, now));
	CHECK(!flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, peer, 54, host, 5353), AF_INET, now));
	CHECK(!flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, other, 53, host, 5353), AF_INET, now));
	CHECK(!flowtrack_is_reply(&ft, b, pkt(b, 132, peer, 53, host, 5353), AF_INET, now));
	CHECK(!flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, host, 5353, peer, 53), AF_INET, now)); /* not reversed */

	/* 3: alive just before the timeout, refreshed by an outgoing packet, gone after it */
	CHECK(flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, peer, 53, host, 5353), AF_INET, now + FLOWTRACK_TIMEOUT_NS - 1));
	CHECK(!flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, peer, 53, host, 5353), AF_INET, now + FLOWTRACK_TIMEOUT_NS));
	len = pkt(b, IPPROTO_UDP, host, 5353, peer, 53);
	CHECK(flowtrack_note_out(&ft, 1, b, len, AF_INET, now + 60 * S) == FLOWTRACK_NONE);
	CHECK(flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, peer, 53, host, 5353), AF_INET, now + 170 * S));
	CHECK(!flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, peer, 53, host, 5353), AF_INET, now + 181 * S));

	/* 4: 3 x FLOWTRACK_SLOTS distinct live flows on worker 0: evictions are reported, and
	 * the last FLOWTRACK_WAYS flows noted are all still there */
	now += 1000 * S;
	for (unsigned i = 0; i < 3 * FLOWTRACK_SLOTS; i++) {
		uint8_t h[4] = { 192, 168, (uint8_t)(i >> 8), (uint8_t)i };

		len = pkt(b, IPPROTO_UDP, h, (uint16_t)(1024 + i / 65536), peer, 53);
		evicted += flowtrack_note_out(&ft, 0, b, len, AF_INET, now) == FLOWTRACK_EVICTED;
	}
	CHECK(evicted >= 2 * FLOWTRACK_SLOTS);
	for (unsigned i = 3 * FLOWTRACK_SLOTS - FLOWTRACK_WAYS; i < 3 * FLOWTRACK_SLOTS; i++) {
		uint8_t h[4] = { 192, 168, (uint8_t)(i >> 8), (uint8_t)i };

		CHECK(flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, peer, 53, h, (uint16_t)(1024 + i / 65536)), AF_INET, now));
	}
	/* expired entries are reused before live ones are pushed out */
	CHECK(flowtrack_note_out(&ft, 0, b, pkt(b, IPPROTO_UDP, host, 9, peer, 9), AF_INET,
				 now + FLOWTRACK_TIMEOUT_NS) == FLOWTRACK_NEW);

	/* 5: TCP and echo tracked; the rest not */
	CHECK(flowtrack_note_out(&ft, 0, b, pkt(b, IPPROTO_TCP, host, 1, peer, 2), AF_INET, now) != FLOWTRACK_NONE);   /* NEW or EVICTED: 4 filled the table */
	CHECK(flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_TCP, peer, 2, host, 1), AF_INET, now));
	CHECK(!flowtrack_is_reply(&ft, b, pkt(b, IPPROTO_UDP, peer, 2, host, 1), AF_INET, now));
	/* an echo request: type 8 in the byte a UDP header's source port starts with, identifier
	 * 0x1234 where UDP has its length */
	len = pkt(b, IPPROTO_ICMP, host, 8 << 8, peer, 2);
	b[IP4_HLEN + 4] = 0x12;
	b[IP4_HLEN + 5] = 0x34;
	CHECK(flowtrack_note_out(&ft, 0, b, len, AF_INET, now) != FLOWTRACK_NONE);
	len = pkt(b, IPPROTO_ICMP, peer, 0, host, 2);          /* echo reply, identifier 0x1234 */
	b[IP4_HLEN + 4] = 0x12;
	b[IP4_HLEN + 5] = 0x34;
	CHECK(flowtrack_is_reply(&ft, b, len, AF_INET, now));
	b[IP4_HLEN + 5] = 0x35;
	CHECK(!flowtrack_is_reply(&ft, b, len, AF_INET, now));
	len = pkt(b, IPPROTO_ICMP, host, 13 << 8, peer, 2);    /* timestamp request */
	CHECK(flowtrack_note_out(&ft, 0, b, len, AF_INET, now) == FLOWTRACK_NONE);
	CHECK(flowtrack_note_out(&ft, 0, b, pkt(b, IPPROTO_ICMP, host, 1, peer, 2), AF_INET, now) == FLOWTRACK_NONE);
	CHECK(flowtrack_note_out(&ft, 0, b, pkt(b, 47 /* GRE */, host, 1, peer, 2), AF_INET, now) == FLOWTRACK_NONE);
	len = pkt(b, IPPROTO_UDP, host, 7, peer, 7);
	b[6] = 0x00;
	b[7] = 0x10;                     /* fragment offset 16: no ports */
	CHECK(flowtrack_note_out(&ft, 0, b, len, AF_INET, now) == FLOWTRACK_NONE);

	flowtrack_uninit(&ft);
	printf("flowtrack: %d checks, %d failures\n", checks, failures);
	return failures != 0;
}
