// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdp_steer.bpf.c - decides, per received frame, whether meshgate's worker for this queue must see it.
 *
 * The decision is steer_decide.h, shared with the DPDK backend; this file supplies its facts from
 * BPF maps the loader (dataplane/io/xsk_prog.c) fills: our addresses (steer_local), the tunnel
 * routes (steer_routes4/6, the peers' allowed IPs), the listen port and SNAT flag (steer_cfg).
 * A worker verdict redirects to the AF_XDP socket of the receiving queue; everything else (ARP, ND,
 * SSH to the router, the router's own traffic, fragments) goes to the kernel, which keeps doing
 * neighbour resolution and local delivery. If no socket is bound for the queue, the frame also goes
 * to the kernel (bpf_redirect_map's fallback action), so a stopped worker never blackholes; such
 * frames are counted (STEER_ST_NOSOCK): the kernel has no listener for them, so they are lost
 * there unless it is the router's own traffic. The first fragment of a datagram to the listen
 * port is dropped here (STEER_FRAG_FIRST): nothing could reassemble it.
 */
#include <stdbool.h>
#include <linux/bpf.h>
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

/* ---- the facts steer_decide.h asks for ----------------------------------------------------- */

struct steer_env {
	__u16 port;        /* host order; 0 = no WireGuard steering */
	bool nat;
};

static __always_inline bool steer_env_local(const struct steer_env *env, int family, const __u8 *addr)
{
	struct steer_local key = { .family = (__u8)family };

	if (family == STEER_FAMILY_V4)
		__builtin_memcpy(key.addr, addr, 4);
	else
		__builtin_memcpy(key.addr, addr, 16);
	return bpf_map_lookup_elem(&steer_local, &key) != NULL;
}

static __always_inline bool steer_env_routed(const struct steer_env *env, int family, const __u8 *addr)
{
	struct steer_lpm4 key4 = { .prefixlen = 32 };
	struct steer_lpm6 key6 = { .prefixlen = 128 };

	if (family == STEER_FAMILY_V4) {
		__builtin_memcpy(key4.addr, addr, 4);
		return bpf_map_lookup_elem(&steer_routes4, &key4) != NULL;
	}
	__builtin_memcpy(key6.addr, addr, 16);
	return bpf_map_lookup_elem(&steer_routes6, &key6) != NULL;
}

static __always_inline bool steer_env_bcast4(const struct steer_env *env, const __u8 *addr)
{
	struct steer_local key = { .family = STEER_FAMILY_BCAST4 };

	__builtin_memcpy(key.addr, addr, 4);
	return bpf_map_lookup_elem(&steer_local, &key) != NULL;
}

static __always_inline __u16 steer_env_port(const struct steer_env *env)
{
	return env->port;
}

static __always_inline bool steer_env_nat(const struct steer_env *env)
{
	return env->nat;
}

#include "steer_decide.h"

static __always_inline void count(__u32 k)
{
	__u64 *c = bpf_map_lookup_elem(&steer_stats, &k);

	if (c)
		(*c)++;
}

SEC("xdp")
int xdp_steer(struct xdp_md *ctx)
{
	const __u8 *data = (const __u8 *)(long)ctx->data;
	const __u8 *data_end = (const __u8 *)(long)ctx->data_end;
	struct steer_env env = { 0 };
	struct steer_cfg *cfg;
	__u32 verdict, zero = 0;
	long act;

	cfg = bpf_map_lookup_elem(&steer_cfg, &zero);
	if (cfg) {
		env.port = bpf_ntohs(cfg->listen_port_be);
		env.nat = cfg->flags & STEER_F_NAT;
	}
	verdict = steer_decide(&env, data, data_end);
	count(verdict);
	if (verdict == STEER_PASS || verdict == STEER_FRAG_LATER)
		return XDP_PASS;
	if (verdict == STEER_FRAG_FIRST)
		return XDP_DROP;
	act = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
	if (act != XDP_REDIRECT)
		count(STEER_ST_NOSOCK);
	return act;
}

char _license[] SEC("license") = "GPL";
