/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_relay.h - DERP in the running device: WireGuard to peers behind 127.3.3.40:<region>
 * (punted by the workers as PUNT_DERP_TX) goes out as SendPacket; RecvPacket payloads go to
 * disco (magic) or back to a worker as TXREQ_RELAYED (WireGuard), so the batch AEAD, replay
 * window and roaming apply unchanged. It also chooses each disco peer's path: its home DERP
 * region while no direct path is trusted, the direct endpoint while a pong keeps it trusted.
 * Control thread only.
 */
#ifndef MG_DERP_RELAY_H
#define MG_DERP_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "derp/derp.h"

struct mg_ctl;
struct disco;
struct punt_msg;
struct derp_relay;

int derp_relay_init(struct derp_relay **out, struct mg_ctl *dev, struct disco *disco, int epfd,
		    const char *ca_file);
void derp_relay_uninit(struct derp_relay *r);
/* The netmap's DERPMap.Regions changed (kept by reference, to choose again when a peer is homed
 * in a region left out: see derp_map_parse_keep, derpmap.h). */
void derp_relay_set_map(struct derp_relay *r, const json_t *regions, uint64_t now);
/* A netmap peer: its home region (0 = none) and whether it speaks disco (the relay only steers
 * the endpoints of disco peers; others keep the netmap's endpoint and roaming). */
int derp_relay_peer_set(struct derp_relay *r, const uint8_t node_key[32], int home_region, bool disco);
void derp_relay_peer_remove(struct derp_relay *r, const uint8_t node_key[32]);
void derp_relay_punt(struct derp_relay *r, const struct punt_msg *m, uint64_t now);  /* PUNT_DERP_TX */
void derp_relay_tick(struct derp_relay *r, uint64_t now);
int derp_relay_home(const struct derp_relay *r);       /* our home region, 0 = none */
/* A STUN round trip to one of the DERP map's STUN servers (derp_note_stun): feeds the home choice. */
struct mg_endpoint;
bool derp_relay_note_stun(struct derp_relay *r, const struct mg_endpoint *server, uint64_t rtt_ns, uint64_t now);

struct derp_relay_stats {
	uint64_t tx, tx_no_peer, tx_fail, tx_rate_limited, rx_wireguard, rx_disco, rx_ring_full, path_direct, path_relay;
	size_t peers_direct, peers_relay; /* disco peers on each path now (as last chosen) */
	size_t map_regions_dropped;      /* usable regions of the DERP map beyond DERP_REGIONS_MAX */
};
void derp_relay_get_stats(const struct derp_relay *r, struct derp_relay_stats *out);
size_t derp_relay_regions(const struct derp_relay *r, struct derp_region_status *out, size_t max);

#endif
