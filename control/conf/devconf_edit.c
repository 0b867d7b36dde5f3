// SPDX-License-Identifier: GPL-2.0-only
/* devconf_edit.c - the builders of devconf_edit.h: a struct mg_device_update grown piece by piece. */
#include <errno.h>
#include <string.h>

#include "devconf_edit.h"
#include "vec.h"

int devconf_grow(void **arr, size_t n, size_t size)
{
	size_t cap = 0;

	/* The capacity mg_vec_grow gave an array grown only by it: 0, then 16, doubling after. */
	if (n)
		for (cap = 16; cap < n; cap *= 2)
			;
	return mg_vec_grow(arr, &cap, n, size);
}

struct mg_peer_conf *devconf_peer_append(struct mg_device_update *u, const uint8_t public_key[WG_KEY_LEN])
{
	struct mg_peer_conf *p;

	if (devconf_grow((void **)&u->peers, u->n_peers, sizeof(*u->peers)))
		return NULL;
	p = &u->peers[u->n_peers++];
	memset(p, 0, sizeof(*p));
	memcpy(p->public_key, public_key, WG_KEY_LEN);
	p->persistent_keepalive = -1;
	return p;
}

int devconf_allowed_ip_append(struct mg_peer_conf *p, const struct mg_ipprefix *ip, bool remove)
{
	if (devconf_grow((void **)&p->allowed_ips, p->n_allowed_ips, sizeof(*p->allowed_ips)))
		return -ENOMEM;
	p->allowed_ips[p->n_allowed_ips++] = (struct mg_allowed_ip){ .p = *ip, .remove = remove };
	return 0;
}
