/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ring.h - bounded single-producer single-consumer queue of fixed-size slots between the control
 * thread and one worker (punted handshakes one way, packets to transmit the other). Lock-free:
 * the producer owns head, the consumer owns tail; acquire/release on the indices publish the slot.
 * Overflow policy: the producer is told (ring_reserve returns NULL) and counts a drop; it never waits.
 */
#ifndef MG_RING_H
#define MG_RING_H

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "mg.h"

struct ring {
	_Atomic uint32_t head __mg_aligned;   /* written by producer */
	_Atomic uint32_t tail __mg_aligned;   /* written by consumer */
	uint32_t mask, slot_size;
	uint8_t *slots;
};

static inline int ring_init(struct ring *r, uint32_t nslots_pow2, uint32_t slot_size)
{
	memset(r, 0, sizeof(*r));
	r->mask = nslots_pow2 - 1;
	r->slot_size = slot_size;
	/* aligned_alloc wants a size that is a multiple of the alignment. */
	r->slots = aligned_alloc(MG_CACHELINE, ((size_t)nslots_pow2 * slot_size + MG_CACHELINE - 1) &
				 ~(size_t)(MG_CACHELINE - 1));
	return r->slots ? 0 : -1;
}

static inline void ring_uninit(struct ring *r)
{
	free(r->slots);
	r->slots = NULL;
}

static inline uint32_t ring_count(struct ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire) -
	       atomic_load_explicit(&r->tail, memory_order_acquire);
}

/* Producer: a slot to fill, or NULL when full. Publish with ring_commit. */
static inline void *ring_reserve(struct ring *r)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (h - t > r->mask)
		return NULL;
	return r->slots + (size_t)(h & r->mask) * r->slot_size;
}

static inline void ring_commit(struct ring *r)
{
	atomic_fetch_add_explicit(&r->head, 1, memory_order_release);
}

/* Consumer: the oldest slot, or NULL when empty. Give it back with ring_release. */
static inline void *ring_peek(struct ring *r)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);

	if (h == t)
		return NULL;
	return r->slots + (size_t)(t & r->mask) * r->slot_size;
}

static inline void ring_release(struct ring *r)
{
	atomic_fetch_add_explicit(&r->tail, 1, memory_order_release);
}

#endif
