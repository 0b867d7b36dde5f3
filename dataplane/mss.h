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

/* Clamp the MSS option of a TCP SYN in the IP packet at l3 (len bytes) to mtu minus headers.
 * Returns true if the packet was changed. Anything that is not a well-formed SYN is left alone. */
bool mss_clamp(uint8_t *l3, uint32_t len, int family, uint32_t mtu);

#endif
