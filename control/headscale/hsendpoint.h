/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsendpoint.h - the UDP endpoints we publish in MapRequest.Endpoints/EndpointTypes:
 * explicitly configured ones (type 5), the STUN-mapped address (type 2) and interface
 * addresses with the WireGuard port (type 1), in that order, each address:port once.
 */
#ifndef MG_HSENDPOINT_H
#define MG_HSENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devconf.h"

#define HS_EP_MAX 16

/* tailcfg.EndpointType numbers. */
enum hs_ep_type {
	HS_EP_LOCAL = 1, HS_EP_STUN = 2, HS_EP_PORTMAP = 3, HS_EP_STUN4_LOCALPORT = 4, HS_EP_CONFIGURED = 5,
};

struct hs_endpoints {
	size_t n;
	struct mg_endpoint ep[HS_EP_MAX];
	uint8_t type[HS_EP_MAX];
};

/* "local", "stun", "portmap", "stun4localport", "configured"; "unknown" otherwise. */
const char *hs_endpoint_type_name(unsigned type);
bool hs_endpoint_eq(const struct mg_endpoint *a, const struct mg_endpoint *b);
/* Appends @ep unless it is unset, already present (the first type wins) or the set is full. */
bool hs_endpoints_add(struct hs_endpoints *s, const struct mg_endpoint *ep, enum hs_ep_type type);
/* Same endpoints with the same types in the same order. */
bool hs_endpoints_equal(const struct hs_endpoints *a, const struct hs_endpoints *b);
/*
 * Adds every up interface's global address (not loopback, not IPv6 link-local, not the
 * interface @skip_if - our own TUN carries tailnet addresses) with @port, as type 1.
 * 0 or -errno from getifaddrs.
 */
int hs_endpoints_add_local(struct hs_endpoints *s, uint16_t port, const char *skip_if);
/* "a:p/t,..." for logs and status; always NUL-terminated. */
void hs_endpoints_format(char *buf, size_t len, const struct hs_endpoints *s);

#endif
