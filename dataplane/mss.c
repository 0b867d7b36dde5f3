// SPDX-License-Identifier: GPL-2.0-only
/* mss.c - see mss.h. TCP option layout per RFC 9293 3.1; checksum update per RFC 1624. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include "mss.h"
#include "pkt.h"

#define TCP_MIN_HLEN 20
#define TCPOPT_EOL_ 0
#define TCPOPT_NOP_ 1
#define TCPOPT_MSS_ 2

static uint8_t *tcp_header(uint8_t *l3, uint32_t len, int family, uint32_t *tcplen)
{
	uint32_t hl;

	if (family == AF_INET) {
		const struct iphdr *ip = (const void *)l3;

		/* Only first fragments carry the TCP header. */
		if (ip->protocol != IPPROTO_TCP || (ip->frag_off & htons(0x1fff)))
			return NULL;
		hl = ip->ihl * 4u;
	} else {
		if (l3[6] != IPPROTO_TCP)
			return NULL;
		hl = IP6_HLEN;
	}
	if (len < hl + TCP_MIN_HLEN)
		return NULL;
	*tcplen = len - hl;
	return l3 + hl;
}

bool mss_clamp_tcp(uint8_t *l3, uint32_t len, int family, uint32_t mtu)
{
	uint32_t tcplen, doff, max = mtu - (family == AF_INET ? IP4_HLEN : IP6_HLEN) - TCP_MIN_HLEN;
	uint8_t *tcp = tcp_header(l3, len, family, &tcplen);

	if (!tcp || !(tcp[13] & 0x02))          /* SYN flag */
		return false;
	doff = (tcp[12] >> 4) * 4u;
	if (doff < TCP_MIN_HLEN || doff > tcplen)
		return false;
	for (uint32_t i = TCP_MIN_HLEN; i < doff;) {
		uint8_t kind = tcp[i], olen;
		uint16_t old, new;

		if (kind == TCPOPT_EOL_)
			break;
		if (kind == TCPOPT_NOP_) {
			i++;
			continue;
		}
		if (i + 1 >= doff || (olen = tcp[i + 1]) < 2 || i + olen > doff)
			return false;
		if (kind == TCPOPT_MSS_ && olen == 4) {
			memcpy(&old, tcp + i + 2, 2);
			if (ntohs(old) <= max)
				return false;
			new = htons((uint16_t)max);
			memcpy(tcp + i + 2, &new, 2);
			/* At an odd offset the value straddles two checksum words: its contribution
			 * is the byte-swapped value (RFC 1071 byte-order independence). */
			uint16_t sum;

			memcpy(&sum, tcp + 16, 2);
			if (i % 2 == 0)
				sum = csum_replace2(sum, old, new);
			else
				sum = csum_replace2(sum, (uint16_t)(old << 8 | old >> 8), (uint16_t)(new << 8 | new >> 8));
			memcpy(tcp + 16, &sum, 2);
			return true;
		}
		i += olen;
	}
	return false;
}
