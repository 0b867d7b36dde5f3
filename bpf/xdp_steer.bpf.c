// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp_steer.bpf.c - decides, per received frame, whether meshgate's worker for this queue must see it.
 *
 * To the AF_XDP socket of the receiving queue:
 *   - UDP to the WireGuard listen port on one of our addresses (data, handshakes, later disco/STUN);
 *   - IPv4/IPv6 whose destination lies in a tunnel route (a peer's allowed IPs), i.e. plaintext the
 *     LAN hands us to encrypt.
 * Everything else (ARP, ND, SSH to the router, the router's own traffic, fragments) goes to the kernel,
 * which keeps doing neighbour resolution and local delivery. If no socket is bound for the queue, the
 * frame also goes to the kernel (bpf_redirect_map's fallback action), so a stopped worker never blackholes.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>
#include "steer_maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct steer_cfg);
} steer_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_MAX_LOCAL);
	__type(key, struct steer_local);
	__type(value, __u8);
} steer_local SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, STEER_MAX_ROUTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct steer_lpm4);
	__type(value, __u8);
} steer_routes4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, STEER_MAX_ROUTES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct steer_lpm6);
	__type(value, __u8);
} steer_routes6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STEER_NSTATS);
	__type(key, __u32);
	__type(value, __u64);
} steer_stats SEC(".maps");

/* Run first among the programs libxdp chains on this interface. */
struct {
	__uint(priority, 10);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xdp_steer);

static __always_inline int count(__u32 stat, int action)
{
	__u64 *c = bpf_map_lookup_elem(&steer_stats, &stat);

	if (c)
		(*c)++;
	return action;
}

static __always_inline int to_worker(struct xdp_md *ctx, __u32 stat)
{
	count(stat, 0);
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

static __always_inline struct steer_cfg *cfg_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&steer_cfg, &zero);
}

static __always_inline bool is_wg_port(void *data_end, struct udphdr *udp)
{
	struct steer_cfg *cfg;

	if ((void *)(udp + 1) > data_end)
		return false;
	cfg = cfg_get();
	return cfg && cfg->listen_port_be && udp->dest == cfg->listen_port_be;
}

static __always_inline bool in_nat_range(__u16 port_be)
{
	__u16 port = bpf_ntohs(port_be);

	return port >= STEER_NAT_PORT_MIN && port <= STEER_NAT_PORT_MAX;
}

/* A reply to one of our SNAT flows: TCP/UDP to a NAT port, or an echo reply with a NAT identifier. */
static __always_inline bool is_nat_reply(void *l4, void *data_end, __u8 proto, __u8 echo_reply)
{
	struct steer_cfg *cfg = cfg_get();
	__u8 *p = l4;

	if (!cfg || !(cfg->flags & STEER_F_NAT) || (void *)(p + 8) > data_end)
		return false;
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		return in_nat_range(*(__u16 *)(p + 2));
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		return p[0] == echo_reply && in_nat_range(*(__u16 *)(p + 4));
	return false;
}

static __always_inline int steer_ipv4(struct xdp_md *ctx, struct iphdr *ip, void *data_end)
{
	struct steer_local local = { .family = 4 };
	struct steer_lpm4 key = { .prefixlen = 32 };

	if ((void *)(ip + 1) > data_end || ip->ihl < 5)
		return count(STEER_PASS, XDP_PASS);
	__builtin_memcpy(local.addr, &ip->daddr, 4);
	if (bpf_map_lookup_elem(&steer_local, &local)) {
		void *l4 = (void *)ip + ip->ihl * 4;

		/* Fragments of our own traffic are the kernel's: it reassembles. */
		if (ip->frag_off & bpf_htons(0x3fff))
			return count(STEER_PASS, XDP_PASS);
		if (ip->protocol == IPPROTO_UDP && is_wg_port(data_end, l4))
			return to_worker(ctx, STEER_WG);
		if (is_nat_reply(l4, data_end, ip->protocol, 0))
			return to_worker(ctx, STEER_NAT);
		return count(STEER_PASS, XDP_PASS);
	}
	__builtin_memcpy(key.addr, &ip->daddr, 4);
	if (bpf_map_lookup_elem(&steer_routes4, &key))
		return to_worker(ctx, STEER_ROUTE);
	return count(STEER_PASS, XDP_PASS);
}

static __always_inline int steer_ipv6(struct xdp_md *ctx, struct ipv6hdr *ip6, void *data_end)
{
	struct steer_local local = { .family = 6 };
	struct steer_lpm6 key = { .prefixlen = 128 };

	if ((void *)(ip6 + 1) > data_end)
		return count(STEER_PASS, XDP_PASS);
	__builtin_memcpy(local.addr, &ip6->daddr, 16);
	if (bpf_map_lookup_elem(&steer_local, &local)) {
		/* Only a UDP header right after the fixed header; extension headers go to the kernel. */
		if (ip6->nexthdr == IPPROTO_UDP && is_wg_port(data_end, (void *)(ip6 + 1)))
			return to_worker(ctx, STEER_WG);
		if (is_nat_reply((void *)(ip6 + 1), data_end, ip6->nexthdr, 129))
			return to_worker(ctx, STEER_NAT);
		return count(STEER_PASS, XDP_PASS);
	}
	/* Link-local and multicast (ND, MLD) always belong to the kernel. */
	if (ip6->daddr.in6_u.u6_addr8[0] == 0xff ||
	    (ip6->daddr.in6_u.u6_addr8[0] == 0xfe && (ip6->daddr.in6_u.u6_addr8[1] & 0xc0) == 0x80))
		return count(STEER_PASS, XDP_PASS);
	__builtin_memcpy(key.addr, &ip6->daddr, 16);
	if (bpf_map_lookup_elem(&steer_routes6, &key))
		return to_worker(ctx, STEER_ROUTE);
	return count(STEER_PASS, XDP_PASS);
}

SEC("xdp")
int xdp_steer(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return count(STEER_PASS, XDP_PASS);
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return steer_ipv4(ctx, (void *)(eth + 1), data_end);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return steer_ipv6(ctx, (void *)(eth + 1), data_end);
	return count(STEER_PASS, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
