// SPDX-License-Identifier: GPL-2.0-only
/* devconf.c - lifetime of struct mg_device_update (devconf.h); devconf_edit.c builds one. */
#include <stdlib.h>
#include <string.h>

#include "devconf.h"

void devconf_update_free(struct mg_device_update *u)
{
	size_t i;

	for (i = 0; i < u->n_peers; i++) {
		explicit_bzero(u->peers[i].preshared_key, WG_KEY_LEN);
		free(u->peers[i].allowed_ips);
	}
	free(u->peers);
	u->peers = NULL;
	u->n_peers = 0;
	explicit_bzero(u->private_key, WG_KEY_LEN);
	u->has_private_key = false;
}
