/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * icmp_build.h - the bytes of an ICMP "fragmentation needed" (IPv4, RFC 792/1191) or ICMPv6
 * "packet too big" (RFC 4443 3.2) error quoting the offending packet, addressed back to its
 * source from `src`. Pure: no frames, no state (icmp_err.c decides when and sends).
 */
#ifndef MG_ICMP_BUILD_H
#define MG_ICMP_BUILD_H

#include <stdint.h>

/* Writes the IP packet at out (room for 576 bytes v4, 1280 v6); returns its length. */
uint32_t icmp_build_too_big(uint8_t *out, const uint8_t *orig, uint32_t orig_len, int family,
			    const uint8_t *src, uint32_t mtu);

#endif
