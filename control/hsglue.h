/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsglue.h - the Headscale client plugged into the running device: the netmap becomes the
 * desired peer table, applied with dev_apply by a sort-merge diff against the peers Headscale
 * itself added (static [Peer] sections are never touched). Control thread only.
 */
#ifndef MG_HSGLUE_H
#define MG_HSGLUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devconf.h"
#include "headscale/hsendpoint.h"
#include "headscale/hswant.h"
#include "derp/derp.h"
#include "derp_relay.h"
#include "disco/disco.h"

struct punt_msg;

struct hsglue;
struct mg_ctl;
struct mg_config;

#define HSGLUE_SELF_MAX 8
#define HSGLUE_DERP_MAX DERP_REGIONS_MAX

struct hsglue_status {
	bool connected;
	uint64_t last_map_update_ns;      /* UNIX ns; 0 = never */
	uint64_t map_updates, errors;
	char last_error[256];
	/* Our tailnet addresses from the last map (Node.Addresses), assigned to the TUN device. */
	size_t n_self_addresses;
	struct mg_ipprefix self_addresses[HSGLUE_SELF_MAX];
	size_t n_peers;                   /* peers Headscale currently owns in the device */
	size_t n_approved_routes;         /* our routes the server approved (self PrimaryRoutes) */
	size_t filter_rules;              /* rules of the packet filter in force */
	uint64_t lite_maps;               /* lite MapRequests the server accepted */
	uint64_t last_lite_map_ns;        /* UNIX ns of the last one; 0 = never */
	struct hs_endpoints endpoints;    /* what we publish (Endpoints/EndpointTypes) */
	int preferred_derp;               /* NetInfo.PreferredDERP we publish; 0 = none */
	uint64_t key_rotations;
	uint64_t bad_names;               /* nodes whose Name was malformed (netmap n_bad_names) */
	size_t n_derp;                    /* the DERP map's regions, connected or not */
	struct derp_region_status derp[HSGLUE_DERP_MAX];
	struct disco_stats disco;         /* disco messages (zero without a login server) */
	struct derp_relay_stats relay;    /* path choice and relayed traffic */
};

/* Starts registration + map stream if cfg->login_server is set (returns 0 and *out = NULL if not). */
int hsglue_init(struct hsglue **out, struct mg_ctl *dev, const struct mg_config *cfg, int epfd);
void hsglue_uninit(struct hsglue *g);
void hsglue_get_status(const struct hsglue *g, struct hsglue_status *out);
/*
 * True if Headscale put this peer into the device. SIGHUP (config_sync_update) must leave such
 * peers out of its running_keys, or the re-read would remove every Headscale peer.
 */
/* Disco and STUN messages the workers punted from the shared WireGuard port. */
void hsglue_punt(struct hsglue *g, const struct punt_msg *m, uint64_t now);
/* Disco heartbeats and re-probes, STUN refreshes: from the control tick. */
void hsglue_tick(struct hsglue *g, uint64_t now);
bool hsglue_owns(const struct hsglue *g, const uint8_t key[32]);
/*
 * For the UAPI get reply: the entry of a peer Headscale put into the device (its Node.Name and
 * own addresses; NULL if Headscale does not own the key), and our own Node.Name ("" = none).
 * Both come from the last applied netmap, or the saved one until Headscale answers. The
 * pointers stay valid until the control thread applies the next netmap.
 */
const struct hs_want_peer *hsglue_peer_info(const struct hsglue *g, const uint8_t key[32]);
const char *hsglue_self_name(const struct hsglue *g);
/*
 * The DERP client's home region (NetInfo.PreferredDERP); 0 = none chosen, then the
 * DERP map's lowest home-capable region is published. A change goes out in a lite map request.
 */
void hsglue_set_home_derp(struct hsglue *g, int region);
/*
 * SIGHUP: @cfg's AdvertiseRoutes / AdvertiseExitNode and the system host name become our Hostinfo
 * (copied). A change goes out in a lite map request once it has been stable for the endpoint
 * settle time (1 s). True if it differs from what is published or pending.
 */
bool hsglue_set_hostinfo(struct hsglue *g, const struct mg_config *cfg);
/*
 * SIGHUP with a new AcceptRoutes (`tailscale set --accept-routes`): the peer table is rebuilt
 * from the last netmap at once, adding or dropping peers' subnet routes. True if it changed.
 */
bool hsglue_set_accept_routes(struct hsglue *g, bool accept);
/* Loads or creates StateDir/node.key (0600): the device's private key when LoginServer is set. */
int hsglue_node_private_key(const struct mg_config *cfg, uint8_t out[32]);

#endif
