/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * addr.h - the address types every layer shares: an IP prefix and a UDP endpoint, both as plain
 * bytes in network order (IPv4 in the first 4 bytes), and the small predicates on them.
 */
#ifndef MG_ADDR_H
#define MG_ADDR_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

struct mg_ipprefix {
	uint8_t family;          /* AF_INET or AF_INET6 */
	uint8_t cidr;            /* 0..32 or 0..128 */
	uint8_t addr[16];        /* network byte order; v4 in the first 4 bytes */
};

struct mg_endpoint {
	uint8_t family;          /* 0 = none, AF_INET, AF_INET6 */
	uint16_t port;           /* host byte order */
	uint8_t addr[16];        /* network byte order; v4 in the first 4 bytes */
};

/* Public data: plain memcmp is fine; constant sizes so that it is inlined (every packet received
 * asks). */
static inline bool mg_endpoint_equal(const struct mg_endpoint *a, const struct mg_endpoint *b)
{
	return a->family == b->family && a->port == b->port &&
	       (a->family == AF_INET ? !memcmp(a->addr, b->addr, 4) : !memcmp(a->addr, b->addr, 16));
}

/* Whether @addr (of @family) lies in @pfx: the differing bits, as big-endian words (one for
 * IPv4, two for IPv6), shifted past the prefix's length. The packet filter asks this for each
 * rule's prefixes of every packet its memo does not answer; a loop byte by byte under a mask
 * was 139 instructions of such a packet. */
static inline bool mg_prefix_contains(const struct mg_ipprefix *pfx, int family, const uint8_t *addr)
{
	unsigned bits = pfx->cidr;

	if (pfx->family != family)
		return false;
	if (family == AF_INET) {
		uint32_t a, p;

		memcpy(&a, addr, 4);
		memcpy(&p, pfx->addr, 4);
		a = be32toh(a ^ p);
		return !bits || (bits >= 32 ? !a : !(a >> (32 - bits)));
	} else {
		uint64_t a[2], p[2], hi, lo;

		memcpy(a, addr, 16);
		memcpy(p, pfx->addr, 16);
		hi = be64toh(a[0] ^ p[0]);
		lo = be64toh(a[1] ^ p[1]);
		if (bits <= 64)
			return !bits || !(hi >> (64 - bits));
		return !hi && (bits >= 128 ? !lo : !(lo >> (128 - bits)));
	}
}

#endif
