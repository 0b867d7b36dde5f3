/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsnetmap.h - the network map as successive MapResponses build it: self node,
 * peers by node ID, DERP map and packet-filter chunks (kept as JSON for their consumers).
 */
#ifndef MG_HSNETMAP_H
#define MG_HSNETMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "hsnode.h"

struct hs_netmap {
	bool has_self;
	struct hs_node self;
	size_t n_peers;
	struct hs_node *peers;           /* sorted by id */
	json_t *derp_regions;            /* object: region id -> region; NULL = none yet */
	json_t *filters;                 /* object: chunk name -> rules array */
	int64_t clock_delta;             /* ControlTime - local time at receipt, seconds */
	uint64_t n_maps;                 /* non-keep-alive messages applied */
	uint64_t n_bad_names;            /* nodes received with a malformed Name (kept, unnamed) */
};

/* What one message asked of the client besides updating the map. */
struct hs_map_events {
	bool keepalive;                  /* {"KeepAlive":true} only */
	bool peers_changed, self_changed, filter_changed, derp_changed;
	bool ping;                       /* PingRequest with empty Types: HEAD ping_url */
	bool ping_is_noise;
	char ping_url[512];
	unsigned bad_names;              /* nodes in this message whose Name was malformed */
};

void hs_netmap_init(struct hs_netmap *nm);
void hs_netmap_free(struct hs_netmap *nm);
/*
 * Applies one MapResponse (JSON text, @len bytes) at local UNIX time @now. On error (-EINVAL,
 * -ENOMEM) @err says what, and the map may hold part of the message: the caller reconnects and
 * gets a full map. The first map of a stream must carry Node (-EPROTO otherwise).
 */
int hs_netmap_apply(struct hs_netmap *nm, const char *json, size_t len, int64_t now,
		    struct hs_map_events *ev, char *err, size_t errlen);
const struct hs_node *hs_netmap_peer(const struct hs_netmap *nm, int64_t id);
/* The effective packet filter: all chunks' rules concatenated in key order (new reference). */
json_t *hs_netmap_filter(const struct hs_netmap *nm);

#endif
