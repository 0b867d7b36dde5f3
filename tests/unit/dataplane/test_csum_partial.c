// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_csum_partial.c - l4_csum_complete_partial (pkt.h): the TCP/UDP checksum a sender with
 * checksum offload left as the pseudo-header sum is completed; nothing else is touched.
 *
 *   #  packet                                             expect
 *   1  TCP/UDP, IPv4/IPv6, payload 0..1400: partial       completed, verifies from scratch
 *   2  the same packets with full checksums               untouched (no payload read needed)
 *   3  a full checksum that happens to equal the pseudo   untouched (it verifies)
 *      sum (payload adjusted until it does)
 *   4  UDPv4 with checksum 0 (none)                       untouched
 *   5  IPv4 fragment (MF, or an offset) with a partial    untouched (the kernel completes
 *      looking field                                       before it fragments)
 *   6  ICMP                                               untouched
 *   7  random addresses, lengths, protocols and fields     the inline test answers as the
 *      (partial, full, random, zero)                       whole test (l4_csum_partial_finish)
 */
#include "pkt.h"
#include "pktcheck.h"

/* The sender's view: the field holds the folded pseudo-header sum, not complemented. */
static void make_partial(uint8_t *b, size_t len)
{
	int v6 = b[0] >> 4 == 6;
	size_t hl = v6 ? 40 : 20, off = (v6 ? b[6] : b[9]) == IPPROTO_TCP ? 16 : 6;
	uint8_t proto = v6 ? b[6] : b[9];
	uint16_t p = ref_sum(b + (v6 ? 8 : 12), v6 ? 32 : 8, proto + (uint32_t)(len - hl));

	b[hl + off] = (uint8_t)(p >> 8);
	b[hl + off + 1] = (uint8_t)p;
}

static void case_partial(int v6, uint8_t proto, size_t payload)
{
	uint8_t b[1600], want[1600];
	size_t len = mkpkt(b, v6, v6 ? "fd00:8::80" : "192.168.8.80", v6 ? "fd7a:115c:a1e0::2" : "100.64.0.2",
			   proto, 40000, 443, payload);

	memcpy(want, b, len);
	T_CHECK(!l4_csum_complete_partial(b, (uint32_t)len, v6 ? AF_INET6 : AF_INET) && !memcmp(b, want, len),
		"#2 v6=%d proto %u payload %zu: a full checksum was touched", v6, proto, payload);
	make_partial(b, len);
	T_CHECK(l4_csum_complete_partial(b, (uint32_t)len, v6 ? AF_INET6 : AF_INET),
		"#1 v6=%d proto %u payload %zu: partial not detected", v6, proto, payload);
	T_CHECK(ref_valid(b, len), "#1 v6=%d proto %u payload %zu: completed checksum wrong", v6, proto, payload);
	T_CHECK(!memcmp(b, want, len), "#1 v6=%d proto %u payload %zu: not the sender's full checksum",
		v6, proto, payload);
}

/* #3: vary two payload bytes until the full checksum equals the pseudo-header sum. */
static void case_coincidence(int v6)
{
	uint8_t b[200], want[200];
	size_t len = 0, hl = v6 ? 40 : 20;
	int found = 0;

	for (unsigned w = 0; w < 0x10000 && !found; w++) {
		uint16_t p, f;

		len = mkpkt(b, v6, v6 ? "fd00:8::80" : "192.168.8.80", v6 ? "fd7a:115c:a1e0::2" : "100.64.0.2",
			    IPPROTO_UDP, 40000, 53, 40);
		b[hl + 8] = (uint8_t)(w >> 8);
		b[hl + 9] = (uint8_t)w;
		ref_fix(b, len);
		p = ref_sum(b + (v6 ? 8 : 12), v6 ? 32 : 8, IPPROTO_UDP + (uint32_t)(len - hl));
		f = (uint16_t)(b[hl + 6] << 8 | b[hl + 7]);
		found = f == p;
	}
	T_CHECK(found, "#3 v6=%d: no payload gives a checksum equal to the pseudo sum", v6);
	memcpy(want, b, len);
	T_CHECK(!l4_csum_complete_partial(b, (uint32_t)len, v6 ? AF_INET6 : AF_INET) && !memcmp(b, want, len),
		"#3 v6=%d: a valid checksum equal to the pseudo sum was rewritten", v6);
}

/* #7: the inline test only filters; it must never turn away a packet the whole test completes. */
static void case_random(void)
{
	uint8_t b[300], ref[300];
	uint32_t seed = 12345;

	for (int i = 0; i < 20000; i++) {
		int v6 = i & 1;
		uint8_t proto = i & 2 ? IPPROTO_TCP : IPPROTO_UDP;
		size_t hl = v6 ? 40 : 20, off = proto == IPPROTO_TCP ? 16 : 6, len;
		bool got, want;

		seed = seed * 1103515245u + 12345u;
		len = mkpkt(b, v6, v6 ? "fd00:8::80" : "192.168.8.80", v6 ? "fd7a:115c:a1e0::2" : "100.64.0.2",
			    proto, (uint16_t)seed, 443, (seed >> 16) % 200);
		for (size_t k = v6 ? 8 : 12; k < (v6 ? 40u : 20u); k++) {
			seed = seed * 1103515245u + 12345u;
			b[k] = (uint8_t)(seed >> 24);
		}
		ref_fix(b, len);
		switch (i >> 2 & 3) {
		case 0:
			make_partial(b, len);
			break;
		case 1:
			break;                   /* the full checksum */
		case 2:
			b[hl + off] = (uint8_t)(seed >> 8);
			b[hl + off + 1] = (uint8_t)(seed >> 16);
			break;
		default:
			b[hl + off] = b[hl + off + 1] = 0;
		}
		memcpy(ref, b, len);
		got = l4_csum_complete_partial(b, (uint32_t)len, v6 ? AF_INET6 : AF_INET);
		want = l4_csum_partial_finish(ref, (uint32_t)len, v6 ? AF_INET6 : AF_INET);
		T_CHECK(got == want && !memcmp(b, ref, len), "#7 case %d v6=%d proto %u len %zu: inline %d, whole %d",
			i >> 2 & 3, v6, proto, len, got, want);
		if (got != want)
			break;
	}
}

int main(void)
{
	static const size_t payloads[] = { 0, 1, 2, 3, 7, 8, 63, 64, 65, 511, 1000, 1400 };
	uint8_t b[1600], want[1600];
	size_t len;

	for (int v6 = 0; v6 <= 1; v6++)
		for (unsigned i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
			case_partial(v6, IPPROTO_TCP, payloads[i]);
			case_partial(v6, IPPROTO_UDP, payloads[i]);
		}
	case_coincidence(0);
	case_coincidence(1);
	case_random();

	len = mkpkt(b, 0, "192.168.8.80", "100.64.0.2", IPPROTO_UDP, 40000, 53, 100);
	b[26] = b[27] = 0;
	memcpy(want, b, len);
	T_CHECK(!l4_csum_complete_partial(b, (uint32_t)len, AF_INET) && !memcmp(b, want, len),
		"#4 UDPv4 without a checksum was touched");

	for (int off = 0; off <= 1; off++) {
		len = mkpkt(b, 0, "192.168.8.80", "100.64.0.2", IPPROTO_UDP, 40000, 53, 100);
		b[6] = off ? 0x00 : 0x20;        /* MF, or offset 8 bytes */
		b[7] = off ? 0x01 : 0x00;
		make_partial(b, len);
		memcpy(want, b, len);
		T_CHECK(!l4_csum_complete_partial(b, (uint32_t)len, AF_INET) && !memcmp(b, want, len),
			"#5 fragment (offset %d) was touched", off);
	}
	len = mkpkt(b, 0, "192.168.8.80", "100.64.0.2", IPPROTO_ICMP, 7, 0, 56);
	memcpy(want, b, len);
	T_CHECK(!l4_csum_complete_partial(b, (uint32_t)len, AF_INET) && !memcmp(b, want, len), "#6 ICMP touched");
	printf("%s\n", t_failures ? "FAILED" : "csum_partial: all cases pass");
	return t_failures != 0;
}
