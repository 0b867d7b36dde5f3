// SPDX-License-Identifier: GPL-2.0-only
/*
 * allowedips.c - path-compressed binary trie under RCU (liburcu QSBR).
 *
 * Each node holds a masked prefix (key, cidr) that is immutable once the
 * node is published; a child's cidr is always greater than its parent's
 * and its key starts with the parent's prefix. A node with no peer is a
 * pure branch point and then always has two children (remove splices out
 * any branch left with one). Keys are two host-order 64-bit words, IPv4 in
 * the top 32 bits of the first, so bit tests and common-prefix lengths are
 * a shift or a clz.
 *
 * Publication: a new node is fully built (children included) before one
 * rcu_assign_pointer links it in, so a reader sees either the old or the
 * new subtree. Unlinked nodes go to a graveyard that is freed after
 * mg_synchronize_rcu(), once every reader has passed a quiescent state.
 */
#include "wireguard/allowedips.h"
#include "mg.h"
#include "vec.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
/* inline rcu_dereference()/rcu_assign_pointer() instead of library calls
 * on the lookup path */
#define _LGPL_SOURCE
#include "rcu.h"

struct ip_key {
	uint64_t hi, lo;
};

struct allowedips_node {
	struct allowedips_node *child[2]; /* RCU */
	void *peer;                       /* RCU; NULL = branch point */
	struct allowedips_node *parent;   /* control only */
	struct allowedips_node *free_next;/* control only: graveyard link */
	struct ip_key key;                /* immutable, host bits zero */
	uint8_t cidr;                     /* immutable */
};

#define MAX_DEPTH 130 /* cidr 0..128 strictly increases along a path */

static int family_bits(int family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

static struct ip_key key_load(int family, const uint8_t *addr)
{
	struct ip_key k = { 0, 0 };
	uint32_t w;

	if (family == AF_INET) {
		memcpy(&w, addr, 4);
		k.hi = (uint64_t)be32toh(w) << 32;
	} else {
		memcpy(&k.hi, addr, 8);
		memcpy(&k.lo, addr + 8, 8);
		k.hi = be64toh(k.hi);
		k.lo = be64toh(k.lo);
	}
	return k;
}

static void key_store(uint8_t *addr, int family, struct ip_key k)
{
	uint64_t hi = htobe64(k.hi), lo = htobe64(k.lo);

	memcpy(addr, &hi, 8);
	if (family == AF_INET6)
		memcpy(addr + 8, &lo, 8);
}

static struct ip_key key_mask(struct ip_key k, unsigned int cidr)
{
	if (cidr == 0)
		return (struct ip_key){ 0, 0 };
	if (cidr <= 64)
		return (struct ip_key){ k.hi & (~0ULL << (64 - cidr)), 0 };
	return (struct ip_key){ k.hi, k.lo & (~0ULL << (128 - cidr)) };
}

static unsigned int key_bit(struct ip_key k, unsigned int i)
{
	return i < 64 ? (k.hi >> (63 - i)) & 1 : (k.lo >> (127 - i)) & 1;
}

static unsigned int common_bits(struct ip_key a, struct ip_key b)
{
	if (a.hi != b.hi)
		return __builtin_clzll(a.hi ^ b.hi);
	if (a.lo != b.lo)
		return 64 + __builtin_clzll(a.lo ^ b.lo);
	return 128;
}

static struct allowedips_node **root_of(struct allowedips *t, int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

void allowedips_init(struct allowedips *t)
{
	memset(t, 0, sizeof(*t));
	atomic_init(&t->gen, 1);         /* a cache's zeroed entry never matches */
}

void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr)
{
	const struct allowedips_node *n;
	unsigned int bits = family_bits(family);
	struct ip_key k;
	void *best = NULL, *p;

	if (unlikely(!bits))
		return NULL;
	k = key_load(family, addr);
	if (family == AF_INET)
		n = mg_rcu_dereference(t->root4);
	else
		n = mg_rcu_dereference(t->root6);
	while (n && common_bits(n->key, k) >= n->cidr) {
		p = mg_rcu_dereference(n->peer);
		if (p)
			best = p;
		if (n->cidr == bits)
			break;
		n = mg_rcu_dereference(n->child[key_bit(k, n->cidr)]);
	}
	return best;
}

static struct allowedips_node *node_new(struct ip_key key, uint8_t cidr, void *peer,
					struct allowedips_node *parent)
{
	struct allowedips_node *n = calloc(1, sizeof(*n));

	if (n) {
		n->key = key;
		n->cidr = cidr;
		n->peer = peer;
		n->parent = parent;
	}
	return n;
}

/* n does not contain the new prefix: put the new node above n, or a branch
 * point at their common prefix with both below it. */
static int insert_above(struct allowedips *t, struct allowedips_node **slot,
			struct allowedips_node *n, struct ip_key k, uint8_t cidr,
			unsigned int common, void *peer)
{
	struct allowedips_node *nn, *br;

	nn = node_new(k, cidr, peer, n->parent);
	if (!nn)
		return -ENOMEM;
	if (common == cidr) {
		nn->child[key_bit(n->key, cidr)] = n;
		n->parent = nn;
		mg_rcu_assign_pointer(*slot, nn);
	} else {
		br = node_new(key_mask(k, common), (uint8_t)common, NULL, n->parent);
		if (!br) {
			free(nn);
			return -ENOMEM;
		}
		br->child[key_bit(k, common)] = nn;
		br->child[key_bit(n->key, common)] = n;
		nn->parent = br;
		n->parent = br;
		mg_rcu_assign_pointer(*slot, br);
	}
	++t->count;
	return 0;
}

static void changed(struct allowedips *t)
{
	atomic_fetch_add_explicit(&t->gen, 1, memory_order_release);
}

static int trie_insert(struct allowedips *t, int family, const uint8_t *addr,
		       uint8_t cidr, void *peer)
{
	unsigned int bits = family_bits(family), common;
	struct allowedips_node **slot, *n, *parent = NULL;
	struct ip_key k;

	if (!bits || cidr > bits || !peer)
		return -EINVAL;
	k = key_mask(key_load(family, addr), cidr);
	for (slot = root_of(t, family); (n = *slot); slot = &n->child[key_bit(k, n->cidr)]) {
		common = common_bits(n->key, k);
		if (common > n->cidr)
			common = n->cidr;
		if (common > cidr)
			common = cidr;
		if (common < n->cidr)
			return insert_above(t, slot, n, k, cidr, common, peer);
		if (n->cidr == cidr) {
			if (!n->peer)
				++t->count;
			mg_rcu_assign_pointer(n->peer, peer);
			return 0;
		}
		parent = n;
	}
	n = node_new(k, cidr, peer, parent);
	if (!n)
		return -ENOMEM;
	mg_rcu_assign_pointer(*slot, n);
	++t->count;
	return 0;
}

static struct allowedips_node **slot_of(struct allowedips_node **root,
					struct allowedips_node *n)
{
	struct allowedips_node *p = n->parent;

	if (!p)
		return root;
	return &p->child[p->child[1] == n];
}

/* Unlink n, which has at most one child, and bury it. */
static void splice_out(struct allowedips *t, struct allowedips_node **root,
		       struct allowedips_node *n)
{
	struct allowedips_node *child = n->child[0] ? n->child[0] : n->child[1];

	if (child)
		child->parent = n->parent;
	mg_rcu_assign_pointer(*slot_of(root, n), child);
	n->free_next = t->graveyard;
	t->graveyard = n;
}

static void node_unset(struct allowedips *t, struct allowedips_node **root,
		       struct allowedips_node *n)
{
	struct allowedips_node *parent = n->parent;
	bool leaf = !n->child[0] && !n->child[1];

	mg_rcu_assign_pointer(n->peer, NULL);
	--t->count;
	if (n->child[0] && n->child[1])
		return; /* stays as a branch point */
	splice_out(t, root, n);
	/* a peerless parent had two children; if n was a leaf it now has one */
	if (leaf && parent && !parent->peer)
		splice_out(t, root, parent);
}

static void graveyard_flush(struct allowedips *t)
{
	struct allowedips_node *n;

	if (!t->graveyard)
		return;
	mg_synchronize_rcu();
	while ((n = t->graveyard)) {
		t->graveyard = n->free_next;
		free(n);
	}
}

int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr,
		      uint8_t cidr, void *peer)
{
	int ret = trie_insert(t, family, addr, cidr, peer);

	changed(t);
	return ret;
}

static int trie_remove(struct allowedips *t, int family, const uint8_t *addr,
		       uint8_t cidr, void *peer)
{
	unsigned int bits = family_bits(family);
	struct allowedips_node **root, *n;
	struct ip_key k;

	if (!bits || cidr > bits)
		return -EINVAL;
	k = key_mask(key_load(family, addr), cidr);
	root = root_of(t, family);
	for (n = *root; n && n->cidr < cidr && common_bits(n->key, k) >= n->cidr;)
		n = n->child[key_bit(k, n->cidr)];
	if (!n || n->cidr != cidr || common_bits(n->key, k) < cidr || n->peer != peer || !peer)
		return -ENOENT;
	node_unset(t, root, n);
	graveyard_flush(t);
	return 0;
}

/* Depth-first, in address order, calling visit on every node. */
static void trie_walk(struct allowedips_node *root,
		      void (*visit)(struct allowedips_node *n, void *arg), void *arg)
{
	struct allowedips_node *stack[MAX_DEPTH + 2], *n;
	size_t top = 0;

	if (root)
		stack[top++] = root;
	while (top) {
		n = stack[--top];
		if (n->child[1])
			stack[top++] = n->child[1];
		if (n->child[0])
			stack[top++] = n->child[0];
		visit(n, arg);
	}
}

struct collect {
	void *peer;
	struct allowedips_node **nodes;
	size_t len, cap;
	bool oom;
};

static void collect_node(struct allowedips_node *n, void *arg)
{
	struct collect *c = arg;

	if (n->peer != c->peer || c->oom)
		return;
	if (mg_vec_grow((void **)&c->nodes, &c->cap, c->len, sizeof(*c->nodes))) {
		c->oom = true;
		return;
	}
	c->nodes[c->len++] = n;
}

/* Collect first, then unset: unsetting reshapes the trie under the walk. A
 * collected node is only ever buried by its own unset (splicing removes
 * peerless nodes only), so the array stays valid. */
static void remove_peer_in(struct allowedips *t, struct allowedips_node **root, void *peer)
{
	struct collect c = { .peer = peer };
	size_t i;

	do {
		c.oom = false;
		c.len = 0;
		trie_walk(*root, collect_node, &c);
		for (i = 0; i < c.len; ++i)
			node_unset(t, root, c.nodes[i]);
	} while (c.oom); /* partial progress each round */
	free(c.nodes);
}

int allowedips_remove(struct allowedips *t, int family, const uint8_t *addr,
		      uint8_t cidr, void *peer)
{
	int ret = trie_remove(t, family, addr, cidr, peer);

	changed(t);
	return ret;
}

void allowedips_remove_by_peer(struct allowedips *t, void *peer)
{
	if (!peer)
		return;
	remove_peer_in(t, &t->root4, peer);
	remove_peer_in(t, &t->root6, peer);
	changed(t);
	graveyard_flush(t);
}

struct walk_ctx {
	void *peer; /* NULL = every owned prefix */
	int family;
	void (*cb)(void *ctx, int family, const uint8_t *addr, uint8_t cidr);
	void (*cb_all)(void *ctx, void *peer, int family, const uint8_t *addr, uint8_t cidr);
	void *ctx;
};

static void walk_node(struct allowedips_node *n, void *arg)
{
	struct walk_ctx *w = arg;
	uint8_t addr[16];

	if (!n->peer || (w->peer && n->peer != w->peer))
		return;
	key_store(addr, w->family, n->key);
	if (w->cb_all)
		w->cb_all(w->ctx, n->peer, w->family, addr, n->cidr);
	else
		w->cb(w->ctx, w->family, addr, n->cidr);
}

void allowedips_walk(struct allowedips *t,
		     void (*cb)(void *ctx, void *peer, int family, const uint8_t *addr,
				uint8_t cidr),
		     void *ctx)
{
	struct walk_ctx w = { .family = AF_INET, .cb_all = cb, .ctx = ctx };

	trie_walk(t->root4, walk_node, &w);
	w.family = AF_INET6;
	trie_walk(t->root6, walk_node, &w);
}

void allowedips_walk_by_peer(struct allowedips *t, void *peer,
			     void (*cb)(void *ctx, int family, const uint8_t *addr,
					uint8_t cidr),
			     void *ctx)
{
	struct walk_ctx w = { .peer = peer, .family = AF_INET, .cb = cb, .ctx = ctx };

	if (!peer)
		return;
	trie_walk(t->root4, walk_node, &w);
	w.family = AF_INET6;
	trie_walk(t->root6, walk_node, &w);
}

size_t allowedips_count(const struct allowedips *t)
{
	return t->count;
}

static void bury_node(struct allowedips_node *n, void *arg)
{
	struct allowedips *t = arg;

	n->free_next = t->graveyard;
	t->graveyard = n;
}

void allowedips_uninit(struct allowedips *t)
{
	struct allowedips_node *r4 = t->root4, *r6 = t->root6;

	mg_rcu_assign_pointer(t->root4, NULL);
	mg_rcu_assign_pointer(t->root6, NULL);
	changed(t);
	/* trie_walk reads a node's children before visiting it */
	trie_walk(r4, bury_node, t);
	trie_walk(r6, bury_node, t);
	graveyard_flush(t);
	t->count = 0;
}
