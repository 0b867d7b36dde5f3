/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pktcheck.h - reference checksums for the dataplane tests, computed from scratch over the whole
 * packet (never incrementally), so they check the data path's incremental updates.
 */
#ifndef MG_TEST_PKTCHECK_H
#define MG_TEST_PKTCHECK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int t_failures;
#define T_CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
	printf(__VA_ARGS__); printf("\n"); t_failures++; } } while (0)

static inline uint16_t ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* 0xffff when the packet's IPv4 header and L4 checksum are both valid. */
static inline int ref_valid(const uint8_t *l3, size_t len)
{
	int v6 = l3[0] >> 4 == 6;
	size_t hl = v6 ? 40 : (l3[0] & 0xf) * 4u, l4len = len - hl;
	uint8_t proto = v6 ? l3[6] : l3[9];
	uint32_t pseudo = 0;

	if (!v6 && ref_sum(l3, hl, 0) != 0xffff)
		return 0;
	if (proto == IPPROTO_ICMP)
		return ref_sum(l3 + hl, l4len, 0) == 0xffff;
	pseudo = ref_sum(l3 + (v6 ? 8 : 12), v6 ? 32 : 8, 0) + proto + (uint32_t)l4len;
	return ref_sum(l3 + hl, l4len, pseudo) == 0xffff;
}

/* Fill in correct checksums from scratch (IPv4 header, TCP/UDP/ICMP). */
static inline void ref_fix(uint8_t *l3, size_t len)
{
	int v6 = l3[0] >> 4 == 6;
	size_t hl = v6 ? 40 : (l3[0] & 0xf) * 4u, l4len = len - hl;
	uint8_t proto = v6 ? l3[6] : l3[9];
	size_t off = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
	uint16_t c;

	if (!v6) {
		l3[10] = l3[11] = 0;
		c = htons((uint16_t)~ref_sum(l3, hl, 0));
		memcpy(l3 + 10, &c, 2);
	}
	l3[hl + off] = l3[hl + off + 1] = 0;
	if (proto == IPPROTO_ICMP)
		c = htons((uint16_t)~ref_sum(l3 + hl, l4len, 0));
	else
		c = htons((uint16_t)~ref_sum(l3 + hl, l4len,
					     ref_sum(l3 + (v6 ? 8 : 12), v6 ? 32 : 8, 0) + proto + (uint32_t)l4len));
	memcpy(l3 + hl + off, &c, 2);
}

/* An IP packet with an L4 header: TCP (20 bytes + opts), UDP (8) or ICMP echo (8), plus payload. */
static inline size_t mkpkt(uint8_t *b, int v6, const char *src, const char *dst, uint8_t proto,
		    uint16_t sport, uint16_t dport, size_t payload)
{
	size_t hl = v6 ? 40 : 20, l4 = proto == IPPROTO_TCP ? 20 : 8, len = hl + l4 + payload;

	memset(b, 0, len);
	for (size_t i = 0; i < payload; i++)
		b[hl + l4 + i] = (uint8_t)(i * 7 + 3);
	if (v6) {
		b[0] = 0x60;
		b[4] = (uint8_t)((len - 40) >> 8);
		b[5] = (uint8_t)(len - 40);
		b[6] = proto;
		b[7] = 64;
		inet_pton(AF_INET6, src, b + 8);
		inet_pton(AF_INET6, dst, b + 24);
	} else {
		b[0] = 0x45;
		b[2] = (uint8_t)(len >> 8);
		b[3] = (uint8_t)len;
		b[8] = 64;
		b[9] = proto;
		inet_pton(AF_INET, src, b + 12);
		inet_pton(AF_INET, dst, b + 16);
	}
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
		b[hl] = proto == IPPROTO_ICMP ? 8 : 128;
		b[hl + 4] = (uint8_t)(sport >> 8);
		b[hl + 5] = (uint8_t)sport;
	} else {
		b[hl] = (uint8_t)(sport >> 8);
		b[hl + 1] = (uint8_t)sport;
		b[hl + 2] = (uint8_t)(dport >> 8);
		b[hl + 3] = (uint8_t)dport;
		if (proto == IPPROTO_TCP) {
			b[hl + 12] = 5 << 4;
			b[hl + 13] = 0x02;     /* SYN */
		} else {
			b[hl + 4] = (uint8_t)((l4 + payload) >> 8);
			b[hl + 5] = (uint8_t)(l4 + payload);
		}
	}
	ref_fix(b, len);
	return len;
}

#endif
