/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * worker_tx.h - packets leaving a worker (worker_tx.c): into the tunnel (peer, keypair, seal
 * batch, outer headers) and onto the LAN. Each consumes the packet: sealed and sent, staged
 * (no session or no next-hop MAC yet), or dropped with a reason. since = 0 for a new packet,
 * its first time for a staged retry (the stage timeout counts from there).
 */
#ifndef MG_WORKER_TX_H
#define MG_WORKER_TX_H

#include "wctx.h"

void wk_tunnel(struct wctx *c, struct wpkt *p, uint64_t since);
/* Seals the batch wk_tunnel gathered and hands each message to its outer headers. */
void wk_flush_seal(struct wctx *c);
void wk_lan(struct wctx *c, struct wpkt *p, uint64_t since);
void wk_udp(struct wctx *c, struct wpkt *p, uint64_t since);   /* p->l3 = WireGuard message, p->ep = dst */

#endif
