// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_csum.c - pkt.h's csum_add (word-at-a-time, byte-order independent) against the plain
 * RFC 1071 definition: big-endian 16-bit words, an odd last byte padded, over random data of
 * every length 0..2048 at every alignment 0..7, chained over two calls as the IPv6 UDP checksum
 * does (pseudo-header, then the datagram), and folded to the same 16-bit result; plus known
 * answers (RFC 1071's example, an IPv4 header). ip_dec_ttl's incremental update (the kernel's
 * form): for every TTL 2..255, random headers and every checksum carry case, the header still
 * verifies and the checksum is the recomputed one (0xffff and 0 both mean a zero sum).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pkt.h"

static int checks, failures;
#define CHECK(c) do { checks++; if (!(c)) { failures++; if (failures < 20) \
	printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

static uint32_t ref_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

int main(void)
{
	static uint8_t buf[2048 + 16];
	/* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (folded, before the complement) */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	/* an IPv4 header whose checksum field (b1 e6) makes the header sum to 0xffff */
	static const uint8_t ip[] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				      0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };

	CHECK(csum_fold(csum_add(0, rfc, sizeof(rfc))) == (uint16_t)~0xddf2);
	CHECK(csum_fold(csum_add(0, ip, sizeof(ip))) == 0);
	srand(1);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len <= 2048; len++) {
			size_t cut = len / 3;

			CHECK(csum_fold(csum_add(0, buf + off, len)) == csum_fold(ref_add(0, buf + off, len)));
			CHECK(csum_fold(csum_add(csum_add(7, buf + off, cut), buf + off + cut, len - cut)) ==
			      csum_fold(ref_add(ref_add(7, buf + off, cut), buf + off + cut, len - cut)));
		}
	memset(buf, 0xff, sizeof(buf));    /* all ones: the largest words, for carries */
	CHECK(csum_fold(csum_add(0, buf, 2048)) == csum_fold(ref_add(0, buf, 2048)));

	for (unsigned ttl = 0; ttl < 256; ttl++) {
		for (unsigned r = 0; r < 300; r++) {
			uint8_t h[IP4_HLEN];
			struct iphdr *ih = (void *)h;
			uint16_t want;

			for (unsigned i = 0; i < sizeof(h); i++)
				h[i] = (uint8_t)rand();
			h[0] = 0x45;
			ih->ttl = (uint8_t)ttl;
			if (r < 256) {               /* steer the sum so every low byte of the check occurs */
				h[10] = h[11] = 0;
				ih->check = htons(csum_fold(ref_add(0, h, sizeof(h))));
				h[18] = (uint8_t)r;
				h[19] = (uint8_t)(r * 7);
			}
			ih->check = 0;
			ih->check = htons(csum_fold(ref_add(0, h, sizeof(h))));
			if (!ip_dec_ttl(h, AF_INET)) {
				CHECK(ttl <= 1);
				continue;
			}
			CHECK(ttl > 1 && ih->ttl == ttl - 1);
			CHECK(csum_fold(ref_add(0, h, sizeof(h))) == 0);
			want = ih->check;
			ih->check = 0;
			ih->check = htons(csum_fold(ref_add(0, h, sizeof(h))));
			CHECK(want == ih->check || (uint16_t)(want ^ ih->check) == 0xffff);
		}
	}
	printf("csum: %d checks, %d failures\n", checks, failures);
	return failures != 0;
}
