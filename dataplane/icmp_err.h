/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * icmp_err.h - ICMP errors the router owes a LAN sender: "fragmentation needed" (RFC 792/1191)
 * for an IPv4 packet with DF set, "packet too big" (RFC 4443 3.2) for IPv6, when the packet does
 * not fit the tunnel MTU. Rate limited per worker; built in a fresh frame that the caller sends
 * like LAN traffic (icmp_err uses only the pass state, wctx.h, and calls no stage).
 */
#ifndef MG_ICMP_ERR_H
#define MG_ICMP_ERR_H

#include "wctx.h"

#define ICMP_ERR_PER_SEC 100u
#define ICMP_ERR_BURST 20u

/* The rate limit alone, on c->now: true if an error may be sent now (and one token is spent). */
bool icmp_err_allowed(struct wctx *c);

/* Consumes nothing: orig stays with the caller (who drops it). True if the error was built in a
 * fresh frame, *out, which the caller then owns and sends towards orig's source. */
bool icmp_err_too_big(struct wctx *c, const struct wpkt *orig, uint32_t mtu, struct wpkt *out);

#endif
