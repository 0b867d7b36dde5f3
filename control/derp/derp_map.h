/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_map.h - the netmap's DERPMap "Regions" object -> struct derp_region, for the
 * DERP client. Region keys are decimal strings; each region's Nodes are in priority order.
 */
#ifndef MG_DERP_MAP_H
#define MG_DERP_MAP_H

#include <stddef.h>
#include <jansson.h>
#include "derp_types.h"

/*
 * Fills @out (at most @max) in ascending region id, skipping regions without a valid RegionID
 * (1 .. 2^53-1) or without nodes. Defaults applied: DERPPort 0 -> 443, STUNPort 0 -> 3478.
 * A map with more usable regions than @max keeps the ones named in @keep (in that order of
 * importance: our home, then the regions peers are homed in), then the lowest ids, whatever the
 * order of the JSON object; *@dropped (may be NULL) counts the usable regions left out.
 * Returns the number of regions written.
 */
size_t derp_map_parse_keep(const json_t *regions, struct derp_region *out, size_t max, const int *keep,
			   size_t n_keep, size_t *dropped);
/* derp_map_parse_keep with nothing to keep and the count not wanted. */
size_t derp_map_parse(const json_t *regions, struct derp_region *out, size_t max);

/* True if @ep (a STUN server we asked) is @n's STUN address: port STUNPort (not -1) and the
 * address one of IPv4, IPv6 or a numeric HostName. Names resolved by DNS do not match. */
struct mg_endpoint;
bool derp_node_is_stun_server(const struct derp_node *n, const struct mg_endpoint *ep);

#endif
