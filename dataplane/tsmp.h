/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tsmp.h - TSMP, the Tailscale Message Protocol: IP protocol 99 inside the tunnel, between
 * nodes' own software; never a host's traffic (tailscale net/packet/tsmp.go). After the IPv4 or
 * IPv6 header, one type byte:
 *   'p' ping request: 8 opaque bytes, copied into the pong
 *   'o' pong: the 8 bytes, then the answering node's PeerAPI port (big-endian u16, 0 = none)
 *   '!' rejected connection, 'a' disco key advertisement: information for the peer's software
 * A node consumes every TSMP packet it receives and answers pings (tailscaled answers before its
 * packet filter runs); a router never forwards one to a LAN, nor lets a LAN host send one.
 */
#ifndef MG_TSMP_H
#define MG_TSMP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define TSMP_PROTO 99
#define TSMP_PING 'p'
#define TSMP_PONG 'o'
#define TSMP_PING_LEN 9                  /* type + 8 data bytes */
#define TSMP_PONG_LEN 11                 /* type + 8 data bytes + PeerAPI port */

/* The IP protocol number of a validated packet (IPv6: the base header's next header). */
static inline uint8_t tsmp_ip_proto(const uint8_t *l3, int family)
{
	return family == AF_INET ? l3[9] : l3[6];
}

/*
 * If the validated TSMP packet at l3 (@len bytes) is a ping request, turns it in place into the
 * pong the pinged address sends back (addresses swapped, IP ID / flow label inverted as
 * tailscaled does, TTL 64, PeerAPI port 0) and returns the pong's length; else 0. The pong can
 * be 2 bytes longer than the ping: the caller guarantees that room after l3 + len.
 */
uint32_t tsmp_ping_to_pong(uint8_t *l3, uint32_t len, int family);

#endif
