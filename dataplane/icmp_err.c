// SPDX-License-Identifier: GPL-2.0-only
/* icmp_err.c - see icmp_err.h. */
#include <errno.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include "icmp_err.h"
#include "pkt.h"

static bool icmp_err_allowed(struct wctx *c)
{
	uint64_t elapsed = c->now - c->icmp_last;

	c->icmp_last = c->now;
	c->icmp_tokens += elapsed / (NSEC_PER_SEC / ICMP_ERR_PER_SEC);
	if (c->icmp_tokens > ICMP_ERR_BURST)
		c->icmp_tokens = ICMP_ERR_BURST;
	if (!c->icmp_tokens)
		return false;
	c->icmp_tokens--;
	return true;
}

static uint32_t build_v4(uint8_t *out, const struct wpkt *orig, const uint8_t *src, uint32_t mtu)
{
	/* RFC 1812 4.3.2.3: quote as much as fits in 576 bytes. */
	uint32_t quote = orig->len < 576 - IP4_HLEN - 8 ? orig->len : 576 - IP4_HLEN - 8;
	struct iphdr *ip = (void *)out;
	uint8_t *icmp = out + IP4_HLEN;

	memset(out, 0, IP4_HLEN + 8);
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons(IP4_HLEN + 8 + quote);
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	memcpy(&ip->saddr, src, 4);
	memcpy(&ip->daddr, ip_src(orig->l3, AF_INET), 4);
	ip->check = ip4_header_csum(ip);
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = ICMP_FRAG_NEEDED;
	*(uint16_t *)(icmp + 6) = htons((uint16_t)mtu);
	memcpy(icmp + 8, orig->l3, quote);
	*(uint16_t *)(icmp + 2) = htons(csum_fold(csum_add(0, icmp, 8 + quote)));
	return IP4_HLEN + 8 + quote;
}

static uint32_t build_v6(uint8_t *out, const struct wpkt *orig, const uint8_t *src, uint32_t mtu)
{
	/* RFC 4443 2.4(c): as much of the packet as fits in the minimum IPv6 MTU. */
	uint32_t quote = orig->len < 1280 - IP6_HLEN - 8 ? orig->len : 1280 - IP6_HLEN - 8;
	struct ip6_hdr *ip6 = (void *)out;
	uint8_t *icmp = out + IP6_HLEN;
	uint32_t sum;

	memset(out, 0, IP6_HLEN + 8);
	ip6->ip6_flow = htonl(6u << 28);
	ip6->ip6_plen = htons(8 + quote);
	ip6->ip6_nxt = IPPROTO_ICMPV6;
	ip6->ip6_hlim = 64;
	memcpy(&ip6->ip6_src, src, 16);
	memcpy(&ip6->ip6_dst, ip_src(orig->l3, AF_INET6), 16);
	icmp[0] = ICMP6_PACKET_TOO_BIG;
	*(uint32_t *)(icmp + 4) = htonl(mtu);
	memcpy(icmp + 8, orig->l3, quote);
	sum = csum_add(0, &ip6->ip6_src, 32);
	sum += 8 + quote + IPPROTO_ICMPV6;
	sum = csum_add(sum, icmp, 8 + quote);
	*(uint16_t *)(icmp + 2) = htons(csum_fold(sum));
	return IP6_HLEN + 8 + quote;
}

void icmp_err_too_big(struct wctx *c, const struct wpkt *orig, uint32_t mtu)
{
	struct nl_l2hop hop;
	struct wpkt p = { .family = orig->family, .origin = FROM_LOCAL };
	uint64_t base;

	if (orig->family == AF_INET && !(((const struct iphdr *)orig->l3)->frag_off & htons(IP_DF)))
		return;
	if (nl_snapshot_lookup(c->nl, orig->family, ip_src(orig->l3, orig->family), &hop) == -ENETUNREACH ||
	    !icmp_err_allowed(c))
		return;
	base = xsk_port_frame_get(&c->w->port);
	if (base == UINT64_MAX)
		return;
	p.addr = base + FRAME_DATA_OFF;
	p.l3 = xsk_port_data(&c->w->port, p.addr);
	p.len = orig->family == AF_INET ? build_v4(p.l3, orig, hop.src_addr, mtu) :
					  build_v6(p.l3, orig, hop.src_addr, mtu);
	c->ctr->icmp_sent++;
	wk_lan(c, &p, 0);
}
