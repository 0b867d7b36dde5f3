// SPDX-License-Identifier: GPL-2.0-only
/*
 * flowtrack.c - see flowtrack.h. The sequence count follows the C11 seqlock recipe (Boehm,
 * "Can seqlocks get along with programming language memory models?", 2012): the writer makes
 * seq odd, issues a release fence, stores the data with relaxed atomics, then publishes the
 * even seq with release; a reader loads seq with acquire, the data relaxed, then an acquire
 * fence and seq again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sodium.h>
#include "flowtrack.h"
#include "pkt.h"

#ifndef IPPROTO_SCTP
#define IPPROTO_SCTP 132
#endif

struct flowtrack_key {
	uint8_t family, proto;
	uint16_t sport, dport;          /* network order, as on the wire */
	uint8_t saddr[16], daddr[16];   /* IPv4: the first 4 bytes */
	uint8_t pad[2];
};
_Static_assert(sizeof(struct flowtrack_key) == 5 * sizeof(uint64_t), "a key is five words");

int flowtrack_init(struct flowtrack *ft, unsigned nworkers)
{
	memset(ft, 0, sizeof(*ft));
	ft->tables = calloc(nworkers, sizeof(*ft->tables));
	if (!ft->tables)
		return -ENOMEM;
	ft->n = nworkers;
	for (unsigned w = 0; w < nworkers; w++) {
		ft->tables[w] = aligned_alloc(64, FLOWTRACK_SLOTS * sizeof(struct flowtrack_ent));
		if (!ft->tables[w]) {
			flowtrack_uninit(ft);
			return -ENOMEM;
		}
		memset(ft->tables[w], 0, FLOWTRACK_SLOTS * sizeof(struct flowtrack_ent));
	}
	ft->seed = ((uint64_t)randombytes_random() << 32) | randombytes_random();
	return 0;
}

void flowtrack_uninit(struct flowtrack *ft)
{
	for (unsigned w = 0; ft->tables && w < ft->n; w++)
		free(ft->tables[w]);
	free(ft->tables);
	memset(ft, 0, sizeof(*ft));
}

/*
 * The packet's tuple, or (@reverse) the tuple its replies carry. An echo request (@reverse) or
 * reply is keyed by its identifier in both port fields. False: not a UDP, SCTP or TCP first
 * fragment with ports, nor an echo of the kind asked for.
 */
static bool key_from(struct flowtrack_key *k, const uint8_t *l3, uint32_t len, int family, bool reverse)
{
	uint32_t hl = family == AF_INET ? (l3[0] & 0xf) * 4u : IP6_HLEN;
	uint8_t proto = family == AF_INET ? l3[9] : l3[6];
	uint32_t alen = family == AF_INET ? 4 : 16;
	const uint8_t *src = ip_src(l3, family), *dst = ip_dst(l3, family);
	bool echo = false;

	if (family == AF_INET && (ntohs(*(const uint16_t *)(l3 + 6)) & 0x1fff))
		return false;                                   /* a later fragment: no ports */
	if (len < hl + 8)
		return false;
	switch (proto) {
	case IPPROTO_UDP: case IPPROTO_SCTP: case IPPROTO_TCP:
		break;
	case IPPROTO_ICMP:
		if (family != AF_INET || l3[hl] != (reverse ? 8 : 0))      /* echo request / reply */
			return false;
		echo = true;
		break;
	case IPPROTO_ICMPV6:
		if (family != AF_INET6 || l3[hl] != (reverse ? 128 : 129))
			return false;
		echo = true;
		break;
	default:
		return false;
	}
	memset(k, 0, sizeof(*k));
	k->family = (uint8_t)family;
	k->proto = proto;
	if (echo) {
		memcpy(&k->sport, l3 + hl + 4, 2);
		memcpy(&k->dport, l3 + hl + 4, 2);
	} else {
		memcpy(reverse ? &k->dport : &k->sport, l3 + hl, 2);
		memcpy(reverse ? &k->sport : &k->dport, l3 + hl + 2, 2);
	}
	memcpy(k->saddr, reverse ? dst : src, alen);
	memcpy(k->daddr, reverse ? src : dst, alen);
	return true;
}

static unsigned bucket_of(const struct flowtrack *ft, const uint64_t w[5])
{
	uint64_t h = ft->seed;

	for (int i = 0; i < 5; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return (unsigned)(h >> 32) & (FLOWTRACK_BUCKETS - 1);
}

static bool key_equal(const struct flowtrack_ent *e, const uint64_t w[5])
{
	for (int i = 0; i < 5; i++)
		if (atomic_load_explicit(&e->key[i], memory_order_relaxed) != w[i])
			return false;
	return true;
}

/* The owner rewrites an entry; readers on other workers see either the old or the new one. */
static void ent_write(struct flowtrack_ent *e, const uint64_t w[5], uint64_t expires)
{
	uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed);

	atomic_store_explicit(&e->seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	for (int i = 0; i < 5; i++)
		atomic_store_explicit(&e->key[i], w[i], memory_order_relaxed);
	atomic_store_explicit(&e->expires, expires, memory_order_relaxed);
	atomic_store_explicit(&e->seq, s + 2, memory_order_release);
}

enum flowtrack_note flowtrack_note_out(struct flowtrack *ft, unsigned worker, const uint8_t *l3,
				       uint32_t len, int family, uint64_t now)
{
	struct flowtrack_key k;
	uint64_t w[5], victim_exp = UINT64_MAX;
	struct flowtrack_ent *b, *victim = NULL;

	if (worker >= ft->n || !key_from(&k, l3, len, family, true))
		return FLOWTRACK_NONE;
	memcpy(w, &k, sizeof(w));
	b = &ft->tables[worker][bucket_of(ft, w) * FLOWTRACK_WAYS];
	for (unsigned i = 0; i < FLOWTRACK_WAYS; i++) {
		uint64_t exp = atomic_load_explicit(&b[i].expires, memory_order_relaxed);

		if (exp > now && key_equal(&b[i], w)) {
			/* Coarse: most packets of a flow write nothing. */
			if (exp - now < FLOWTRACK_TIMEOUT_NS - FLOWTRACK_REFRESH_NS)
				atomic_store_explicit(&b[i].expires, now + FLOWTRACK_TIMEOUT_NS, memory_order_relaxed);
			return FLOWTRACK_NONE;
		}
		if (exp < victim_exp) {          /* empty (0) or expired first, else the oldest */
			victim_exp = exp;
			victim = &b[i];
		}
	}
	ent_write(victim, w, now + FLOWTRACK_TIMEOUT_NS);
	return victim_exp > now ? FLOWTRACK_EVICTED : FLOWTRACK_NEW;
}

static bool bucket_has(const struct flowtrack_ent *b, const uint64_t w[5], uint64_t now)
{
	for (unsigned i = 0; i < FLOWTRACK_WAYS; i++) {
		const struct flowtrack_ent *e = &b[i];
		uint32_t s = atomic_load_explicit(&e->seq, memory_order_acquire);
		bool hit;

		if (s & 1 || atomic_load_explicit(&e->expires, memory_order_relaxed) <= now)
			continue;
		hit = key_equal(e, w);
		atomic_thread_fence(memory_order_acquire);
		if (hit && atomic_load_explicit(&e->seq, memory_order_relaxed) == s)
			return true;
	}
	return false;
}

bool flowtrack_is_reply(const struct flowtrack *ft, const uint8_t *l3, uint32_t len, int family, uint64_t now)
{
	struct flowtrack_key k;
	uint64_t w[5];
	unsigned bucket;

	if (!key_from(&k, l3, len, family, false))
		return false;
	memcpy(w, &k, sizeof(w));
	bucket = bucket_of(ft, w);
	for (unsigned t = 0; t < ft->n; t++)
		if (bucket_has(&ft->tables[t][bucket * FLOWTRACK_WAYS], w, now))
			return true;
	return false;
}
