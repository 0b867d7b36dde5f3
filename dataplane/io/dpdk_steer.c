// SPDX-License-Identifier: GPL-2.0-only
/*
 * dpdk_steer.c - the XDP program's decision in C (see dpdk_steer.h and bpf/xdp_steer.bpf.c):
 *   to the worker: UDP to the listen port on one of our addresses; with SNAT, a reply to the
 *   NAT port range (TCP/UDP destination port, echo-reply identifier); an IP packet whose
 *   destination lies in a peer's allowed IPs (plaintext to encrypt);
 *   to the kernel: ARP, ND and other link-local or multicast IPv6, fragments to us, IPv6 with
 *   extension headers to us, and everything else.
 */
#include <string.h>
#include <arpa/inet.h>
#include <net/ethernet.h>
#include <netinet/in.h>
#include "io/dpdk_steer.h"
#include "device.h"
#include "pkt.h"
#include "netlink/nlmirror.h"

static bool nat_port(const uint8_t *p)
{
	uint32_t port = (uint32_t)(p[0] << 8 | p[1]);

	return port >= NAT_PORT_MIN && port <= NAT_PORT_MAX;
}

/* Our address: WireGuard/disco/STUN on the listen port, or a reply to a NAT flow. */
static bool for_us(struct mg_device *dev, uint8_t proto, const uint8_t *l4, uint32_t l4len, uint8_t echo_reply)
{
	uint16_t port = atomic_load_explicit(&dev->listen_port, memory_order_relaxed);

	if (l4len < 8)
		return false;
	if (proto == IPPROTO_UDP && (l4[2] << 8 | l4[3]) == port)
		return true;
	if (!dev->snat)
		return false;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		return nat_port(l4 + 2);
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		return l4[0] == echo_reply && nat_port(l4 + 4);
	return false;
}

static bool steer_ipv4(struct mg_device *dev, const struct nl_snapshot *nl, const uint8_t *ip, uint32_t len)
{
	uint32_t hl = (ip[0] & 0xf) * 4u;

	if (len < IP4_HLEN || hl < IP4_HLEN || hl > len)
		return false;
	if (nl_snapshot_is_local(nl, AF_INET, ip + 16)) {
		if ((ip[6] << 8 | ip[7]) & 0x3fff)          /* fragments: the kernel reassembles */
			return false;
		return for_us(dev, ip[9], ip + hl, len - hl, 0);
	}
	return allowedips_lookup(&dev->allowedips, AF_INET, ip + 16) != NULL;
}

static bool steer_ipv6(struct mg_device *dev, const struct nl_snapshot *nl, const uint8_t *ip, uint32_t len)
{
	const uint8_t *dst = ip + 24;

	if (len < IP6_HLEN)
		return false;
	if (nl_snapshot_is_local(nl, AF_INET6, dst))
		return for_us(dev, ip[6], ip + IP6_HLEN, len - IP6_HLEN, 129);
	if (dst[0] == 0xff || (dst[0] == 0xfe && (dst[1] & 0xc0) == 0x80))
		return false;                                /* ND, MLD, link-local */
	return allowedips_lookup(&dev->allowedips, AF_INET6, dst) != NULL;
}

bool dpdk_steer_to_worker(struct mg_device *dev, const struct nl_snapshot *nl, const uint8_t *frame,
			  uint32_t len)
{
	uint16_t et;

	if (len < ETH_HLEN_)
		return false;
	et = (uint16_t)(frame[12] << 8 | frame[13]);
	if (et == ETHERTYPE_IP)
		return steer_ipv4(dev, nl, frame + ETH_HLEN_, len - ETH_HLEN_);
	if (et == ETHERTYPE_IPV6)
		return steer_ipv6(dev, nl, frame + ETH_HLEN_, len - ETH_HLEN_);
	return false;
}
