/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derpmap.h - the netmap's DERPMap "Regions" object -> struct derp_region, for the DERP client
 * (room derp) and `meshgate netcheck` (room cli). Region keys are decimal strings; each region's
 * Nodes are in priority order. The daemon keeps the latest map in StateDir (DERPMAP_FILE), which is
 * where netcheck finds it.
 */
#ifndef MG_DERPMAP_H
#define MG_DERPMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define DERP_REGIONS_MAX      32
#define DERP_NODES_MAX        4
#define DERP_HOST_MAX         256
#define DERPMAP_FILE          "derpmap.json"

/* One DERPNode / DERPRegion, as far as a client uses them. */
struct derp_node {
	char name[64];
	char host[DERP_HOST_MAX];        /* HostName: TLS SNI and name check; dialled when no IP */
	char ipv4[64], ipv6[64];         /* forced addresses; "" = none given, "none" = disabled */
	char cert_name[DERP_HOST_MAX];   /* CertName: expected name, or "sha256-raw:<hex>" pin */
	uint16_t derp_port;              /* 0 in JSON -> 443 */
	int stun_port;                   /* 0 in JSON -> 3478, -1 = none */
	bool stun_only;
	bool insecure;                   /* InsecureForTests: no certificate check at all */
};

struct derp_region {
	int id;
	char code[32];
	char name[64];                   /* RegionName, for people */
	bool no_home;                    /* NoMeasureNoHome */
	size_t n_nodes;
	struct derp_node nodes[DERP_NODES_MAX];
};

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

/*
 * The map on disk: {"Regions":{...}} (tailcfg.DERPMap's JSON, so `tailscale debug derp-map`
 * output or a Headscale derp.urls document can be read too). Save writes @dir/DERPMAP_FILE
 * atomically (temporary file, fsync, rename), mode 0644: it holds no secret. 0 or -errno.
 * Load reads a file of that shape, or a bare Regions object; it returns the Regions object (a
 * new reference) or NULL with a reason in @err.
 */
int derp_map_save(const json_t *regions, const char *dir);
json_t *derp_map_load(const char *path, char *err, size_t errlen);

#endif
