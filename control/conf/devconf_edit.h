/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * devconf_edit.h - building a struct mg_device_update piece by piece (parsers only).
 * Arrays grow as vec.h grows them (16, then doubling), so their capacity follows from their
 * length and the struct in devconf.h needs no capacity fields.
 */
#ifndef MG_CONF_DEVCONF_EDIT_H
#define MG_CONF_DEVCONF_EDIT_H

#include "devconf.h"

/* Appends a zeroed peer with persistent_keepalive = -1; NULL on allocation failure. */
struct mg_peer_conf *devconf_peer_append(struct mg_device_update *u, const uint8_t public_key[WG_KEY_LEN]);
/* Appends one prefix to p->allowed_ips, to add or (@remove) to remove; 0 or -ENOMEM. */
int devconf_allowed_ip_append(struct mg_peer_conf *p, const struct mg_ipprefix *ip, bool remove);
/* Grows a malloc'd array of @n elements of @size bytes so one more fits: 0 or -ENOMEM. */
int devconf_grow(void **arr, size_t n, size_t size);

#endif
