/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hswant.h - the netmap as the WireGuard peer table it asks for (rules 6-7), and the
 * sort-merge diff by public key between what was applied last and what is wanted now, as one
 * struct mg_device_update (the same shape the UAPI and SIGHUP produce).
 */
#ifndef MG_HSWANT_H
#define MG_HSWANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devconf.h"
#include "hsnetmap.h"
#include "nodename.h"

struct hs_route_opts {
	bool accept_routes;              /* subnets beyond a peer's own addresses */
	bool has_exit_node;              /* 0.0.0.0/0 and ::/0 only from this peer */
	uint8_t exit_node[32];
};

struct hs_want_peer {
	uint8_t key[32];
	size_t n_allowed;
	struct mg_ipprefix *allowed;     /* own addresses first, then accepted routes; no duplicates */
	bool has_endpoint;
	struct mg_endpoint endpoint;     /* the first endpoint the server lists */
	/* Not WireGuard state (not part of the diff), kept so that a restart while the control server
	 * is down still answers the peer's disco pings and knows its DERP home. */
	uint8_t disco[32];               /* all zero = none */
	int home_derp;                   /* 0 = none */
	/* Not WireGuard state either: what `meshgate status` names the peer by, read over UAPI. */
	size_t n_own;                    /* allowed[0..n_own) are the node's own (tailnet) addresses */
	char name[NODENAME_MAX + 1];     /* Node.Name, "" = none */
};

#define HS_WANT_SELF_MAX 8

struct hs_want {
	size_t n;
	struct hs_want_peer *peers;      /* sorted by key, keys unique */
	/* Our own tailnet addresses (self Node.Addresses): saved with the table so a restart during
	 * an outage assigns them to the TUN before Headscale answers. Not part of the diff. */
	size_t n_self;
	struct mg_ipprefix self[HS_WANT_SELF_MAX];
	char self_name[NODENAME_MAX + 1];   /* our Node.Name, "" = none; not part of the diff */
};

/*
 * Builds the wanted peers at local UNIX time @now. Skipped: expired nodes (Expired, or KeyExpiry
 * passed by the control server's clock), nodes with neither disco key nor home DERP, a node
 * with our own key. 0 or -ENOMEM.
 */
int hs_want_build(struct hs_want *w, const struct hs_netmap *nm, const struct hs_route_opts *o, int64_t now);
void hs_want_free(struct hs_want *w);
/* Drops one key (a statically configured peer wins over Headscale's). */
void hs_want_drop(struct hs_want *w, const uint8_t key[32]);
/*
 * @u gets: every peer of @next that is new or differs from @prev (replace_allowed_ips, endpoint
 * if known, keepalive unchanged), then remove = true for each key of @prev missing from @next;
 * unchanged peers are left out so their sessions and roaming endpoints stay. replace_peers is
 * false. 0 or -ENOMEM (@u freed).
 */
int hs_want_diff(const struct hs_want *prev, const struct hs_want *next, struct mg_device_update *u);
/* Deep copy (to remember what was applied). 0 or -ENOMEM. */
int hs_want_copy(struct hs_want *dst, const struct hs_want *src);
/* The peer with this key (binary search: peers are sorted by key), or NULL. */
const struct hs_want_peer *hs_want_find(const struct hs_want *w, const uint8_t key[32]);

#endif
