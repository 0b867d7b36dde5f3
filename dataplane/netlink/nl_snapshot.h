/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nl_snapshot.h - layout and builder of the immutable table workers read (internal to the
 * netlink room and its tests; everyone else uses nlmirror.h).
 *
 * Routes: per family, one open-addressed hash keyed by (prefix length, masked prefix) plus the
 * list of prefix lengths present, longest first. A lookup probes one hash per distinct length
 * (a home router has 3-6), stopping at the first hit, which is the longest match. Each slot
 * holds the winner for its prefix (lowest metric) with the next-hop data and source address
 * resolved at build time, so the fast path does no per-route work beyond the probe.
 * Neighbours: one open-addressed hash keyed by (family, address) holding only usable entries.
 */
#ifndef MG_NL_SNAPSHOT_H
#define MG_NL_SNAPSHOT_H

#include <stdint.h>
#include <urcu-qsbr.h>

#include "netlink/nlmirror.h"
#include "netlink/nltables.h"

struct nl_snap_route {
	uint8_t key[16];        /* prefix, masked to len bits */
	uint8_t len;
	uint8_t used;
	uint8_t ours;           /* unicast through the mirrored interface */
	uint8_t has_gw;
	uint32_t priority;      /* build time only: lowest metric wins the slot */
	uint8_t gw[16];
	uint8_t src[16];
};

struct nl_lpm {
	struct nl_snap_route *slots;
	uint32_t mask;          /* slot count - 1 (power of two) */
	uint32_t nlens;
	uint8_t lens[129];      /* distinct prefix lengths, longest first */
	uint64_t masks[129][2]; /* netmask of lens[i], as two words in memory byte order */
};

struct nl_snap_neigh {
	uint8_t used, family;
	uint8_t mac[6];
	uint8_t addr[16];
};

struct nl_snapshot {
	struct rcu_head rcu;    /* nlmirror frees old snapshots with call_rcu */
	uint8_t mac[6];
	uint32_t mtu;
	struct nl_lpm lpm[2];   /* [0] IPv4, [1] IPv6 */
	struct nl_snap_neigh *neigh;
	uint32_t neigh_mask;
	size_t n_addrs;
	struct nl_addr_ent *addrs;
};

/* Builds a snapshot from the control thread's tables; NULL on allocation failure. */
struct nl_snapshot *nl_snapshot_build(const struct nltables *t);
void nl_snapshot_free(struct nl_snapshot *s);

#endif
