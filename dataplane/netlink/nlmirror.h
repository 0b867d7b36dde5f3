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
 * Threads: nlmirror_* run on the control thread (a registered QSBR reader). Workers read the
 * snapshot nlmirror_current returns with nl_snapshot.h's lock-free readers (included here for
 * them).
 */
#ifndef MG_NLMIRROR_H
#define MG_NLMIRROR_H

#include <stdbool.h>
#include <stdint.h>
#include "netlink/nl_snapshot.h"

struct nlmirror;                      /* control-side object */

/* Dumps addresses, routes and neighbours, subscribes to link/neigh/route/ifaddr groups for both
 * families and registers the event socket with epfd (struct evsource in data.ptr). The calling
 * thread must be a registered QSBR thread. 0 or -errno. */
int nlmirror_init(struct nlmirror **out, int ifindex, int epfd);
/* Unregisters from epfd, unpublishes and frees every snapshot (waits for a grace period). */
void nlmirror_uninit(struct nlmirror *m);

/* rcu_dereference of the current snapshot; never NULL between init and uninit. */
const struct nl_snapshot *nlmirror_current(const struct nlmirror *m);

/* Control-side: makes the kernel resolve addr on our interface (RTM_NEWNEIGH with NTF_USE: creates
 * the entry if needed and sends ARP/NS even for a FAILED one). Rate-limited to one request per
 * address per 100 ms: -EALREADY when suppressed. 0 or -errno. The snapshot updates when the
 * kernel's RTM_NEWNEIGH arrives. */
int nlmirror_resolve(struct nlmirror *m, int family, const uint8_t *addr);

/* Control-side callback after each newly published snapshot (may be NULL). */
void nlmirror_set_notify(struct nlmirror *m, void (*cb)(void *ctx), void *ctx);

/* For tests and diagnostics, not the fast path: the subscribed event socket (tests shrink its
 * buffer to force ENOBUFS and a full re-dump), and how many full re-dumps lost events have
 * forced so far. */
int nlmirror_debug_event_fd(const struct nlmirror *m);
unsigned long nlmirror_debug_resyncs(const struct nlmirror *m);

#endif
