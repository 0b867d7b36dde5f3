/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * apply.h - desired state into the running device (apply.c): peer-table updates from UAPI, the
 * config and Headscale, the packet filter, our tailnet addresses and the installed routes.
 * Control thread only.
 */
#ifndef MG_APPLY_H
#define MG_APPLY_H

#include <stddef.h>
#include <stdint.h>
#include "ctldev.h"
#include "devconf.h"

int dev_apply(struct mg_ctl *dev, const struct mg_device_update *u, uint64_t now);
struct peer *dev_peer_find(struct mg_ctl *dev, const uint8_t key[32]);
void dev_remove_all_peers(struct mg_ctl *dev);
int dev_routes_sync(struct mg_ctl *dev);
/* Publish a new packet filter (NULL = none); the old one is freed after a grace period. */
void dev_set_filter(struct mg_ctl *dev, struct filter *f);
/* Make these the router's tailnet addresses: on the TUN device (added/removed as a diff) and for
 * the workers' local-delivery test. 0 or -errno (the first TUN error; the set is published anyway). */
int dev_set_addresses(struct mg_ctl *dev, const struct mg_ipprefix *a, size_t n);
/* FilterFile: a tailnet ACL in Headscale's PacketFilter JSON. dev == NULL only validates.
 * 0, or -EINVAL with the reason in err ("path: line N: ..."); the running filter stays on error. */
int dev_load_filter_file(struct mg_ctl *dev, const char *path, char *err, size_t errlen);
struct mg_config;
/* The filter a router starts with, before its first peer (the rule is at its definition).
 * 0, or -errno with the cause on stderr. */
int dev_filter_init(struct mg_ctl *dev, const struct mg_config *cfg);

#endif
