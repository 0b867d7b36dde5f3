// SPDX-License-Identifier: GPL-2.0-only
/*
 * apply.c - one struct mg_device_update (UAPI set, config file, SIGHUP) applied to the running
 * device as one step on the control thread, with wireguard-go's semantics key by key. Peers that
 * the update does not touch keep their sessions; removed peers are freed after an RCU grace period.
 * Afterwards the XDP program's route map and the TUN routes are brought in line with the union of
 * all peers' allowed IPs (a sort-merge diff, so unchanged prefixes are not touched).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "apply.h"
#include "sockmark.h"
#include "config.h"
#include "headscale/hsfilter.h"
#include "wireguard/messages.h"
#include "vec.h"

struct peer *dev_peer_find(struct mg_ctl *dev, const uint8_t key[32])
{
	struct peer *p;

	/* Public keys are public: memcmp is fine. */
	peer_list_for_each(p, &dev->peers)
		if (!memcmp(p->public_key, key, 32))
			return p;
	return NULL;
}

static void peer_remove(struct mg_ctl *dev, struct peer *p)
{
	allowedips_remove_by_peer(&dev->dp.allowedips, p);
	cds_list_del(&p->node);
	dev->npeers--;
	peer_retire(&dev->dp.index, p);
}

void dev_remove_all_peers(struct mg_ctl *dev)
{
	struct peer *p;

	peer_list_for_each_safe(p, &dev->peers)
		peer_remove(dev, p);
}

static void set_private_key(struct mg_ctl *dev, const uint8_t key[32])
{
	static const uint8_t zero[32];
	struct peer *p;

	/* An unchanged key (SIGHUP, syncconf) must not void live sessions. */
	if (dev->identity.has_identity && !sodium_memcmp(key, dev->identity.static_private, 32))
		return;
	if (!dev->identity.has_identity && !sodium_memcmp(key, zero, 32))
		return;
	if (!sodium_memcmp(key, zero, 32)) {
		sodium_memzero(&dev->identity, sizeof(dev->identity));
	} else {
		noise_static_identity_set(&dev->identity, key);
	}
	cookie_checker_init(&dev->cookie, dev->identity.static_public);
	/* New identity: old sessions are void; a peer with our own public key cannot exist. */
	peer_list_for_each_safe(p, &dev->peers) {
		if (dev->identity.has_identity && !memcmp(p->public_key, dev->identity.static_public, 32)) {
			peer_remove(dev, p);
			continue;
		}
		peer_clear_keypairs(&dev->dp.index, p);
		index_remove(&dev->dp.index, &p->hs_entry);
		noise_handshake_clear(&p->hs);
		noise_precompute(&p->hs, &dev->identity);
	}
}

static struct peer *peer_create(struct mg_ctl *dev, const uint8_t key[32])
{
	struct peer *p = peer_new(key);

	if (!p)
		return NULL;
	noise_handshake_init(&p->hs, &dev->identity, key, NULL);
	cookie_maker_init(&p->cookie, key);
	cds_list_add_tail(&p->node, &dev->peers);
	dev->npeers++;
	return p;
}

/* Prefixes gathered from the table (a walk's callback); failed is set if one could not be kept. */
struct collector {
	struct mg_prefix_set set;
	bool failed;
};

static void collect(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct collector *c = ctx;
	struct mg_prefix_set *s = &c->set;
	struct mg_ipprefix *ip;

	if (mg_vec_grow((void **)&s->v, &s->cap, s->n, sizeof(*s->v))) {
		c->failed = true;
		return;
	}
	ip = &s->v[s->n++];
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	ip->cidr = cidr;
	memcpy(ip->addr, addr, family == AF_INET ? 4 : 16);
}

static int pfx_cmp(const void *a, const void *b)
{
	const struct mg_ipprefix *x = a, *y = b;

	if (x->family != y->family)
		return x->family - y->family;
	if (x->cidr != y->cidr)
		return x->cidr - y->cidr;
	return memcmp(x->addr, y->addr, 16);
}

static void prefix_mask(struct mg_ipprefix *ip)
{
	unsigned len = ip->family == AF_INET ? 4 : 16, full = ip->cidr / 8;

	if (full < len) {
		ip->addr[full] &= (uint8_t)(0xff00 >> (ip->cidr % 8));
		memset(ip->addr + full + 1, 0, len - full - 1);
	}
}

/*
 * The second half of replacing a peer's allowed IPs (`wg set ... allowed-ips`, syncconf, a
 * Headscale update): the new list has been inserted (a no-op for prefixes the peer already
 * owns), and now what the peer owns beyond it goes. Removing everything first, as the kernel
 * does, would leave the workers without a route for the prefixes that stay, for as long as the
 * inserts take; here a prefix named in both lists is never missing. -ENOMEM leaves the extra
 * prefixes in place.
 */
static int remove_unlisted(struct mg_ctl *dev, struct peer *p, const struct mg_peer_conf *pc)
{
	struct collector keep = { 0 }, owned = { 0 };
	struct mg_prefix_set *k = &keep.set, *o = &owned.set;
	int ret = 0;

	for (size_t i = 0; i < pc->n_allowed_ips; i++) {
		const struct mg_ipprefix *ip = &pc->allowed_ips[i].p;

		if (!pc->allowed_ips[i].remove)
			collect(&keep, ip->family, ip->addr, ip->cidr);
	}
	allowedips_walk_by_peer(&dev->dp.allowedips, p, collect, &owned);
	if (keep.failed || owned.failed) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < k->n; i++)
		prefix_mask(&k->v[i]);
	if (k->n)
		qsort(k->v, k->n, sizeof(*k->v), pfx_cmp);
	for (size_t i = 0; i < o->n; i++)
		if (!k->n || !bsearch(&o->v[i], k->v, k->n, sizeof(*k->v), pfx_cmp))
			allowedips_remove(&dev->dp.allowedips, o->v[i].family, o->v[i].addr, o->v[i].cidr, p);
out:
	free(k->v);
	free(o->v);
	return ret;
}

static int peer_apply(struct mg_ctl *dev, const struct mg_peer_conf *pc)
{
	struct peer *p = dev_peer_find(dev, pc->public_key);
	int ret = 0;

	if (pc->remove) {
		if (p)
			peer_remove(dev, p);
		return 0;
	}
	/* Our own key as a peer is accepted and ignored, like wireguard-go. */
	if (dev->identity.has_identity && !memcmp(pc->public_key, dev->identity.static_public, 32))
		return 0;
	if (!p) {
		if (pc->update_only)
			return 0;
		p = peer_create(dev, pc->public_key);
		if (!p)
			return -ENOMEM;
	}
	if (pc->has_preshared_key)
		noise_set_preshared_key(&p->hs, pc->preshared_key);
	if (pc->has_endpoint)
		peer_endpoint_set(p, &pc->endpoint);
	if (pc->persistent_keepalive >= 0) {
		bool turned_on = pc->persistent_keepalive && !p->persistent_keepalive;

		p->persistent_keepalive = (uint16_t)pc->persistent_keepalive;
		/* Turning it on sends a keepalive right away (wireguard-go); the tick does it. */
		if (turned_on)
			atomic_store(&p->ev_last_traversal, 0);
	}
	for (size_t i = 0; i < pc->n_allowed_ips && !ret; i++) {
		const struct mg_ipprefix *ip = &pc->allowed_ips[i].p;

		if (pc->allowed_ips[i].remove)
			allowedips_remove(&dev->dp.allowedips, ip->family, ip->addr, ip->cidr, p);
		else
			ret = allowedips_insert(&dev->dp.allowedips, ip->family, ip->addr, ip->cidr, p);
	}
	if (pc->replace_allowed_ips && !ret)
		ret = remove_unlisted(dev, p, pc);
	return ret;
}

int dev_apply(struct mg_ctl *dev, const struct mg_device_update *u, uint64_t now)
{
	int ret = 0;

	(void)now;
	if (u->has_private_key)
		set_private_key(dev, u->private_key);
	if (u->listen_port >= 0 && u->listen_port != atomic_load(&dev->dp.listen_port)) {
		if (dev->steer.prog)
			steer_prog_set_port(&dev->steer, (uint16_t)u->listen_port);
		atomic_store(&dev->dp.listen_port, (uint16_t)u->listen_port);
	}
	if (u->fwmark >= 0) {
		dev->fwmark = (uint32_t)u->fwmark;
		sockmark_set(dev->fwmark);       /* the sockets opened from now on (sockmark.h) */
	}
	if (u->replace_peers)
		dev_remove_all_peers(dev);
	for (size_t i = 0; i < u->n_peers && !ret; i++)
		ret = peer_apply(dev, &u->peers[i]);
	dev_routes_sync(dev);
	return ret;
}

void dev_set_filter(struct mg_ctl *dev, struct filter *f)
{
	dataplane_publish_filter(&dev->dp, f);
}

int dev_load_filter_file(struct mg_ctl *dev, const char *path, char *err, size_t errlen)
{
	json_error_t je;
	json_t *rules = json_load_file(path, 0, &je);
	char why[160] = "";
	struct filter *f;

	if (!rules) {
		snprintf(err, errlen, "%s: line %d: %s", path, je.line, je.text);
		return -EINVAL;
	}
	f = hs_filter_compile(rules, why, sizeof(why));
	json_decref(rules);
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -EINVAL;
	}
	if (dev)
		dev_set_filter(dev, f);
	else
		filter_free(f);
	return 0;
}

/*
 * What the tailnet may reach before a policy arrives; the one place this is decided:
 *   FilterFile given          its rules (with LoginServer, until Headscale's filter, sent or
 *                             saved in StateDir, replaces them).
 *   LoginServer, no file      nothing: allow-none, every packet from a peer dropped. tailscaled
 *                             admits nothing until it has a filter (ipnlocal: NewAllowNone
 *                             before the first netmap), and Headscale decides who may reach the
 *                             LAN; hsglue.c then restores the filter saved with the last netmap
 *                             (StateDir), or waits for Headscale's.
 *   neither                   no filter: a static WireGuard router, where cryptokey routing
 *                             (each peer's AllowedIPs) is the whole policy, as with wg-quick.
 */
int dev_filter_init(struct mg_ctl *dev, const struct mg_config *cfg)
{
	char err[512];
	struct filter *f;

	if (cfg->filter_file[0]) {
		if (dev_load_filter_file(dev, cfg->filter_file, err, sizeof(err))) {
			fprintf(stderr, "meshgate: %s: FilterFile: %s\n", cfg->path, err);
			return -EINVAL;
		}
		return 0;
	}
	if (!cfg->login_server[0]) {
		dev_set_filter(dev, NULL);
		return 0;
	}
	f = filter_new_allow_none();
	if (!f)
		return -ENOMEM;
	dev_set_filter(dev, f);
	return 0;
}

static bool addr_in(const struct mg_ipprefix *a, size_t n, const struct mg_ipprefix *p)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].family == p->family && a[i].cidr == p->cidr && !memcmp(a[i].addr, p->addr, 16))
			return true;
	return false;
}

int dev_set_addresses(struct mg_ctl *dev, const struct mg_ipprefix *a, size_t n)
{
	struct mg_addrset *next = calloc(1, sizeof(*next) + n * sizeof(next->a[0])), *old = dev->dp.addrs;
	int ret = 0, r;

	if (!next)
		return -ENOMEM;
	next->n = n;
	if (n)
		memcpy(next->a, a, n * sizeof(*a));
	for (size_t i = 0; dev->dp.tun_fd >= 0 && i < n; i++)
		if (!old || !addr_in(old->a, old->n, &a[i]))
			if ((r = tun_add_address(dev->dp.name, &a[i])) && !ret)
				ret = r;
	for (size_t i = 0; dev->dp.tun_fd >= 0 && old && i < old->n; i++)
		if (!addr_in(a, n, &old->a[i]))
			if ((r = tun_del_address(dev->dp.name, &old->a[i])) && !ret)
				ret = r;
	dataplane_publish_addrs(&dev->dp, next);
	return ret;
}

/* ---- steering and TUN routes: union of allowed IPs, diffed against what was installed ------- */

static void route_change(struct mg_ctl *dev, const struct mg_ipprefix *ip, bool add)
{
	if (dev->steer.prog)
		steer_prog_route(&dev->steer, ip->family, ip->addr, ip->cidr, add);
	if (dev->dp.tun_fd >= 0) {
		if (add)
			tun_add_route(dev->dp.name, ip);
		else
			tun_del_route(dev->dp.name, ip);
	}
}

int dev_routes_sync(struct mg_ctl *dev)
{
	struct collector all = { 0 };
	struct mg_prefix_set want, *installed = &dev->routes_installed;
	struct peer *p;
	size_t i = 0, j = 0;

	peer_list_for_each(p, &dev->peers)
		allowedips_walk_by_peer(&dev->dp.allowedips, p, collect, &all);
	if (all.failed) {       /* an incomplete list would withdraw live routes: keep them all */
		free(all.set.v);
		return -ENOMEM;
	}
	want = all.set;
	if (want.n)
		qsort(want.v, want.n, sizeof(*want.v), pfx_cmp);
	while (i < want.n || j < installed->n) {
		int c = i == want.n ? 1 : j == installed->n ? -1 : pfx_cmp(&want.v[i], &installed->v[j]);

		if (c < 0)
			route_change(dev, &want.v[i++], true);
		else if (c > 0)
			route_change(dev, &installed->v[j++], false);
		else
			i++, j++;
	}
	free(installed->v);
	*installed = want;
	return 0;
}
