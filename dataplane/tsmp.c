// SPDX-License-Identifier: GPL-2.0-only
/*
 * tsmp.c - see tsmp.h. The pong's layout is tailscale's TSMPPongReply.Marshal with the header
 * of the ping after IP4Header/IP6Header.ToResponse (net/packet/tsmp.go, ip4.go, ip6.go).
 */
#include <string.h>
#include <netinet/in.h>
#include "tsmp.h"
#include "pkt.h"

static void pong_header4(uint8_t *l3)
{
	struct iphdr *ip = (struct iphdr *)l3;
	uint8_t tmp[4];

	memcpy(tmp, &ip->saddr, 4);
	memcpy(&ip->saddr, &ip->daddr, 4);
	memcpy(&ip->daddr, tmp, 4);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = htons(IP4_HLEN + TSMP_PONG_LEN);
	ip->id = (uint16_t)~ip->id;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = TSMP_PROTO;
	ip->check = 0;
	ip->check = ip4_header_csum(ip);
}

static void pong_header6(uint8_t *l3)
{
	uint32_t w0;
	uint8_t tmp[16];

	memcpy(&w0, l3, 4);
	w0 = htonl(0x60000000u | (~ntohl(w0) & 0x000fffffu));
	memcpy(l3, &w0, 4);
	l3[4] = 0;
	l3[5] = TSMP_PONG_LEN;
	l3[6] = TSMP_PROTO;
	l3[7] = 64;
	memcpy(tmp, l3 + 8, 16);
	memmove(l3 + 8, l3 + 24, 16);
	memcpy(l3 + 24, tmp, 16);
}

uint32_t tsmp_ping_to_pong(uint8_t *l3, uint32_t len, int family)
{
	uint32_t hl = family == AF_INET ? (l3[0] & 0xf) * 4u : IP6_HLEN;
	uint32_t out = (family == AF_INET ? IP4_HLEN : IP6_HLEN) + TSMP_PONG_LEN;
	uint8_t data[8];

	if (tsmp_ip_proto(l3, family) != TSMP_PROTO || len < hl + TSMP_PING_LEN || l3[hl] != TSMP_PING)
		return 0;
	if (family == AF_INET && (ntohs(*(const uint16_t *)(l3 + 6)) & 0x3fff))
		return 0;                        /* a fragment: tailscaled reads no TSMP from those */
	memcpy(data, l3 + hl + 1, 8);        /* before the header shrinks over it (IPv4 options) */
	if (family == AF_INET)
		pong_header4(l3);
	else
		pong_header6(l3);
	hl = family == AF_INET ? IP4_HLEN : IP6_HLEN;
	l3[hl] = TSMP_PONG;
	memcpy(l3 + hl + 1, data, 8);
	l3[hl + 9] = 0;                      /* PeerAPI port: none */
	l3[hl + 10] = 0;
	return out;
}
