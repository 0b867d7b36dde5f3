/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsreq.h - the JSON bodies of the control protocol: the /key answer,
 * RegisterRequest/RegisterResponse (§2), MapRequest with Hostinfo (§3.1-3.2).
 * The capability version lives here, in one place.
 */
#ifndef MG_HSREQ_H
#define MG_HSREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devconf.h"
#include "hsendpoint.h"

/*
 * The capability version: the Noise protocol version, the prologue suffix, /key?v=,
 * RegisterRequest.Version and MapRequest.Version; Headscale also hands it to every peer as our
 * Node.Cap. It is a promise: each step of tailcfg.CapabilityVersion's history (TS:tailcfg/
 * tailcfg.go) says what a client of that version understands or does. So it is the highest
 * version whose promises meshgate keeps, not the newest:
 *   113 (tailscale 1.80) Hostinfo.IngressEnabled says whether funnel is on: we never send it,
 *       and we have no funnel, so "off" is true. Headscale 0.29's minimum (capver.
 *       MinSupportedCapabilityVersion = 113; 0.27's is 90): nothing lower can join it.
 *   114 no client change (NodeAttrMaxKeyDuration defined).
 *   115 (1.82) DERPRegion.NoMeasureNoHome understood: such regions are neither probed nor home.
 * Not kept, so not claimed:
 *   116 serves MagicDNS AAAA records (meshgate has no MagicDNS resolver),
 *   117 understands DisplayMessages (we show no health messages),
 *   120, 121 peer relay: understands disco messages 4-9 and is a relay client and server.
 *       Peers decide this from our Node.Cap (TS:wgengine/magicsock capVerIsRelayCapable, >= 121)
 *       and would send relay allocations that meshgate ignores.
 * Also relied on from earlier steps: 111/112 (HomeDERP; AllowedIPs null = Addresses),
 * PeersChangedPatch and incremental PacketFilters.
 */
#define HS_CAPVER 115
/* The Tailscale release that introduced HS_CAPVER, for Hostinfo.IPNVersion. */
#define HS_IPN_VERSION "1.82.0"

struct hs_hostinfo {
	char hostname[64];
	const struct mg_ipprefix *routes;      /* AdvertiseRoutes (borrowed) */
	size_t n_routes;
	bool exit_node;                        /* adds 0.0.0.0/0 and ::/0 */
	int preferred_derp;                    /* 0 = unknown: NetInfo left out */
};

struct hs_register_result {
	bool machine_authorized, node_key_expired;
	char error[256];                       /* Headscale refusals come as 200 + Error */
	char auth_url[256];
	char user[128];
};

/* Server Noise key from the /key JSON; -EINVAL with @err for junk or a zero publicKey. */
int hs_req_parse_key(const char *body, size_t len, uint8_t key[32], char *err, size_t errlen);
/* RegisterRequest; malloc'd NUL-terminated JSON or NULL. @old_node_pub may be NULL; Auth is
 * left out when @auth_key is NULL or "". */
char *hs_req_register(const uint8_t node_pub[32], const uint8_t *old_node_pub, const char *auth_key,
		      const struct hs_hostinfo *hi);
int hs_req_parse_register(const char *body, size_t len, struct hs_register_result *r);
/*
 * MapRequest: @stream = long poll; otherwise a lite update (Stream=false, OmitPeers=true) that
 * Headscale answers with an empty 200. @eps may be NULL or empty (no endpoints known: the
 * Endpoints and EndpointTypes fields are left out, so the server keeps its set). @zstd asks for
 * Compress="zstd". malloc'd or NULL.
 */
char *hs_req_map(const uint8_t node_pub[32], const uint8_t disco_pub[32], bool stream, const struct hs_hostinfo *hi,
		 const struct hs_endpoints *eps, bool zstd);

#endif
