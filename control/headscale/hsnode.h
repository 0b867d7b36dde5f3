/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsnode.h - the parts of a tailcfg.Node the router needs, parsed from JSON, and
 * a PeerChange patch applied to one. The one string kept is the node's Name (nodename.h), for
 * `meshgate status`; the rest are keys, prefixes, endpoints.
 */
#ifndef MG_HSNODE_H
#define MG_HSNODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "devconf.h"
#include "nodename.h"

#define HS_DERP_MAGIC_IP "127.3.3.40"       /* legacy "DERP":"127.3.3.40:<region>" */

struct hs_node {
	int64_t id;
	uint8_t key[32];                 /* WireGuard public key ("Key": nodekey:) */
	uint8_t disco[32];               /* zero = none */
	int64_t key_expiry;              /* UNIX seconds; 0 = never */
	bool expired;                    /* "Expired": true */
	int home_derp;                   /* HomeDERP, or the legacy DERP string's region */
	int8_t online;                   /* -1 unknown, 0, 1 */
	size_t n_addresses, n_allowed, n_endpoints, n_primary;
	struct mg_ipprefix *addresses;   /* "Addresses" */
	struct mg_ipprefix *allowed;     /* "AllowedIPs"; NULL/absent = same as Addresses (capver >= 112) */
	bool allowed_absent;
	struct mg_ipprefix *primary;     /* "PrimaryRoutes" */
	struct mg_endpoint *endpoints;   /* "Endpoints", in the server's order */
	/* "Name", the FQDN ("lap.tail.example."); "" = none. A Name that is not a string, too long,
	 * or holds characters nodename_valid refuses is dropped (name_malformed), not fatal: a node
	 * without a name still routes. */
	char name[NODENAME_MAX + 1];
	bool name_malformed;
};

/* Parses one Node object. 0 or -EINVAL (@err names the field); @n is freed on error. */
int hs_node_parse(struct hs_node *n, const json_t *obj, char *err, size_t errlen);
/* Applies a PeerChange: only the fields present change. 0 or -EINVAL. */
int hs_node_patch(struct hs_node *n, const json_t *patch, char *err, size_t errlen);
void hs_node_free(struct hs_node *n);
/* Deep copy; 0 or -ENOMEM. */
int hs_node_copy(struct hs_node *dst, const struct hs_node *src);

/* RFC 3339 time -> UNIX seconds; the Go zero time and "" give 0. -EINVAL if malformed. */
int hs_time_parse(const char *s, int64_t *out);

#endif
