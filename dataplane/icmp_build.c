// SPDX-License-Identifier: GPL-2.0-only
/* icmp_build.c - see icmp_build.h. */
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include "icmp_build.h"
#include "pkt.h"

static uint32_t build_v4(uint8_t *out, const uint8_t *orig, uint32_t orig_len, const uint8_t *src, uint32_t mtu)
{
	/* RFC 1812 4.3.2.3: quote as much as fits in 576 bytes. */
	uint32_t quote = orig_len < 576 - IP4_HLEN - 8 ? orig_len : 576 - IP4_HLEN - 8;
	struct iphdr *ip = (void *)out;
	uint8_t *icmp = out + IP4_HLEN;

	memset(out, 0, IP4_HLEN + 8);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(IP4_HLEN + 8 + quote);
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	memcpy(&ip->saddr, src, 4);
	memcpy(&ip->daddr, ip_src(orig, AF_INET), 4);
	ip->check = ip4_header_csum(ip);
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = ICMP_FRAG_NEEDED;
	*(uint16_t *)(icmp + 6) = htons((uint16_t)mtu);
	memcpy(icmp + 8, orig, quote);
	*(uint16_t *)(icmp + 2) = htons(csum_fold(csum_add(0, icmp, 8 + quote)));
	return IP4_HLEN + 8 + quote;
}

static uint32_t build_v6(uint8_t *out, const uint8_t *orig, uint32_t orig_len, const uint8_t *src, uint32_t mtu)
{
	/* RFC 4443 2.4(c): as much of the packet as fits in the minimum IPv6 MTU. */
	uint32_t quote = orig_len < 1280 - IP6_HLEN - 8 ? orig_len : 1280 - IP6_HLEN - 8;
	struct ip6_hdr *ip6 = (void *)out;
	uint8_t *icmp = out + IP6_HLEN;
	uint32_t sum;

	memset(out, 0, IP6_HLEN + 8);
	ip6->ip6_flow = htonl(6u << 28);
	ip6->ip6_plen = htons(8 + quote);
	ip6->ip6_nxt = IPPROTO_ICMPV6;
	ip6->ip6_hlim = 64;
	memcpy(&ip6->ip6_src, src, 16);
	memcpy(&ip6->ip6_dst, ip_src(orig, AF_INET6), 16);
	icmp[0] = ICMP6_PACKET_TOO_BIG;
	*(uint32_t *)(icmp + 4) = htonl(mtu);
	memcpy(icmp + 8, orig, quote);
	sum = csum_add(0, &ip6->ip6_src, 32);
	sum += 8 + quote + IPPROTO_ICMPV6;
	sum = csum_add(sum, icmp, 8 + quote);
	*(uint16_t *)(icmp + 2) = htons(csum_fold(sum));
	return IP6_HLEN + 8 + quote;
}

uint32_t icmp_build_too_big(uint8_t *out, const uint8_t *orig, uint32_t orig_len, int family,
			    const uint8_t *src, uint32_t mtu)
{
	return family == AF_INET ? build_v4(out, orig, orig_len, src, mtu) : build_v6(out, orig, orig_len, src, mtu);
}
