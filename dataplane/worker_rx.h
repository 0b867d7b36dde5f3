/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * worker_rx.h - frames into a worker (worker_rx.c): classify, WireGuard data in (open batch,
 * replay window, roaming, source check) and the forwarding decision for what came out of the
 * tunnel, which hands packets to worker_tx.h. Each consumes the packet or frame it is given.
 */
#ifndef MG_WORKER_RX_H
#define MG_WORKER_RX_H

#include "wctx.h"

/* The n received frames of a burst (each descriptor: its Ethernet header's port offset and
 * length), in order, and the worker's rx counters. rx has WK_RX_PREFETCH entries of room past
 * the n (wk_rx_burst writes them). */
void wk_rx_burst(struct wctx *c, struct io_desc *rx, unsigned n);
/* Opens the batch wk_rx_burst gathered, checks replay, and routes what authenticates. */
void wk_flush_open(struct wctx *c);
void wk_route_inner(struct wctx *c, struct wpkt *p, struct peer *from);
/* A WireGuard message (p->l3, p->len) that control received through DERP from p->ep: the same
 * classify/open/replay/route path as UDP. */
void wk_rx_relayed(struct wctx *c, struct wpkt *p);

#endif
