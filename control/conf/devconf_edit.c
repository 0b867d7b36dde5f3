// SPDX-License-Identifier: GPL-2.0-only
/* devconf_edit.c - the builders of devconf_edit.h: a struct mg_device_update grown piece by piece. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devconf_edit.h"

int devconf_grow(void **arr, size_t n, size_t size)
{
	size_t cap;
	void *p;

	/* Capacity is 4 for n <= 4, else the next power of two >= n: grow at 0 and at 4, 8, 16... */
	if (n != 0 && (n < 4 || (n & (n - 1))))
		return 0;
	cap = n ? n * 2 : 4;
	if (cap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, cap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
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
