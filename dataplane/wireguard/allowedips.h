/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * allowedips.h - cryptokey routing table: longest-prefix match from an
 * IPv4/IPv6 address to an opaque peer pointer.
 *
 * Writers: one thread at a time (control); the caller serialises them.
 * Readers: any thread registered with liburcu QSBR, lock-free; a returned
 * peer stays valid until the reader's next quiescent state, as long as
 * the caller frees peers only after a grace period.
 * Writer calls that unlink nodes wait for a grace period (synchronize_rcu)
 * before freeing them, so they must not run inside a read-side section.
 */
#ifndef MG_WG_ALLOWEDIPS_H
#define MG_WG_ALLOWEDIPS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct allowedips_node;

struct allowedips {
	struct allowedips_node *root4, *root6; /* written by control, published with RCU */
	size_t count;                          /* prefixes with an owner; control only */
	struct allowedips_node *graveyard;     /* unlinked, freed after a grace period */
	_Atomic uint64_t gen;                  /* changes: written by control, read by anyone */
};

/*
 * The table's generation: it grows after every insert or removal (before any peer it named
 * can have been freed), so a reader that kept an answer with the generation it read first
 * (acquire) knows the answer still holds while the generation is unchanged.
 */
static inline uint64_t allowedips_gen(const struct allowedips *t)
{
	return atomic_load_explicit(&t->gen, memory_order_acquire);
}

void allowedips_init(struct allowedips *t);
/* Frees everything after a grace period. */
void allowedips_uninit(struct allowedips *t);

/* family AF_INET (4 address bytes, cidr <= 32) or AF_INET6 (16, <= 128),
 * network byte order. Host bits are masked off; inserting an existing
 * prefix moves it to peer. 0, -EINVAL or -ENOMEM. */
int allowedips_insert(struct allowedips *t, int family, const uint8_t *addr,
		      uint8_t cidr, void *peer);

/* Removes the prefix only if peer owns it: 0, -ENOENT or -EINVAL. */
int allowedips_remove(struct allowedips *t, int family, const uint8_t *addr,
		      uint8_t cidr, void *peer);

void allowedips_remove_by_peer(struct allowedips *t, void *peer);

/* RCU read side: the peer of the longest prefix containing addr, or NULL. */
void *allowedips_lookup(const struct allowedips *t, int family, const uint8_t *addr);

/* Control side: cb for every prefix owned by peer, IPv4 first, each family
 * in address order. cb must not modify the table. */
void allowedips_walk_by_peer(struct allowedips *t, void *peer,
			     void (*cb)(void *ctx, int family, const uint8_t *addr,
					uint8_t cidr),
			     void *ctx);

/* Control side: one pass over every prefix with its owner (for a UAPI
 * dump of all peers, cheaper than walk_by_peer once per peer). */
void allowedips_walk(struct allowedips *t,
		     void (*cb)(void *ctx, void *peer, int family, const uint8_t *addr,
				uint8_t cidr),
		     void *ctx);

size_t allowedips_count(const struct allowedips *t);

#endif
