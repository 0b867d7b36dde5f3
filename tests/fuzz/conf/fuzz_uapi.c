// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_uapi.c - libFuzzer harness for the UAPI set parser, and for the get formatter on a view
 * built from whatever the parser accepted: the reply must end in "errno=0\n\n", hold no value
 * with '=' in it (wgctrl-go's rule) and no blank line before the end (wg's framing).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "uapi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_reply(const char *out, size_t len)
{
	const char *line, *nl, *eq;

	if (len < 9 || strcmp(out + len - 9, "errno=0\n\n") || strlen(out) != len)
		abort();
	for (line = out; line < out + len - 1; line = nl + 1) {
		nl = strchr(line, '\n');
		eq = memchr(line, '=', (size_t)(nl - line));
		if (nl == line || !eq || memchr(eq + 1, '=', (size_t)(nl - eq - 1)))
			abort();
	}
}

/* The view lists prefixes only: an update's "-prefix" removals show as the prefix itself. */
static struct mg_ipprefix *prefixes_of(const struct mg_peer_conf *p)
{
	struct mg_ipprefix *v = calloc(p->n_allowed_ips ? p->n_allowed_ips : 1, sizeof(*v));

	for (size_t i = 0; v && i < p->n_allowed_ips; i++)
		v[i] = p->allowed_ips[i].p;
	return v;
}

static void format_from(const struct mg_device_update *u)
{
	struct uapi_device_view v = { 0 };
	size_t i, len;
	char *out;

	v.has_private_key = u->has_private_key;
	memcpy(v.private_key, u->private_key, 32);
	v.listen_port = u->listen_port > 0 ? (uint16_t)u->listen_port : 0;
	v.fwmark = u->fwmark > 0 ? (uint32_t)u->fwmark : 0;
	v.n_peers = u->n_peers;
	v.peers = calloc(u->n_peers ? u->n_peers : 1, sizeof(*v.peers));
	if (!v.peers)
		return;
	for (i = 0; i < u->n_peers; i++) {
		memcpy(v.peers[i].public_key, u->peers[i].public_key, 32);
		memcpy(v.peers[i].preshared_key, u->peers[i].preshared_key, 32);
		v.peers[i].endpoint = u->peers[i].endpoint;
		v.peers[i].persistent_keepalive = (uint16_t)u->peers[i].persistent_keepalive;
		v.peers[i].allowed_ips = prefixes_of(&u->peers[i]);
		if (v.peers[i].allowed_ips)
			v.peers[i].n_allowed_ips = u->peers[i].n_allowed_ips;
	}
	if (uapi_format_get(&v, &out, &len) == 0) {
		check_reply(out, len);
		free(out);
	}
	for (i = 0; i < u->n_peers; i++)
		free(v.peers[i].allowed_ips);
	free(v.peers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mg_device_update u;
	int r;

	r = uapi_parse_set((const char *)data, size, &u);
	if (r == 0) {
		format_from(&u);
		devconf_update_free(&u);
	} else if (r != -EINVAL && r != -EPROTO && r != -ENOMEM) {
		abort();
	}
	return 0;
}
