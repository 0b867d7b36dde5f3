/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mss.h - TCP MSS clamping on SYNs crossing the tunnel, both directions, so TCP never sends
 * segments the tunnel MTU cannot carry (tailscale #9720: with AF_XDP the kernel's mangle rules
 * are bypassed, so the data path does it). Rewrites in place with an incremental checksum.
 */
#ifndef MG_MSS_H
#define MG_MSS_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

bool mss_clamp_tcp(uint8_t *l3, uint32_t len, int family, uint32_t mtu);

/* Clamp the MSS option of a TCP SYN in the IP packet at l3 (len bytes) to mtu minus headers.
 * Returns true if the packet was changed. Anything that is not a well-formed SYN is left alone.
 * The protocol test is inline (every forwarded packet asks; few are TCP SYNs); the rest is
 * mss_clamp_tcp. */
static inline bool mss_clamp(uint8_t *l3, uint32_t len, int family, uint32_t mtu)
{
	if (len < 40 || l3[family == AF_INET ? 9 : 6] != IPPROTO_TCP)
		return false;
	return mss_clamp_tcp(l3, len, family, mtu);
}

#endif
