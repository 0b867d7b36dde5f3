/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsderpmap.h - what the control client takes from the netmap's DERPMap: the
 * STUN servers to probe from the WireGuard port, and a home region for NetInfo.PreferredDERP
 * until the DERP client measures one.
 */
#ifndef MG_HSDERPMAP_H
#define MG_HSDERPMAP_H

#include <stddef.h>
#include <jansson.h>
#include "devconf.h"
#include "hsresolve.h"

/* STUN nodes the map names only by HostName (both IPv4 and IPv6 empty): to be resolved. */
struct hs_stun_names {
	size_t n;
	char name[HS_RESOLVE_MAX][256];
	uint16_t port[HS_RESOLVE_MAX];
};

/*
 * STUN targets from @regions (the Regions object, region id -> Region), in ascending region
 * order: per region the first node whose STUNPort is not -1, its IPv4 then its IPv6 (an address
 * given in IPv4/IPv6; "none" disables that family; when both are empty, HostName: an address
 * literal goes to @out, a name to @names for hs_resolve_start - or, with @names NULL, the node
 * is passed over). STUNPort 0 means 3478. Regions with NoMeasureNoHome are not probed.
 * Returns how many were written to @out (at most @max).
 */
size_t hs_derpmap_stun_servers(const json_t *regions, struct mg_endpoint *out, size_t max,
			       struct hs_stun_names *names);
/* The lowest region id that may be home (has nodes, not NoMeasureNoHome); 0 = none. */
int hs_derpmap_first_region(const json_t *regions);

#endif
