/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nltables.h - the control thread's mutable copy of the kernel state nlmirror watches, fed one
 * rtnetlink message at a time (dump replies and events alike, so both paths share one parser).
 * Owned by the control thread; workers never see it, they see snapshots built from it.
 * Plain arrays with linear search: a one-armed home router has a handful of routes and at most
 * a few hundred neighbours, and changes are rare compared with lookups.
 */
#ifndef MG_NLTABLES_H
#define MG_NLTABLES_H

/*
 * rtm_protocol of the routes meshgate puts on its TUN device for the tailnet (`ip route show proto
 * 109`). The mirror skips them: the workers route tailnet destinations by allowed IPs, not by the
 * kernel table, and a peer with 130,560 allowed IPs would otherwise flood the mirror with as many
 * routes.
 */
#define MG_RTPROT_TUN 109

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

struct nl_route_ent {
	uint8_t family, dst_len, tos, type;  /* rtm_family, rtm_dst_len, rtm_tos, rtm_type */
	uint32_t priority;                   /* RTA_PRIORITY (metric); lower wins */
	int oif;                             /* 0 = none (blackhole, nexthop objects, ...) */
	bool has_gw, has_prefsrc;
	uint8_t dst[16], gw[16], prefsrc[16];
};

struct nl_addr_ent {
	uint8_t family, prefixlen, scope;
	uint32_t flags;                      /* IFA_F_*, from IFA_FLAGS when present */
	uint8_t addr[16];
};

struct nl_neigh_ent {
	uint8_t family;
	uint16_t state;                      /* NUD_* */
	bool has_mac;
	uint8_t addr[16], mac[6];
};

#define NLT_VEC(type) struct { type *v; size_t n, cap; }

struct nltables {
	int ifindex;                         /* the one interface we mirror */
	bool present;                        /* RTM_NEWLINK seen for ifindex */
	uint8_t mac[6];
	uint32_t mtu;
	uint32_t link_flags;                 /* IFF_* */
	NLT_VEC(struct nl_route_ent) routes; /* main table, every interface */
	NLT_VEC(struct nl_addr_ent) addrs;   /* ifindex only, in kernel order */
	NLT_VEC(struct nl_neigh_ent) neighs; /* ifindex only */
};

/* nltables_apply result bits */
#define NLT_CHANGED        (1 << 0)     /* the snapshot must be rebuilt */
#define NLT_RESYNC_ROUTES  (1 << 1)     /* the kernel may have dropped routes silently */

void nltables_init(struct nltables *t, int ifindex);
void nltables_free(struct nltables *t);
void nltables_clear_routes(struct nltables *t);
void nltables_clear_all(struct nltables *t);
/* Applies one RTM_{NEW,DEL}{LINK,ADDR,ROUTE,NEIGH} message; others are ignored. Returns NLT_*
 * bits, or -ENOMEM (the table is unchanged then). */
int nltables_apply(struct nltables *t, const struct nlmsghdr *nlh);

/* Adds or replaces; exposed for the unit test, which builds tables without a kernel. */
int nltables_route_upsert(struct nltables *t, const struct nl_route_ent *r, bool replace);
int nltables_addr_upsert(struct nltables *t, const struct nl_addr_ent *a);
int nltables_neigh_upsert(struct nltables *t, const struct nl_neigh_ent *n);

#endif
