/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nlmirror.h - a read-only mirror of the kernel's view of ONE interface (the NIC meshgate is
 * attached to): its MAC and MTU, its addresses, the main routing table and its neighbours.
 *
 * The kernel keeps doing ARP/ND and owns the routing tables; the AF_XDP fast path bypasses its
 * forwarding, so workers need the same answers (egress MACs, our source address) without a
 * syscall. The control thread owns the netlink socket and, after every burst of changes,
 * publishes an immutable struct nl_snapshot with liburcu QSBR.
 *
 * Threads: nlmirror_* run on the control thread (a registered QSBR reader). nl_snapshot_* are
 * lock-free reads for any registered, online QSBR thread; a snapshot pointer stays valid until
 * that thread's next quiescent state.
 */
#ifndef MG_NLMIRROR_H
#define MG_NLMIRROR_H

#include <stdbool.h>
#include <stdint.h>

struct nl_l2hop {
	uint8_t dst_mac[6], src_mac[6];
	uint8_t src_addr[16];    /* network byte order; IPv4 in the first 4 bytes, rest zero */
	uint8_t nexthop[16];     /* gateway, or the destination itself when on-link */
	int family;              /* AF_INET or AF_INET6 */
};

struct nlmirror;                      /* control-side object */
struct nl_snapshot;                   /* immutable, RCU-published */

/* Dumps addresses, routes and neighbours, subscribes to link/neigh/route/ifaddr groups for both
 * families and registers the event socket with epfd (struct evsource in data.ptr). The calling
 * thread must be a registered QSBR thread. 0 or -errno. */
int nlmirror_init(struct nlmirror **out, int ifindex, int epfd);
/* Unregisters from epfd, unpublishes and frees every snapshot (waits for a grace period). */
void nlmirror_uninit(struct nlmirror *m);

/* rcu_dereference of the current snapshot; never NULL between init and uninit. */
const struct nl_snapshot *nlmirror_current(const struct nlmirror *m);

/* Worker-side, lock-free. Longest-prefix match over the main table as the kernel sees it
 * (routes via other interfaces and blackhole/unreachable/prohibit routes take part, so a more
 * specific one hides ours), lowest metric first among equal prefixes; then the neighbour entry of
 * the gateway, or of dst when the route is on-link.
 *   0            out fully filled
 *   -EAGAIN      route via our interface, neighbour not usable yet; out->nexthop, ->family,
 *                ->src_addr and ->src_mac are set so the caller can ask for resolution
 *   -ENETUNREACH no route, or the best route does not leave through our interface
 * src_addr: the route's prefsrc, else an address of ours in that family (IPv4: one whose subnet
 * holds the next hop, else the first primary; IPv6: a usable global one first); all zero when
 * the interface has no address in that family. Usable neighbours: REACHABLE, STALE, DELAY, PROBE,
 * PERMANENT and NOARP with a 6-byte link-layer address. */
int nl_snapshot_lookup(const struct nl_snapshot *s, int family, const uint8_t *dst, struct nl_l2hop *out);
/* One of the interface's addresses. */
bool nl_snapshot_is_local(const struct nl_snapshot *s, int family, const uint8_t *addr);
/* The broadcast address of one of the interface's IPv4 subnets (prefixes up to /30). */
bool nl_snapshot_is_bcast4(const struct nl_snapshot *s, const uint8_t addr[4]);
/* The interface's own MAC. */
void nl_snapshot_mac(const struct nl_snapshot *s, uint8_t mac[6]);
/* The interface's MTU. */
uint32_t nl_snapshot_mtu(const struct nl_snapshot *s);

/* Control-side: makes the kernel resolve addr on our interface (RTM_NEWNEIGH with NTF_USE: creates
 * the entry if needed and sends ARP/NS even for a FAILED one). Rate-limited to one request per
 * address per 100 ms: -EALREADY when suppressed. 0 or -errno. The snapshot updates when the
 * kernel's RTM_NEWNEIGH arrives. */
int nlmirror_resolve(struct nlmirror *m, int family, const uint8_t *addr);

/* Control-side callback after each newly published snapshot (may be NULL). */
void nlmirror_set_notify(struct nlmirror *m, void (*cb)(void *ctx), void *ctx);

#endif
