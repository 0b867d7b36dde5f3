/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steer_decide.h - THE steering decision: is a received Ethernet frame meshgate's (which kind),
 * or the kernel's? Compiled twice from this one text: into bpf/xdp_steer.bpf.c (clang -target
 * bpf, facts from BPF maps) and into dataplane/io/dpdk_steer.c (ordinary C, facts from the
 * device and the netlink snapshot), so the two NIC backends cannot drift apart.
 *
 * To the worker:
 *   STEER_WG    UDP to the listen port on one of our addresses (WireGuard, disco, STUN);
 *   STEER_NAT   with SNAT on, a reply to our NAT port range on one of our addresses: TCP/UDP
 *               destination port, or echo reply (ICMP 0 / ICMPv6 129) whose identifier is one;
 *   STEER_ROUTE IPv4/IPv6 to a destination inside a tunnel route (plaintext to encrypt).
 * Outer fragments to us, IPv4 (MF or an offset) and IPv6 (a Fragment header right after the
 * fixed header, or behind up to four hop-by-hop, routing or destination options headers), from
 * a path whose MTU is below the peer's packets: meshgate does not reassemble, and the kernel has
 * no socket on the listen port to deliver a reassembled datagram to:
 *   STEER_FRAG_FIRST  the first fragment (offset 0) of UDP to the listen port: dropped, counted;
 *   STEER_FRAG_LATER  any later fragment to one of our addresses (its ports are in the first
 *                     fragment, so it may be the router's own traffic): to the kernel, counted.
 * To the kernel (STEER_PASS): ARP, VLAN-tagged and other non-IP frames, other first fragments to
 * us, IPv6 to us with other extension headers (or a Fragment header behind more than four),
 * link-local and multicast IPv6 (ND, MLD), IPv4 broadcast (255.255.255.255 and our subnets'
 * broadcast), multicast (224.0.0.0/4) and link-local
 * (169.254.0.0/16) even when a route such as 0.0.0.0/0 covers them (DHCP, mDNS, SSDP stay the
 * router's and the LAN's: a tunnel route is for unicast), truncated headers and everything else.
 *
 * The includer supplies the facts before including this file, as (always-inline) functions:
 *   struct steer_env;                      its own context, passed through untouched
 *   bool  steer_env_local(const struct steer_env *, int family, const __u8 *addr);
 *                                          addr (network order, 4 or 16 bytes) is one of ours
 *   bool  steer_env_routed(const struct steer_env *, int family, const __u8 *addr);
 *                                          addr lies inside a tunnel route
 *   bool  steer_env_bcast4(const struct steer_env *, const __u8 *addr);
 *                                          addr (4 bytes) is the broadcast address of one of our
 *                                          IPv4 subnets
 *   __u16 steer_env_port(const struct steer_env *);   listen port, host order; 0 = none
 *   bool  steer_env_nat(const struct steer_env *);    SNAT on
 * family is STEER_FAMILY_V4 or STEER_FAMILY_V6 (steer_maps.h; a constant once inlined). addr points into the
 * frame, inside the bounds already checked.
 *
 * For the verifier: every read is preceded by a check of the pointer plus a constant against
 * end; no loops; the only variable offset (the IPv4 header length) is at most 60.
 */
#ifndef MG_STEER_DECIDE_H
#define MG_STEER_DECIDE_H

#include <stdbool.h>
#include <linux/types.h>
#include "steer_maps.h"

#ifndef STEER_INLINE
#define STEER_INLINE static inline __attribute__((always_inline))
#endif

/* Numbers from IANA, spelled here so this file needs neither <netinet/in.h> nor <linux/in.h>. */
enum {
	STEER_ETH_HLEN = 14, STEER_IP4_HLEN = 20, STEER_IP6_HLEN = 40, STEER_FRAG6_HLEN = 8,
	STEER_L4_MIN = 8, STEER_ETH_IP4 = 0x0800, STEER_ETH_IP6 = 0x86dd,
	STEER_P_ICMP = 1, STEER_P_TCP = 6, STEER_P_UDP = 17, STEER_P_FRAG6 = 44, STEER_P_ICMP6 = 58,
	STEER_P_HOPOPTS = 0, STEER_P_ROUTING = 43, STEER_P_DSTOPTS = 60, STEER_EXT6_MAX = 4,
	STEER_ECHO_REPLY4 = 0, STEER_ECHO_REPLY6 = 129,
};

STEER_INLINE __u32 steer_be16(const __u8 *p)
{
	return (__u32)p[0] << 8 | p[1];
}

STEER_INLINE bool steer_nat_port(const __u8 *p)
{
	__u32 port = steer_be16(p);

	return port >= STEER_NAT_PORT_MIN && port <= STEER_NAT_PORT_MAX;
}

/*
 * A packet to one of our addresses; l4 is where the transport header starts (possibly beyond
 * end). The first 8 bytes hold the UDP/TCP ports and the ICMP type and echo identifier.
 * echo_reply is the family's type; the protocol is not checked against the family, so an IPv4
 * packet of protocol 58 is read as ICMPv6 (the kernel drops such packets either way).
 */
STEER_INLINE enum steer_verdict steer_for_us(const struct steer_env *env, __u8 proto, const __u8 *l4,
					     const __u8 *end, __u8 echo_reply)
{
	__u32 port;

	if (l4 + STEER_L4_MIN > end)
		return STEER_PASS;
	port = steer_env_port(env);
	if (proto == STEER_P_UDP && port && steer_be16(l4 + 2) == port)
		return STEER_WG;
	if (!steer_env_nat(env))
		return STEER_PASS;
	if (proto == STEER_P_TCP || proto == STEER_P_UDP)
		return steer_nat_port(l4 + 2) ? STEER_NAT : STEER_PASS;
	if (proto == STEER_P_ICMP || proto == STEER_P_ICMP6)
		return l4[0] == echo_reply && steer_nat_port(l4 + 4) ? STEER_NAT : STEER_PASS;
	return STEER_PASS;
}

/*
 * A fragmented packet to us (MF or an offset). The UDP header is only in the first fragment
 * (offset 0); a WireGuard message that was fragmented is lost either way, so say which.
 */
STEER_INLINE enum steer_verdict steer_frag_for_us(const struct steer_env *env, const __u8 *ip,
						  const __u8 *l4, const __u8 *end)
{
	__u32 port = steer_env_port(env);

	if (steer_be16(ip + 6) & 0x1fff)
		return STEER_FRAG_LATER;
	if (ip[9] == STEER_P_UDP && port && l4 + STEER_L4_MIN <= end && steer_be16(l4 + 2) == port)
		return STEER_FRAG_FIRST;
	return STEER_PASS;
}

/* Broadcast, multicast and link-local IPv4: never unicast traffic for a tunnel route. */
STEER_INLINE bool steer_ipv4_not_unicast(const struct steer_env *env, const __u8 *dst)
{
	if (dst[0] >= 224)                              /* 224/4 multicast, 240/4 and 255.255.255.255 */
		return true;
	if (dst[0] == 169 && dst[1] == 254)
		return true;
	return steer_env_bcast4(env, dst);
}

/*
 * The header length is trusted only as far as the frame goes: a packet to a tunnel destination
 * whose IHL points past the frame still goes to the worker, which validates lengths and drops
 * it with a counter, as it does every other malformed plaintext packet.
 */
STEER_INLINE enum steer_verdict steer_ipv4(const struct steer_env *env, const __u8 *ip, const __u8 *end)
{
	__u32 hl;

	if (ip + STEER_IP4_HLEN > end)
		return STEER_PASS;
	hl = (ip[0] & 0xfu) * 4u;
	if (hl < STEER_IP4_HLEN)
		return STEER_PASS;
	if (steer_env_local(env, STEER_FAMILY_V4, ip + 16)) {
		if (steer_be16(ip + 6) & 0x3fff)         /* MF or an offset */
			return steer_frag_for_us(env, ip, ip + hl, end);
		return steer_for_us(env, ip[9], ip + hl, end, STEER_ECHO_REPLY4);
	}
	if (steer_ipv4_not_unicast(env, ip + 16))
		return STEER_PASS;
	return steer_env_routed(env, STEER_FAMILY_V4, ip + 16) ? STEER_ROUTE : STEER_PASS;
}

/*
 * An IPv6 packet to us with a Fragment header at fh (8 bytes: next header, reserved,
 * offset << 3 | M, identification). As for IPv4: offset 0 with UDP to the listen port is a first
 * fragment of ours, any other offset a later fragment; a first fragment of anything else (and a
 * Fragment header cut short) is the kernel's. An atomic fragment (offset 0, no M) counts as a
 * first fragment: the worker does not parse extension headers either.
 */
STEER_INLINE enum steer_verdict steer_frag6_for_us(const struct steer_env *env, const __u8 *fh,
						   const __u8 *end)
{
	const __u8 *l4 = fh + STEER_FRAG6_HLEN;
	__u32 port = steer_env_port(env);

	if (fh + STEER_FRAG6_HLEN > end)
		return STEER_PASS;
	if (steer_be16(fh + 2) & 0xfff8)
		return STEER_FRAG_LATER;
	if (fh[0] == STEER_P_UDP && port && l4 + STEER_L4_MIN <= end && steer_be16(l4 + 2) == port)
		return STEER_FRAG_FIRST;
	return STEER_PASS;
}

/*
 * Hop-by-hop, routing and destination options headers (next header, length in 8-byte units
 * beyond the first 8) in front of a Fragment header: up to STEER_EXT6_MAX of them are stepped
 * over, so that a fragment behind them is counted like one right after the fixed header. What
 * else lies behind them (a transport header, more of them, a header cut short) is the kernel's.
 */
STEER_INLINE enum steer_verdict steer_ext6_for_us(const struct steer_env *env, const __u8 *ip,
						  const __u8 *end)
{
	const __u8 *h = ip + STEER_IP6_HLEN;
	__u32 nh = ip[6], i;

	for (i = 0; i < STEER_EXT6_MAX; i++) {
		if (nh != STEER_P_HOPOPTS && nh != STEER_P_ROUTING && nh != STEER_P_DSTOPTS)
			break;
		if (h + 2 > end)
			return STEER_PASS;
		nh = h[0];
		h += ((__u32)h[1] + 1) * 8;
	}
	return nh == STEER_P_FRAG6 ? steer_frag6_for_us(env, h, end) : STEER_PASS;
}

/* To us: a transport header right after the fixed header, or a Fragment header (above), also
 * behind option headers; other extension headers go to the kernel. */
STEER_INLINE enum steer_verdict steer_ipv6(const struct steer_env *env, const __u8 *ip, const __u8 *end)
{
	const __u8 *dst = ip + 24;

	if (ip + STEER_IP6_HLEN > end)
		return STEER_PASS;
	if (steer_env_local(env, STEER_FAMILY_V6, dst)) {
		if (ip[6] == STEER_P_FRAG6)
			return steer_frag6_for_us(env, ip + STEER_IP6_HLEN, end);
		if (ip[6] == STEER_P_HOPOPTS || ip[6] == STEER_P_ROUTING || ip[6] == STEER_P_DSTOPTS)
			return steer_ext6_for_us(env, ip, end);
		return steer_for_us(env, ip[6], ip + STEER_IP6_HLEN, end, STEER_ECHO_REPLY6);
	}
	if (dst[0] == 0xff || (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80))
		return STEER_PASS;                      /* multicast, link-local: ND, MLD */
	return steer_env_routed(env, STEER_FAMILY_V6, dst) ? STEER_ROUTE : STEER_PASS;
}

/* frame .. end: the received Ethernet frame. */
STEER_INLINE enum steer_verdict steer_decide(const struct steer_env *env, const __u8 *frame,
					     const __u8 *end)
{
	__u32 type;

	if (frame + STEER_ETH_HLEN > end)
		return STEER_PASS;
	type = steer_be16(frame + 12);
	if (type == STEER_ETH_IP4)
		return steer_ipv4(env, frame + STEER_ETH_HLEN, end);
	if (type == STEER_ETH_IP6)
		return steer_ipv6(env, frame + STEER_ETH_HLEN, end);
	return STEER_PASS;
}

#endif
