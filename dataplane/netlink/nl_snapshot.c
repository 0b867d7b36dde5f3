// SPDX-License-Identifier: GPL-2.0-only
/*
 * nl_snapshot.c - builds the immutable route/neighbour/address table (control thread) and
 * answers lookups on it (any thread, lock-free: the snapshot never changes once published).
 *
 * Routes: per family, one open-addressed hash keyed by (prefix length, masked prefix) plus the
 * list of prefix lengths present, longest first. A lookup probes one hash per distinct length
 * (a home router has 3-6), stopping at the first hit, which is the longest match. Each slot
 * holds the winner for its prefix (lowest metric) with the next-hop data and source address
 * resolved at build time, so the fast path does no per-route work beyond the probe.
 * Neighbours: one open-addressed hash keyed by (family, address) holding only usable entries.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include "rcu.h"

#include "mg.h"
#include "netlink/nl_snapshot.h"
#include "netlink/nltables.h"

struct nl_snap_route {
	uint8_t key[16];        /* prefix, masked to len bits */
	uint8_t len;
	uint8_t used;
	uint8_t ours;           /* unicast through the mirrored interface */
	uint8_t has_gw;
	uint32_t priority;      /* build time only: lowest metric wins the slot */
	uint8_t gw[16];
	uint8_t src[16];
};

struct nl_lpm {
	struct nl_snap_route *slots;
	uint32_t mask;          /* slot count - 1 (power of two) */
	uint32_t nlens;
	uint8_t lens[129];      /* distinct prefix lengths, longest first */
	uint64_t masks[129][2]; /* netmask of lens[i], as two words in memory byte order */
};

struct nl_snap_neigh {
	uint8_t used, family;
	uint8_t mac[6];
	uint8_t addr[16];
};

struct nl_snapshot {
	struct mg_rcu_head rcu;    /* nl_snapshot_retire: freed after a grace period */
	uint64_t gen;              /* unique in the process, never reused */
	uint8_t mac[6];
	uint32_t mtu;
	struct nl_lpm lpm[2];   /* [0] IPv4, [1] IPv6 */
	struct nl_snap_neigh *neigh;
	uint32_t neigh_mask;
	size_t n_addrs;
	struct nl_addr_ent *addrs;
};

#define NL_USABLE_NUD (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP)

static inline unsigned int nls_alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static inline void nls_mask(uint8_t out[16], const uint8_t *addr, unsigned int alen, unsigned int len)
{
	unsigned int full = len / 8;

	memset(out, 0, 16);
	memcpy(out, addr, full);
	if (len % 8 && full < alen)
		out[full] = addr[full] & (uint8_t)(0xff00u >> (len % 8));
}

static inline bool nls_prefix_has(const uint8_t *prefix, unsigned int len, const uint8_t *addr)
{
	unsigned int full = len / 8;

	if (memcmp(prefix, addr, full))
		return false;
	return !(len % 8) || !((prefix[full] ^ addr[full]) & (uint8_t)(0xff00u >> (len % 8)));
}

/* Mixes 16 key bytes and a tag; keys are zero-padded so IPv4 hashes the same way. */
static inline uint32_t nls_hash(const uint8_t key[16], uint32_t tag)
{
	uint64_t a, b, h;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	h = (a ^ (tag * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	h ^= (b + (h >> 29)) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 32));
}

static uint32_t nls_pow2_at_least(size_t n)
{
	uint32_t c = 16;

	while (c < n * 2)
		c <<= 1;
	return c;
}

/* ---- lookups (fast path) ---- */

/* The destination is loaded once as two words; each length costs an AND, a hash and (usually)
 * one slot compare. IPv4 keys are zero-padded, and their masks' upper bytes are zero. */
static const struct nl_snap_route *nls_lpm_find(const struct nl_lpm *lpm, const uint8_t *dst,
						unsigned int alen)
{
	uint64_t d[2] = { 0, 0 }, key[2];
	uint32_t i, j;

	memcpy(d, dst, alen);
	for (i = 0; i < lpm->nlens; i++) {
		key[0] = d[0] & lpm->masks[i][0];
		key[1] = d[1] & lpm->masks[i][1];
		for (j = nls_hash((const uint8_t *)key, lpm->lens[i]) & lpm->mask;; j = (j + 1) & lpm->mask) {
			const struct nl_snap_route *r = &lpm->slots[j];

			if (!r->used)
				break;
			if (r->len == lpm->lens[i] && !memcmp(r->key, key, 16))
				return r;
		}
	}
	return NULL;
}

static const struct nl_snap_neigh *nls_neigh_find(const struct nl_snapshot *s, int family,
						  const uint8_t addr[16])
{
	uint32_t j;

	for (j = nls_hash(addr, (uint32_t)family) & s->neigh_mask;; j = (j + 1) & s->neigh_mask) {
		const struct nl_snap_neigh *n = &s->neigh[j];

		if (!n->used)
			return NULL;
		if (n->family == family && !memcmp(n->addr, addr, 16))
			return n;
	}
}

int nl_snapshot_lookup(const struct nl_snapshot *s, int family, const uint8_t *dst, struct nl_l2hop *out)
{
	const struct nl_snap_route *r;
	const struct nl_snap_neigh *n;
	unsigned int alen;

	if (unlikely(family != AF_INET && family != AF_INET6))
		return -EAFNOSUPPORT;
	alen = nls_alen(family);
	r = nls_lpm_find(&s->lpm[family == AF_INET6], dst, alen);
	if (!r || !r->ours)
		return -ENETUNREACH;
	out->family = family;
	memcpy(out->src_mac, s->mac, 6);
	memcpy(out->src_addr, r->src, 16);
	if (r->has_gw) {
		memcpy(out->nexthop, r->gw, 16);
	} else {
		memset(out->nexthop, 0, 16);
		memcpy(out->nexthop, dst, alen);
	}
	n = nls_neigh_find(s, family, out->nexthop);
	if (!n)
		return -EAGAIN;
	memcpy(out->dst_mac, n->mac, 6);
	return 0;
}

bool nl_snapshot_is_local(const struct nl_snapshot *s, int family, const uint8_t *addr)
{
	size_t i;

	/* Constant sizes: inlined compares, not a libc call per address (workers ask per pass). */
	for (i = 0; i < s->n_addrs; i++)
		if (s->addrs[i].family == family &&
		    (family == AF_INET ? !memcmp(s->addrs[i].addr, addr, 4) : !memcmp(s->addrs[i].addr, addr, 16)))
			return true;
	return false;
}

bool nl_snapshot_is_bcast4(const struct nl_snapshot *s, const uint8_t addr[4])
{
	uint32_t a, want;

	memcpy(&want, addr, 4);
	for (size_t i = 0; i < s->n_addrs; i++) {
		const struct nl_addr_ent *e = &s->addrs[i];

		if (e->family != AF_INET || e->prefixlen > 30)
			continue;
		memcpy(&a, e->addr, 4);
		if ((a | htonl(~0u >> e->prefixlen)) == want)
			return true;
	}
	return false;
}

void nl_snapshot_mac(const struct nl_snapshot *s, uint8_t mac[6])
{
	memcpy(mac, s->mac, 6);
}

uint32_t nl_snapshot_mtu(const struct nl_snapshot *s)
{
	return s->mtu;
}

uint64_t nl_snapshot_gen(const struct nl_snapshot *s)
{
	return s->gen;
}

/* ---- build (control thread) ---- */

/* IPv6 source preference: a usable global address, then a deprecated/tentative global one,
 * then anything (link-local); first in kernel order within a rank. */
static int nls_v6_rank(const struct nl_addr_ent *a)
{
	if (a->scope != RT_SCOPE_UNIVERSE)
		return 1;
	if (a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED))
		return 2;
	return 3;
}

/* IPv4: the address whose subnet holds the next hop (what the kernel's inet_select_addr does
 * for a gateway), else the first primary address. */
static const struct nl_addr_ent *nls_pick_src(const struct nltables *t, int family,
					      const uint8_t *nexthop)
{
	const struct nl_addr_ent *best = NULL;
	int best_rank = 0;
	size_t i;

	for (i = 0; i < t->addrs.n; i++) {
		const struct nl_addr_ent *a = &t->addrs.v[i];
		int rank;

		if (a->family != family)
			continue;
		if (family == AF_INET6)
			rank = nls_v6_rank(a);
		else if (nls_prefix_has(a->addr, a->prefixlen, nexthop))
			rank = 3;
		else
			rank = (a->flags & IFA_F_SECONDARY) ? 1 : 2;
		if (rank > best_rank) {
			best = a;
			best_rank = rank;
		}
	}
	return best;
}

static void nls_fill_slot(struct nl_snap_route *slot, const struct nltables *t,
			  const struct nl_route_ent *r, const uint8_t key[16])
{
	const struct nl_addr_ent *src;

	memset(slot, 0, sizeof(*slot));
	memcpy(slot->key, key, 16);
	slot->len = r->dst_len;
	slot->used = 1;
	slot->priority = r->priority;
	slot->ours = r->type == RTN_UNICAST && r->oif == t->ifindex;
	slot->has_gw = r->has_gw;
	memcpy(slot->gw, r->gw, 16);
	if (r->has_prefsrc) {
		memcpy(slot->src, r->prefsrc, 16);
	} else {
		src = nls_pick_src(t, r->family, r->has_gw ? r->gw : key);
		if (src)
			memcpy(slot->src, src->addr, 16);
	}
}

static void nls_lpm_insert(struct nl_lpm *lpm, const struct nltables *t, const struct nl_route_ent *r)
{
	uint8_t key[16];
	uint32_t j;

	nls_mask(key, r->dst, nls_alen(r->family), r->dst_len);
	for (j = nls_hash(key, r->dst_len) & lpm->mask;; j = (j + 1) & lpm->mask) {
		struct nl_snap_route *slot = &lpm->slots[j];

		if (!slot->used) {
			nls_fill_slot(slot, t, r, key);
			return;
		}
		if (slot->len == r->dst_len && !memcmp(slot->key, key, 16)) {
			/* Same prefix: the kernel uses the lowest metric; first seen wins ties. */
			if (r->priority < slot->priority)
				nls_fill_slot(slot, t, r, key);
			return;
		}
	}
}

static int nls_lpm_build(struct nl_lpm *lpm, const struct nltables *t, int family)
{
	bool seen[129] = { false };
	size_t i, n = 0;
	int len;

	for (i = 0; i < t->routes.n; i++)
		n += t->routes.v[i].family == family;
	lpm->mask = nls_pow2_at_least(n) - 1;
	lpm->slots = calloc(lpm->mask + 1, sizeof(*lpm->slots));
	if (!lpm->slots)
		return -ENOMEM;
	for (i = 0; i < t->routes.n; i++) {
		const struct nl_route_ent *r = &t->routes.v[i];

		if (r->family != family)
			continue;
		nls_lpm_insert(lpm, t, r);
		seen[r->dst_len] = true;
	}
	lpm->nlens = 0;
	for (len = 128; len >= 0; len--) {
		uint8_t ones[16], m[16];

		if (!seen[len])
			continue;
		memset(ones, 0xff, sizeof(ones));
		nls_mask(m, ones, 16, (unsigned int)len);
		memcpy(lpm->masks[lpm->nlens], m, 16);
		lpm->lens[lpm->nlens++] = (uint8_t)len;
	}
	return 0;
}

static int nls_neigh_build(struct nl_snapshot *s, const struct nltables *t)
{
	size_t i;

	s->neigh_mask = nls_pow2_at_least(t->neighs.n) - 1;
	s->neigh = calloc(s->neigh_mask + 1, sizeof(*s->neigh));
	if (!s->neigh)
		return -ENOMEM;
	for (i = 0; i < t->neighs.n; i++) {
		const struct nl_neigh_ent *e = &t->neighs.v[i];
		uint32_t j;

		if (!e->has_mac || !(e->state & NL_USABLE_NUD))
			continue;
		for (j = nls_hash(e->addr, e->family) & s->neigh_mask; s->neigh[j].used;
		     j = (j + 1) & s->neigh_mask)
			;
		s->neigh[j].used = 1;
		s->neigh[j].family = e->family;
		memcpy(s->neigh[j].mac, e->mac, 6);
		memcpy(s->neigh[j].addr, e->addr, 16);
	}
	return 0;
}

void nl_snapshot_free(struct nl_snapshot *s)
{
	if (!s)
		return;
	free(s->lpm[0].slots);
	free(s->lpm[1].slots);
	free(s->neigh);
	free(s->addrs);
	free(s);
}

static void nls_free_rcu(struct rcu_head *head)
{
	nl_snapshot_free(caa_container_of(head, struct nl_snapshot, rcu.h));
}

void nl_snapshot_retire(struct nl_snapshot *s)
{
	mg_call_rcu(&s->rcu, nls_free_rcu);
}

struct nl_snapshot *nl_snapshot_build(const struct nltables *t)
{
	struct nl_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	static _Atomic uint64_t gens;

	s->gen = atomic_fetch_add_explicit(&gens, 1, memory_order_relaxed) + 1;
	memcpy(s->mac, t->mac, 6);
	s->mtu = t->mtu;
	s->n_addrs = t->addrs.n;
	s->addrs = calloc(t->addrs.n ? t->addrs.n : 1, sizeof(*s->addrs));
	if (!s->addrs)
		goto err;
	if (t->addrs.n)
		memcpy(s->addrs, t->addrs.v, t->addrs.n * sizeof(*s->addrs));
	if (nls_lpm_build(&s->lpm[0], t, AF_INET) || nls_lpm_build(&s->lpm[1], t, AF_INET6) ||
	    nls_neigh_build(s, t))
		goto err;
	return s;
err:
	nl_snapshot_free(s);
	return NULL;
}
