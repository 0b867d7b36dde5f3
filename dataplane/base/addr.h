/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * addr.h - the address types every layer shares: an IP prefix and a UDP endpoint, both as plain
 * bytes in network order (IPv4 in the first 4 bytes), and the small predicates on them.
 */
#ifndef MG_ADDR_H
#define MG_ADDR_H

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

/* Whether @addr (of @family) lies in @pfx. Byte by byte under the prefix's mask: a few
 * iterations, where a variable-length memcmp would be a libc call for every packet. */
static inline bool mg_prefix_contains(const struct mg_ipprefix *pfx, int family, const uint8_t *addr)
{
	unsigned bits = pfx->cidr;

	if (pfx->family != family)
		return false;
	for (unsigned i = 0; bits; i++) {
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((pfx->addr[i] ^ addr[i]) & mask)
			return false;
		bits = bits >= 8 ? bits - 8 : 0;
	}
	return true;
}

#endif
