/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp.h - the DERP relay client on the control thread's epoll loop: one TLS
 * connection per region in use, never blocking the loop. The home region stays connected (and
 * is told NotePreferred); other regions connect when a packet is sent there and close after 60 s
 * without one. Frames are derp_frame.h's; the map comes from derpmap.h (control/conf).
 */
#ifndef MG_DERP_H
#define MG_DERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "derp_types.h"

struct derp;

int derp_init(struct derp **out, const struct derp_cfg *cfg);
void derp_uninit(struct derp *d);
/* Our node key (the DERP client identity). A change reconnects every region. */
void derp_set_key(struct derp *d, const uint8_t node_priv[32]);
/*
 * Replaces the DERP map; connections (and latencies) of regions whose first node is unchanged
 * are kept. The home region is chosen by derp_home_rule.h's rule among the regions that may be home
 * (a non-STUN-only node, not NoMeasureNoHome): by STUN latency with tailscaled's hysteresis, the
 * lowest id before any answer. A home not READY for DERP_FAILOVER_NS (after a failed attempt;
 * longer if a Restarting frame asked for it) is "down": the next-best region becomes home, the
 * down one is probed with the usual backoff and counts again once connected. A home change
 * sends NotePreferred(0)/(1) and shows in derp_home() (the caller publishes PreferredDERP).
 */
void derp_set_map(struct derp *d, const struct derp_region *regions, size_t n, uint64_t now);
/* A STUN answer from @server after @rtt_ns: recorded for the region whose node it is (matched by
 * the node's numeric IPv4/IPv6/HostName and STUNPort); false if no region has that node. */
struct mg_endpoint;
bool derp_note_stun(struct derp *d, const struct mg_endpoint *server, uint64_t rtt_ns, uint64_t now);
int derp_home(const struct derp *d);                     /* 0 = no map */
bool derp_region_known(const struct derp *d, int region);
bool derp_region_up(const struct derp *d, int region);   /* handshake done */
/*
 * SendPacket @pkt to node key @dst on @region: queued (TLS writes happen when the socket is
 * writable, so a burst becomes few records); a region not connected is dialled and the packet
 * waits (bounded) until the handshake is done. 0, -ENOENT (no such region), -ENOBUFS (queue full).
 */
int derp_send(struct derp *d, int region, const uint8_t dst[32], const void *pkt, size_t len, uint64_t now);
/* (-EDQUOT: dropped by the server's ServerInfo token bucket, counted as rate_limited.) */
/* Reconnects with backoff, deadlines, idle close: from the control tick. */
void derp_tick(struct derp *d, uint64_t now);

/* Per region of the map (connected or not); returns how many were written. */
size_t derp_get_status(const struct derp *d, struct derp_region_status *out, size_t max);

#endif
