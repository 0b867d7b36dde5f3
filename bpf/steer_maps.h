/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * steer_maps.h - the contract between bpf/xdp_steer.bpf.c and the user-space loader
 * (dataplane/io/xsk_prog.c): map names, key and value layouts, and the verdicts of the steering
 * decision (steer_decide.h). Plain C, shared by both sides and by the DPDK steering.
 */
#ifndef MG_STEER_MAPS_H
#define MG_STEER_MAPS_H

#include <linux/types.h>

#define STEER_MAX_QUEUES 64
#define STEER_MAX_ROUTES 65536
#define STEER_MAX_LOCAL 64

/* steer_cfg[0]: listen port in network byte order (0 = WireGuard steering off). */
struct steer_cfg {
	__u16 listen_port_be;
	__u16 pad;
	__u32 flags;
};

#define STEER_F_NAT 1u            /* steer replies to the NAT port range */
#define STEER_NAT_PORT_MIN 61000  /* = NAT_PORT_MIN in dataplane/nat.h (asserted in dpdk_steer.c) */
#define STEER_NAT_PORT_MAX 65535

/* LPM keys: prefixlen first, as BPF_MAP_TYPE_LPM_TRIE wants. */
struct steer_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct steer_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Address families as steer_local and steer_decide.h spell them. STEER_FAMILY_BCAST4 tags the
 * directed broadcast address of one of our IPv4 subnets (never steered into the tunnel). */
#define STEER_FAMILY_V4 4
#define STEER_FAMILY_V6 6
#define STEER_FAMILY_BCAST4 5

/* Local address keys (hash): family-tagged so one map holds v4 and v6. */
struct steer_local {
	__u8 family;     /* STEER_FAMILY_V4, _V6 or _BCAST4 */
	__u8 pad[3];
	__u8 addr[16];
};

/* What steer_decide() says about a frame; also the index of the per-CPU counters (steer_stats). */
enum steer_verdict {
	STEER_WG = 0,      /* UDP to our listen port on a local address -> worker */
	STEER_ROUTE,       /* plaintext for a tunnel destination -> worker */
	STEER_PASS,        /* everything else -> kernel */
	STEER_NAT,         /* replies to SNAT flows -> worker */
	STEER_FRAG_FIRST,  /* first fragment of UDP to our listen port: dropped (no one could use it) */
	STEER_FRAG_LATER,  /* a later IPv4/IPv6 fragment to one of our addresses -> kernel, counted */
	STEER_NVERDICTS,
};

/* steer_stats holds one counter per verdict, then these (the XDP program's own events). */
enum {
	STEER_ST_NOSOCK = STEER_NVERDICTS, /* worker verdict on a queue without a socket -> kernel */
	STEER_NSTATS,
};

#endif
