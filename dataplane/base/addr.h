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

#endif
