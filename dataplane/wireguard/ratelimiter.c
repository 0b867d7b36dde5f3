// SPDX-License-Identifier: GPL-2.0-only
/*
 * ratelimiter.c - token buckets in a chained hash table.
 *
 * Tokens are measured in nanoseconds: a packet costs 1 s / 20 and a bucket
 * holds at most five packets' worth. Elapsed time refills the bucket. A new
 * source starts full minus the packet that created it, so a burst of 5
 * passes and the 6th is refused (kernel selftest table).
 */
#include "wireguard/ratelimiter.h"
#include "mg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sodium.h>

#define PACKET_COST (NSEC_PER_SEC / RATELIMITER_PACKETS_PER_SECOND)
#define TOKEN_MAX (PACKET_COST * RATELIMITER_PACKETS_BURSTABLE)

struct ratelimiter_entry {
	struct ratelimiter_entry *next;
	uint64_t last_time_ns, tokens;
	uint8_t family;
	uint8_t ip[8]; /* IPv4 address or IPv6 /64 prefix */
};

static size_t roundup_pow2(size_t v)
{
	size_t p = 16;

	while (p < v)
		p <<= 1;
	return p;
}

int ratelimiter_init(struct ratelimiter *rl, size_t max_entries)
{
	memset(rl, 0, sizeof(*rl));
	if (!max_entries)
		return -EINVAL;
	/* same load as the kernel: eight entries per bucket at the cap */
	rl->nbuckets = roundup_pow2(max_entries / 8);
	rl->buckets = calloc(rl->nbuckets, sizeof(*rl->buckets));
	if (!rl->buckets)
		return -ENOMEM;
	rl->max_entries = max_entries;
	randombytes_buf(rl->hash_key, sizeof(rl->hash_key));
	return 0;
}

static void ratelimiter_free_all(struct ratelimiter *rl)
{
	size_t i;

	for (i = 0; i < rl->nbuckets; ++i) {
		while (rl->buckets[i]) {
			struct ratelimiter_entry *e = rl->buckets[i];

			rl->buckets[i] = e->next;
			free(e);
		}
	}
	rl->entries = 0;
}

void ratelimiter_uninit(struct ratelimiter *rl)
{
	if (!rl->buckets)
		return;
	ratelimiter_free_all(rl);
	free(rl->buckets);
	memset(rl, 0, sizeof(*rl));
}

static struct ratelimiter_entry **bucket_of(struct ratelimiter *rl, uint8_t family,
					    const uint8_t ip[8])
{
	uint8_t in[9], h[crypto_shorthash_BYTES];
	uint64_t v;

	in[0] = family;
	memcpy(in + 1, ip, 8);
	crypto_shorthash(h, in, sizeof(in), rl->hash_key);
	memcpy(&v, h, sizeof(v));
	return &rl->buckets[v & (rl->nbuckets - 1)];
}

static bool entry_take(struct ratelimiter_entry *e, uint64_t now_ns)
{
	uint64_t elapsed = now_ns > e->last_time_ns ? now_ns - e->last_time_ns : 0;
	uint64_t tokens = elapsed >= TOKEN_MAX ? TOKEN_MAX : e->tokens + elapsed;

	if (tokens > TOKEN_MAX)
		tokens = TOKEN_MAX;
	if (now_ns > e->last_time_ns)
		e->last_time_ns = now_ns;
	if (tokens < PACKET_COST) {
		e->tokens = tokens;
		return false;
	}
	e->tokens = tokens - PACKET_COST;
	return true;
}

bool ratelimiter_allow(struct ratelimiter *rl, int family, const uint8_t *addr,
		       uint64_t now_ns)
{
	struct ratelimiter_entry **head, *e;
	uint8_t ip[8] = { 0 };

	if (family == AF_INET)
		memcpy(ip, addr, 4);
	else if (family == AF_INET6)
		memcpy(ip, addr, 8); /* one bucket per /64: a host owns at least that */
	else
		return false;

	head = bucket_of(rl, (uint8_t)family, ip);
	for (e = *head; e; e = e->next)
		if (e->family == family && !memcmp(e->ip, ip, sizeof(ip)))
			return entry_take(e, now_ns);

	if (rl->entries >= rl->max_entries)
		return false; /* refuse rather than evict: evicting would reset a bucket */
	e = malloc(sizeof(*e));
	if (!e)
		return false;
	e->family = (uint8_t)family;
	memcpy(e->ip, ip, sizeof(ip));
	e->last_time_ns = now_ns;
	e->tokens = TOKEN_MAX - PACKET_COST;
	e->next = *head;
	*head = e;
	++rl->entries;
	return true;
}

void ratelimiter_gc(struct ratelimiter *rl, uint64_t now_ns)
{
	size_t i;

	for (i = 0; i < rl->nbuckets; ++i) {
		struct ratelimiter_entry **pp = &rl->buckets[i];

		while (*pp) {
			struct ratelimiter_entry *e = *pp;

			if (now_ns - e->last_time_ns > NSEC_PER_SEC) {
				*pp = e->next;
				free(e);
				--rl->entries;
			} else {
				pp = &e->next;
			}
		}
	}
}
