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
#include "mss.h"
#include "pkt.h"

void wk_tunnel(struct wctx *c, struct wpkt *p, uint64_t since);
/* Seals the batch wk_tunnel gathered and hands each message to its outer headers. */
void wk_flush_seal(struct wctx *c);
/* Onto the LAN in every case (MTU, MSS clamp, next hop, staging); wk_lan takes it when the next
 * hop is cached. */
void wk_lan_slow(struct wctx *c, struct wpkt *p, uint64_t since);

/* Onto the LAN: inline for a next hop this worker already knows (most packets); always, since
 * the compiler otherwise kept an out-of-line copy and a call per packet out of the tunnel. */
static inline __attribute__((always_inline)) void wk_lan(struct wctx *c, struct wpkt *p, uint64_t since)
{
	const struct nl_l2hop *h;

	if (likely(p->len <= c->lan_mtu && (h = wk_hop_cached(c, p->family, ip_dst(p->l3, p->family))))) {
		/* SYNs leaving the tunnel for the LAN: the LAN host must not offer more than the
		 * tunnel carries. */
		if (!since && p->origin == FROM_PEER && mss_clamp(p->l3, p->len, p->family, c->dev->mtu))
			c->ctr->mss_clamped++;
		eth_build(p->l3 - ETH_HLEN_, h->dst_mac, h->src_mac, p->family);
		wk_tx(c, p->l3 - ETH_HLEN_, ETH_HLEN_ + p->len);
		return;
	}
	wk_lan_slow(c, p, since);
}
void wk_udp(struct wctx *c, struct wpkt *p, uint64_t since);   /* p->l3 = WireGuard message, p->ep = dst */

#endif
