// SPDX-License-Identifier: GPL-2.0-only
/*
 * config_sync.c - SIGHUP as `wg syncconf`: diff the file's peers against the running ones by
 * public key (sort both, merge) and express the difference as one mg_device_update.
 * (STYLE.md "Sync is a sort-merge diff"; wireguard-tools setconf.c does the same for syncconf.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config_sync.h"
#include "devconf_edit.h"

/* Public keys are public data: memcmp ordering is fine. */
static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static int cmp_peer_ptr(const void *a, const void *b)
{
	const struct mg_peer_conf *const *x = a, *const *y = b;

	return memcmp((*x)->public_key, (*y)->public_key, 32);
}

/* A file peer, made explicit: absent PSK and keepalive mean "zero", not "unchanged". */
static int emit_file_peer(struct mg_device_update *out, const struct mg_peer_conf *src)
{
	struct mg_peer_conf *p = devconf_peer_append(out, src->public_key);
	size_t i;

	if (!p)
		return -ENOMEM;
	p->has_preshared_key = true;
	if (src->has_preshared_key)
		memcpy(p->preshared_key, src->preshared_key, 32);
	p->has_endpoint = src->has_endpoint;
	p->endpoint = src->endpoint;
	p->persistent_keepalive = src->persistent_keepalive > 0 ? src->persistent_keepalive : 0;
	p->replace_allowed_ips = true;
	for (i = 0; i < src->n_allowed_ips; i++)
		if (devconf_allowed_ip_append(p, &src->allowed_ips[i].p, src->allowed_ips[i].remove))
			return -ENOMEM;
	return 0;
}

static int merge(struct mg_device_update *out, const struct mg_peer_conf **want, size_t nw,
		 const uint8_t (*run)[32], size_t nr)
{
	size_t i = 0, j = 0;
	int c;

	while (i < nw || j < nr) {
		if (i == nw)
			c = 1;
		else if (j == nr)
			c = -1;
		else
			c = memcmp(want[i]->public_key, run[j], 32);
		if (c > 0) {    /* running only: remove */
			struct mg_peer_conf *p = devconf_peer_append(out, run[j++]);

			if (!p)
				return -ENOMEM;
			p->remove = true;
			continue;
		}
		if (emit_file_peer(out, want[i++]))
			return -ENOMEM;
		if (c == 0)
			j++;
	}
	return 0;
}

int config_sync_update(const struct mg_config *cfg, const uint8_t (*running_keys)[32], size_t n_running,
		       struct mg_device_update *out)
{
	const struct mg_peer_conf **want;
	uint8_t (*run)[32];
	size_t i, nw = cfg->wg.n_peers;
	int ret = -ENOMEM;

	memset(out, 0, sizeof(*out));
	out->has_private_key = cfg->wg.has_private_key;
	memcpy(out->private_key, cfg->wg.private_key, 32);
	out->listen_port = cfg->wg.listen_port;
	out->fwmark = cfg->wg.fwmark;
	want = malloc((nw ? nw : 1) * sizeof(*want));
	run = malloc((n_running ? n_running : 1) * sizeof(*run));
	if (!want || !run)
		goto out;
	for (i = 0; i < nw; i++)
		want[i] = &cfg->wg.peers[i];
	if (n_running)
		memcpy(run, running_keys, n_running * sizeof(*run));
	qsort(want, nw, sizeof(*want), cmp_peer_ptr);
	qsort(run, n_running, sizeof(*run), cmp_key);
	/* Duplicate running keys would be a caller bug; drop them so each is removed once. */
	for (i = 1; n_running && i < n_running; i++) {
		if (!memcmp(run[i], run[i - 1], 32)) {
			memmove(&run[i], &run[i + 1], (n_running - i - 1) * sizeof(*run));
			n_running--;
			i--;
		}
	}
	ret = merge(out, want, nw, (const uint8_t (*)[32])run, n_running);
out:
	free(want);
	free(run);
	if (ret)
		devconf_update_free(out);
	return ret;
}
