/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkt.h - header parsing and building for the hot path: Ethernet, IPv4, IPv6, UDP, and the
 * Internet checksum (RFC 1071, incremental update per RFC 1624). Inline, no state.
 */
#ifndef MG_PKT_H
#define MG_PKT_H

#include <string.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include "mg.h"
#include "addr.h"

#define ETH_HLEN_ 14
#define IP4_HLEN 20
#define IP6_HLEN 40
#define UDP_HLEN 8

/*
 * Adds @data to an unfolded Internet checksum @sum of big-endian 16-bit words (an odd last byte
 * is the high half of a word, as if padded). The one's-complement sum does not depend on byte
 * order (RFC 1071 2.B), so the data is added as native 32-bit halves of 8-byte loads into 64
 * bits, folded, and swapped once: the outer IPv6 UDP checksum covers the whole message, and a
 * 16-bit loop cost a 1420-byte packet several hundred cycles.
 */
static inline uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t acc = 0;
	uint64_t w8;
	uint32_t w4;
	uint16_t w2;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w8, p, 8);
		acc += (w8 & 0xffffffffu) + (w8 >> 32);
	}
	if (len >= 4) {
		memcpy(&w4, p, 4);
		acc += w4;
		p += 4, len -= 4;
	}
	if (len >= 2) {
		memcpy(&w2, p, 2);
		acc += w2;
		p += 2, len -= 2;
	}
	if (len) {
		w2 = 0;
		memcpy(&w2, p, 1);           /* the byte at the lower address: a word's high half */
		acc += w2;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return sum + ntohs((uint16_t)acc);
}

static inline uint16_t csum_fold(uint32_t sum)
{
	/* Two folds always suffice for 32 bits (the first leaves at most 0x1fffe): no loop. */
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* RFC 1624's ~m + m' for @n bytes (even) changing from @old to @new, in 16-bit words: what
 * csum_apply adds to a checksum over them (below 2^21 for the 16 bytes of an IPv6 address). */
static inline uint32_t csum_delta(const uint8_t *old, const uint8_t *new, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < n; i += 2) {
		sum += (uint16_t)~((uint16_t)old[i] << 8 | old[i + 1]);
		sum += (uint16_t)new[i] << 8 | new[i + 1];
	}
	return sum;
}

/* RFC 1624 eqn. 3, HC' = ~(~HC + delta), delta a sum of csum_delta's below 2^22 (two folds
 * suffice); the checksum at @check is updated in place (unaligned is fine) and returned. */
static inline uint16_t csum_apply(uint8_t *check, uint32_t delta)
{
	uint16_t c;

	memcpy(&c, check, 2);
	c = htons(csum_fold((uint16_t)~ntohs(c) + delta));     /* csum_fold complements: HC' */
	memcpy(check, &c, 2);
	return c;
}

/* The checksum at @check after @n bytes (even) change from @old to @new: rewritten addresses
 * and ports. */
static inline void csum_replace(uint8_t *check, const uint8_t *old, const uint8_t *new, size_t n)
{
	csum_apply(check, csum_delta(old, new, n));
}

/* The same for one 16-bit word, checksum and words in network order. */
static inline uint16_t csum_replace2(uint16_t check_be, uint16_t old_be, uint16_t new_be)
{
	csum_replace((uint8_t *)&check_be, (const uint8_t *)&old_be, (const uint8_t *)&new_be, 2);
	return check_be;
}

static inline uint16_t ip4_header_csum(const struct iphdr *ip)
{
	return htons(csum_fold(csum_add(0, ip, ip->ihl * 4u)));
}

/*
 * A LAN host whose kernel sends with checksum offload (a container or VM on a Linux bridge or
 * veth: CHECKSUM_PARTIAL) leaves in the TCP/UDP checksum field only the folded sum of the
 * pseudo-header (RFC 9293 3.1, RFC 768, RFC 8200 8.1), not complemented; the NIC that would have
 * finished it is us. The test is cheap (the pseudo-header's sum and one compare, no payload
 * read); a match is finished only if the checksum does not already verify, and a packet that
 * verifies is right either way (field = pseudo sum P and P + P + data = 0 mean ~(P + data) = P).
 * Fragments are left alone: the kernel completes a checksum before it fragments. IPv6 with
 * extension headers is left alone too (Linux offloads those rarely).
 * Returns true when it wrote a completed checksum.
 *
 * Two functions parse the same header fields: l4_csum_partial_finish (below, rare, out of line)
 * and the inline test after it. Sharing a helper cost the seal path 5-11 instructions per
 * packet (callgrind, engine-cost.sh), so each keeps its own few lines.
 */
/* The test and completion for a packet whose checksum field matched the pseudo-header's sum
 * (rare: out of line). */
static __attribute__((noinline, unused)) bool l4_csum_partial_finish(uint8_t *l3, uint32_t len, int family)
{
	uint32_t hl, sum, l4len, off;
	uint16_t field, folded, full;
	uint8_t proto;

	if (family == AF_INET) {
		const struct iphdr *ip = (const void *)l3;

		if (ip->frag_off & htons(IP_MF | IP_OFFMASK))
			return false;
		hl = ip->ihl * 4u;
		proto = ip->protocol;
		sum = csum_add(0, l3 + 12, 8);
	} else {
		hl = IP6_HLEN;
		proto = l3[6];
		sum = csum_add(0, l3 + 8, 32);
	}
	if (proto == IPPROTO_TCP)
		off = 16;
	else if (proto == IPPROTO_UDP)
		off = 6;
	else
		return false;
	if (len < hl + off + 2)
		return false;
	l4len = len - hl;
	sum += proto + l4len;
	folded = (uint16_t)~csum_fold(sum);
	field = (uint16_t)(l3[hl + off] << 8 | l3[hl + off + 1]);
	if (field != folded && !(field == 0 && folded == 0xffff))
		return false;
	if (!csum_fold(csum_add(sum, l3 + hl, l4len)))
		return false;                /* verifies: a full checksum equal to P by chance */
	l3[hl + off] = l3[hl + off + 1] = 0;
	full = csum_fold(csum_add(sum, l3 + hl, l4len));
	if (!full && proto == IPPROTO_UDP)
		full = 0xffff;               /* RFC 768: zero means "no checksum" */
	l3[hl + off] = (uint8_t)(full >> 8);
	l3[hl + off + 1] = (uint8_t)full;
	return true;
}

/*
 * Every LAN packet asks, and few match, so the test is done here on the words as loaded: the
 * pseudo-header's address words, protocol and length (byte-swapped as the loads see them; the
 * one's-complement sum commutes with the swap, RFC 1071 2.B) summed into 64 bits and folded
 * with end-around carry, against the field as loaded. Nothing is read past the header; a match
 * goes to l4_csum_partial_finish, which decides with the byte-order sums above.
 *
 * l4_csum_partial_value is the first half: what a partial checksum of the TCP or UDP packet at
 * l3 (len bytes) holds, as loaded, and where the field is (*at); -1 if it is no such packet (a
 * fragment, another protocol, too short for the field). It depends on the addresses, the
 * protocol and the length alone, so a caller that knows those may keep it.
 */
static inline int32_t l4_csum_partial_value(const uint8_t *l3, uint32_t len, int family, uint32_t *at)
{
	uint32_t hl, off, w[8];
	uint64_t acc;
	uint8_t proto;

	if (family == AF_INET) {
		const struct iphdr *ip = (const void *)l3;

		if (ip->frag_off & htons(IP_MF | IP_OFFMASK))
			return -1;
		hl = ip->ihl * 4u;
		proto = ip->protocol;
		memcpy(w, l3 + 12, 8);
		acc = (uint64_t)w[0] + w[1];
	} else {
		hl = IP6_HLEN;
		proto = l3[6];
		memcpy(w, l3 + 8, 32);
		acc = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4] + w[5] + w[6] + w[7];
	}
	if (proto == IPPROTO_TCP)
		off = 16;
	else if (proto == IPPROTO_UDP)
		off = 6;
	else
		return -1;
	if (len < hl + off + 2)
		return -1;
	acc += htons(proto) + (uint64_t)htonl(len - hl);   /* the length as two swapped words */
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);   /* below 2^32 before: two folds suffice */
	acc = (acc & 0xffff) + (acc >> 16);
	*at = hl + off;
	return (int32_t)acc;
}

/* The second half: the field at l3 + at against value (from l4_csum_partial_value), and the
 * checksum completed if it was partial. */
static inline bool l4_csum_partial_test(uint8_t *l3, uint32_t len, int family, int32_t value, uint32_t at)
{
	uint16_t field;

	if (value < 0)
		return false;
	memcpy(&field, l3 + at, 2);
	if (field != value && !(field == 0 && value == 0xffff))
		return false;
	return l4_csum_partial_finish(l3, len, family);
}

static inline bool l4_csum_complete_partial(uint8_t *l3, uint32_t len, int family)
{
	uint32_t at = 0;
	int32_t value = l4_csum_partial_value(l3, len, family, &at);

	return l4_csum_partial_test(l3, len, family, value, at);
}

/* Minimal validation of an IP packet at p (len bytes): version, header length and total length.
 * Returns the IP packet length (<= len) or 0 if malformed. */
static inline uint32_t ip_packet_len(const uint8_t *p, uint32_t len, int *family)
{
	/* Nearly every packet: IPv4 without options, one compare for version and header length. */
	if (likely(len >= IP4_HLEN && p[0] == 0x45)) {
		uint32_t tot = (uint32_t)p[2] << 8 | p[3];

		if (tot < IP4_HLEN || tot > len)
			return 0;
		*family = AF_INET;
		return tot;
	}
	if (len >= IP4_HLEN && p[0] >> 4 == 4) {
		const struct iphdr *ip = (const void *)p;
		uint32_t tot = ntohs(ip->tot_len);

		if (ip->ihl < 5 || tot < ip->ihl * 4u || tot > len)
			return 0;
		*family = AF_INET;
		return tot;
	}
	if (len >= IP6_HLEN && p[0] >> 4 == 6) {
		const struct ip6_hdr *ip6 = (const void *)p;
		uint32_t tot = IP6_HLEN + ntohs(ip6->ip6_plen);

		if (tot > len)
			return 0;
		*family = AF_INET6;
		return tot;
	}
	return 0;
}

static inline const uint8_t *ip_dst(const uint8_t *p, int family)
{
	return family == AF_INET ? p + 16 : p + 24;
}

static inline const uint8_t *ip_src(const uint8_t *p, int family)
{
	return family == AF_INET ? p + 12 : p + 8;
}

/* Whether the L4 header starts right after the fixed-size IP header: an IPv4 header of 20 bytes
 * that is not a fragment, or IPv6 (whose next header callers then take for the L4 protocol and
 * check). The flow memos stand only for such packets. */
static inline bool ip_l4_follows(const uint8_t *p, int family)
{
	uint16_t frag;

	if (family != AF_INET)
		return true;
	memcpy(&frag, p + 6, 2);
	return p[0] == 0x45 && !(frag & htons(0x3fff));
}

/* Forwarding: decrement TTL / hop limit. False when it would reach zero. */
static inline bool ip_dec_ttl(uint8_t *p, int family)
{
	if (family == AF_INET) {
		struct iphdr *ip = (void *)p;
		uint32_t check = ip->check;

		if (ip->ttl <= 1)
			return false;
		/* As the kernel's ip_decrease_ttl: the TTL is the high byte of its checksum word, so
		 * the checksum grows by 0x0100 in network order, end-around carry included (RFC 1624;
		 * the sum is byte-order independent). Nothing reads the word the TTL byte was
		 * stored into (a 2-byte load after a 1-byte store stalls on store forwarding). */
		check += htons(0x0100);
		ip->check = (uint16_t)(check + (check >= 0xffff));
		ip->ttl--;
		return true;
	}
	if (p[7] <= 1)
		return false;
	p[7]--;
	return true;
}

static inline void eth_build(uint8_t *eth, const uint8_t dst[6], const uint8_t src[6], int family)
{
	memcpy(eth, dst, 6);
	memcpy(eth + 6, src, 6);
	*(uint16_t *)(eth + 12) = htons(family == AF_INET ? ETHERTYPE_IP : ETHERTYPE_IPV6);
}

/* Outer IPv4/IPv6 + UDP header in front of a payload of plen bytes. UDP checksum: zero for
 * IPv4 (RFC 768 allows it; WireGuard authenticates the payload), computed for IPv6 where it is
 * mandatory. Returns the header length written at hdr. */
static inline uint32_t ipudp_build(uint8_t *hdr, const struct mg_endpoint *dst, const uint8_t *src_addr,
				   uint16_t src_port, uint32_t plen)
{
	struct udphdr *udp;

	if (dst->family == AF_INET) {
		struct iphdr *ip = (void *)hdr;

		memset(ip, 0, IP4_HLEN);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(IP4_HLEN + UDP_HLEN + plen);
		ip->frag_off = htons(IP_DF);
		ip->ttl = 64;
		ip->protocol = IPPROTO_UDP;
		memcpy(&ip->saddr, src_addr, 4);
		memcpy(&ip->daddr, dst->addr, 4);
		ip->check = ip4_header_csum(ip);
		udp = (void *)(hdr + IP4_HLEN);
		udp->source = htons(src_port);
		udp->dest = htons(dst->port);
		udp->len = htons(UDP_HLEN + plen);
		udp->check = 0;
		return IP4_HLEN + UDP_HLEN;
	}
	struct ip6_hdr *ip6 = (void *)hdr;
	uint32_t sum;

	ip6->ip6_flow = htonl(6u << 28);
	ip6->ip6_plen = htons(UDP_HLEN + plen);
	ip6->ip6_nxt = IPPROTO_UDP;
	ip6->ip6_hlim = 64;
	memcpy(&ip6->ip6_src, src_addr, 16);
	memcpy(&ip6->ip6_dst, dst->addr, 16);
	udp = (void *)(hdr + IP6_HLEN);
	udp->source = htons(src_port);
	udp->dest = htons(dst->port);
	udp->len = htons(UDP_HLEN + plen);
	udp->check = 0;
	sum = csum_add(0, &ip6->ip6_src, 32);
	sum += UDP_HLEN + plen + IPPROTO_UDP;
	sum = csum_add(sum, udp, UDP_HLEN + plen);
	udp->check = htons(csum_fold(sum));
	if (!udp->check)
		udp->check = 0xffff;
	return IP6_HLEN + UDP_HLEN;
}

#endif
