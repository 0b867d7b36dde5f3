// SPDX-License-Identifier: GPL-2.0-only
/*
 * hswant.c - netmap -> wanted WireGuard peers -> one device update.
 * Routing rules mirror TS net/routemanager/routemanager.go peerViewOf and ipn/ipnlocal/expiry.go
 *: a peer's own single addresses always; other AllowedIPs only with accept-routes;
 * default routes only from the chosen exit node. The diff mirrors wireguard-tools setconf.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "devconf_edit.h"
#include "hswant.h"

static bool prefix_eq(const struct mg_ipprefix *a, const struct mg_ipprefix *b)
{
	size_t n = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->cidr == b->cidr && !memcmp(a->addr, b->addr, n);
}

static bool has_prefix(const struct mg_ipprefix *arr, size_t n, const struct mg_ipprefix *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (prefix_eq(&arr[i], p))
			return true;
	return false;
}

static bool is_default_route(const struct mg_ipprefix *p)
{
	return p->cidr == 0;
}

static bool is_host(const struct mg_ipprefix *p)
{
	return p->cidr == (p->family == AF_INET ? 32 : 128);
}

static int add_allowed(struct hs_want_peer *wp, const struct mg_ipprefix *p)
{
	if (has_prefix(wp->allowed, wp->n_allowed, p))
		return 0;
	if (devconf_grow((void **)&wp->allowed, wp->n_allowed, sizeof(*wp->allowed)))
		return -ENOMEM;
	wp->allowed[wp->n_allowed++] = *p;
	return 0;
}

static bool routable(const struct hs_node *n, int64_t server_now)
{
	if (n->expired || (n->key_expiry && n->key_expiry <= server_now))
		return false;
	return !sodium_is_zero(n->disco, 32) || n->home_derp;
}

static int build_peer(struct hs_want_peer *wp, const struct hs_node *n, const struct hs_route_opts *o)
{
	const struct mg_ipprefix *allowed = n->allowed_absent ? n->addresses : n->allowed;
	size_t na = n->allowed_absent ? n->n_addresses : n->n_allowed, i;
	bool exit_ok = o->has_exit_node && !memcmp(o->exit_node, n->key, 32);

	memset(wp, 0, sizeof(*wp));
	memcpy(wp->key, n->key, 32);
	memcpy(wp->disco, n->disco, 32);
	wp->home_derp = n->home_derp;
	memcpy(wp->name, n->name, sizeof(wp->name));
	for (i = 0; i < n->n_addresses; i++)
		if (is_host(&n->addresses[i]) && add_allowed(wp, &n->addresses[i]))
			return -ENOMEM;
	wp->n_own = wp->n_allowed;
	for (i = 0; i < na; i++) {
		const struct mg_ipprefix *p = &allowed[i];

		if (has_prefix(n->addresses, n->n_addresses, p) && is_host(p))
			continue;
		if (is_default_route(p) ? !exit_ok : !o->accept_routes)
			continue;
		if (add_allowed(wp, p))
			return -ENOMEM;
	}
	if (n->n_endpoints) {
		wp->has_endpoint = true;
		wp->endpoint = n->endpoints[0];
	}
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return memcmp(((const struct hs_want_peer *)a)->key, ((const struct hs_want_peer *)b)->key, 32);
}

int hs_want_build(struct hs_want *w, const struct hs_netmap *nm, const struct hs_route_opts *o, int64_t now)
{
	size_t i, j;

	memset(w, 0, sizeof(*w));
	if (nm->has_self)
		memcpy(w->self_name, nm->self.name, sizeof(w->self_name));
	for (i = 0; nm->has_self && i < nm->self.n_addresses && w->n_self < HS_WANT_SELF_MAX; i++)
		w->self[w->n_self++] = nm->self.addresses[i];
	if (!nm->n_peers)
		return 0;
	w->peers = calloc(nm->n_peers, sizeof(*w->peers));
	if (!w->peers)
		return -ENOMEM;
	for (i = 0; i < nm->n_peers; i++) {
		const struct hs_node *n = &nm->peers[i];

		if (!routable(n, now + nm->clock_delta) || sodium_is_zero(n->key, 32) ||
		    (nm->has_self && !memcmp(n->key, nm->self.key, 32)))
			continue;
		if (build_peer(&w->peers[w->n++], n, o)) {
			hs_want_free(w);
			return -ENOMEM;
		}
	}
	qsort(w->peers, w->n, sizeof(*w->peers), cmp_key);
	/* Two node IDs with one key cannot both be peers: keep the first. */
	for (i = 1, j = 1; w->n && i < w->n; i++) {
		if (!cmp_key(&w->peers[i], &w->peers[j - 1])) {
			free(w->peers[i].allowed);
			continue;
		}
		w->peers[j++] = w->peers[i];
	}
	if (w->n)
		w->n = j;
	return 0;
}

void hs_want_free(struct hs_want *w)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		free(w->peers[i].allowed);
	free(w->peers);
	memset(w, 0, sizeof(*w));
}

void hs_want_drop(struct hs_want *w, const uint8_t key[32])
{
	size_t i;

	for (i = 0; i < w->n; i++) {
		if (memcmp(w->peers[i].key, key, 32))
			continue;
		free(w->peers[i].allowed);
		memmove(&w->peers[i], &w->peers[i + 1], (w->n - i - 1) * sizeof(*w->peers));
		w->n--;
		return;
	}
}

static bool endpoint_eq(const struct hs_want_peer *a, const struct hs_want_peer *b)
{
	if (a->has_endpoint != b->has_endpoint)
		return false;
	return !a->has_endpoint || (a->endpoint.family == b->endpoint.family && a->endpoint.port == b->endpoint.port &&
				    !memcmp(a->endpoint.addr, b->endpoint.addr, 16));
}

static bool peer_eq(const struct hs_want_peer *a, const struct hs_want_peer *b)
{
	size_t i;

	if (a->n_allowed != b->n_allowed || !endpoint_eq(a, b))
		return false;
	for (i = 0; i < a->n_allowed; i++)
		if (!prefix_eq(&a->allowed[i], &b->allowed[i]))
			return false;
	return true;
}

static int emit_upsert(struct mg_device_update *u, const struct hs_want_peer *wp)
{
	struct mg_peer_conf *pc = devconf_peer_append(u, wp->key);
	size_t i;

	if (!pc)
		return -ENOMEM;
	pc->replace_allowed_ips = true;
	pc->has_endpoint = wp->has_endpoint;
	if (wp->has_endpoint)
		pc->endpoint = wp->endpoint;
	for (i = 0; i < wp->n_allowed; i++)
		if (devconf_allowed_ip_append(pc, &wp->allowed[i], false))
			return -ENOMEM;
	return 0;
}

static int emit_remove(struct mg_device_update *u, const uint8_t key[32])
{
	struct mg_peer_conf *pc = devconf_peer_append(u, key);

	if (!pc)
		return -ENOMEM;
	pc->remove = true;
	return 0;
}

int hs_want_diff(const struct hs_want *prev, const struct hs_want *next, struct mg_device_update *u)
{
	size_t i = 0, j = 0;
	int ret = 0;

	memset(u, 0, sizeof(*u));
	u->listen_port = -1;
	u->fwmark = -1;
	while (!ret && (i < prev->n || j < next->n)) {
		int c = i == prev->n ? 1 : j == next->n ? -1 : cmp_key(&prev->peers[i], &next->peers[j]);

		if (c < 0) {
			ret = emit_remove(u, prev->peers[i++].key);
		} else if (c > 0) {
			ret = emit_upsert(u, &next->peers[j++]);
		} else {
			if (!peer_eq(&prev->peers[i], &next->peers[j]))
				ret = emit_upsert(u, &next->peers[j]);
			i++;
			j++;
		}
	}
	if (ret)
		devconf_update_free(u);
	return ret;
}

int hs_want_copy(struct hs_want *dst, const struct hs_want *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->n_self = src->n_self;
	memcpy(dst->self, src->self, sizeof(dst->self));
	memcpy(dst->self_name, src->self_name, sizeof(dst->self_name));
	if (!src->n)
		return 0;
	dst->peers = calloc(src->n, sizeof(*dst->peers));
	if (!dst->peers)
		return -ENOMEM;
	for (i = 0; i < src->n; i++, dst->n++) {
		dst->peers[i] = src->peers[i];
		dst->peers[i].allowed = NULL;
		if (src->peers[i].n_allowed &&
		    !(dst->peers[i].allowed = malloc(src->peers[i].n_allowed * sizeof(struct mg_ipprefix)))) {
			hs_want_free(dst);
			return -ENOMEM;
		}
		if (src->peers[i].n_allowed)
			memcpy(dst->peers[i].allowed, src->peers[i].allowed,
			       src->peers[i].n_allowed * sizeof(struct mg_ipprefix));
	}
	return 0;
}

const struct hs_want_peer *hs_want_find(const struct hs_want *w, const uint8_t key[32])
{
	struct hs_want_peer k;

	memcpy(k.key, key, 32);
	return w->n ? bsearch(&k, w->peers, w->n, sizeof(k), cmp_key) : NULL;
}
