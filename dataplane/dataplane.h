/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dataplane.h - the one dataplane header control/ includes: the concurrency boundary between the
 * control thread and the packet workers. Everything control may touch on the fast path's side is
 * reached from here; the rest of dataplane/'s top level (worker internals, pkt, nat internals,
 * io/ ports) stays private to it. The pure core (wireguard/, crypto/, netlink/, base/) is open to
 * both sides and is not part of this boundary.
 *
 * Who writes what, and how workers see it:
 *
 *   struct mg_device (device.h), as workers read it
 *     name, ifname, ifindex, mtu, tun_fd, snat,     written by control before worker_start(),
 *     poll_spin_ns, rekey_after_time_ns, nworkers,  immutable while workers run
 *     workers, wake_fd, epfd
 *     listen_port                                   control writes, workers load: atomic
 *     allowedips, index                             control writes under RCU (allowedips_*,
 *                                                   index_insert/remove/replace); workers read in
 *                                                   their read-side section, one per loop pass
 *     filter, addrs, routes                         immutable once published; control swaps the
 *                                                   whole object with dataplane_publish_*() below
 *                                                   and frees the old one after a grace period
 *     nl                                            the neighbour/route snapshot, published by the
 *                                                   netlink mirror (RCU)
 *     nat                                           flows: workers create them (per-worker ports),
 *                                                   control expires them (nat_expire, RCU retire)
 *   struct peer, struct keypair (peer.h)            see the rule beside each field: keypairs are
 *                                                   RCU pointers written by control only
 *                                                   (peer_install_keypair, peer_rotate_next,
 *                                                   keypair_retire, peer_retire); the endpoint is
 *                                                   a seqlock; timer events and byte counters are
 *                                                   atomics written by workers, read by control
 *   struct worker (device.h)                        the punt ring (worker -> control) and txq ring
 *                                                   (control -> worker) are single-producer,
 *                                                   single-consumer; counters are written by their
 *                                                   worker only and summed by control at scrape
 *                                                   time; stop is atomic
 *
 * What no worker reads (our identity, the cookie checker and rate limiter, the peer list, the
 * steering program, the installed routes, the handshake counters) is not in struct mg_device at
 * all: control keeps it beside the device in its own struct mg_ctl.
 *
 * The control thread is the only writer of every RCU-published table, so publishing needs no lock;
 * mg_synchronize_rcu() returns once every worker passed a quiescent state (once per loop pass).
 */
#ifndef MG_DATAPLANE_H
#define MG_DATAPLANE_H

#include <stdlib.h>
#include "rcu.h"           /* RCU through the project wrapper (TSan sees the grace periods) */
#include "mg_config.h"       /* MG_HAVE_DPDK */
#include "device.h"          /* the device, worker lifecycle, punt/txreq ring messages */
#include "peer.h"            /* peer and keypair publish/retire */
#include "nat.h"             /* nat_expire */
#include "filter.h"          /* the filter-compile API (filter_new, filter_rule_*, filter_free) */
#include "io/tun.h"          /* the TUN device control opens and configures */
#include "io/xsk.h"          /* AF_XDP queue attach */
#include "io/xsk_prog.h"     /* the steering program (listen port, routes) */
#include "io/dpdk_probe.h"   /* the kernel interface behind a DPDK port, EAL failure causes */
#ifdef MG_HAVE_DPDK
#include "io/dpdk.h"         /* DPDK EAL and queue attach */
#endif

/* Control thread: make @f the packet filter (NULL = none, allow all); the old one is freed once
 * no worker can still read it. */
static inline void dataplane_publish_filter(struct mg_device *dev, struct filter *f)
{
	struct filter *old = mg_rcu_xchg_pointer(&dev->filter, f);

	if (old) {
		mg_synchronize_rcu();      /* workers pass a quiescent state every loop: short */
		filter_free(old);
	}
}

/* Control thread: make @next the router's own tailnet addresses (local delivery). */
static inline void dataplane_publish_addrs(struct mg_device *dev, struct mg_addrset *next)
{
	struct mg_addrset *old = mg_rcu_xchg_pointer(&dev->addrs, next);

	atomic_fetch_add_explicit(&dev->addrs_gen, 1, memory_order_release);
	if (old) {
		mg_synchronize_rcu();
		free(old);
	}
}

/* Control thread: make @next the advertised routes. When this returns no worker forwards by the
 * old set any more. @next must not be NULL while workers run. */
static inline void dataplane_publish_routes(struct mg_device *dev, struct mg_routeset *next)
{
	struct mg_routeset *old = mg_rcu_xchg_pointer(&dev->routes, next);

	atomic_fetch_add_explicit(&dev->routes_gen, 1, memory_order_release);
	mg_synchronize_rcu();
	free(old);
}

#endif
