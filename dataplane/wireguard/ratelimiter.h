/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ratelimiter.h - per-source token bucket for handshakes under load.
 *
 * Kernel ratelimiter.c semantics: 20 packets/s with a burst of 5, keyed by
 * the IPv4 source address or the IPv6 source /64. Single-threaded (control
 * thread only) with an injected monotonic clock, so the caller schedules
 * ratelimiter_gc() about once a second.
 */
#ifndef MG_WG_RATELIMITER_H
#define MG_WG_RATELIMITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMITER_PACKETS_PER_SECOND 20
#define RATELIMITER_PACKETS_BURSTABLE 5
#define RATELIMITER_GC_INTERVAL_NS 1000000000ULL
/* kernel default on hosts with more than 1 GiB: 8192 buckets x 8 */
#define RATELIMITER_DEFAULT_MAX_ENTRIES 65536

struct ratelimiter_entry;

struct ratelimiter {
	struct ratelimiter_entry **buckets;
	size_t nbuckets;      /* power of two */
	size_t max_entries;   /* new sources beyond this are refused */
	size_t entries;
	uint8_t hash_key[16]; /* SipHash key: sources cannot aim at one bucket */
};

/* 0 or -ENOMEM / -EINVAL (max_entries == 0). */
int ratelimiter_init(struct ratelimiter *rl, size_t max_entries);
void ratelimiter_uninit(struct ratelimiter *rl);

/* family AF_INET (addr 4 bytes) or AF_INET6 (addr 16 bytes, only the /64
 * counts). Unknown family or a full table: false. */
bool ratelimiter_allow(struct ratelimiter *rl, int family, const uint8_t *addr,
		       uint64_t now_ns);

/* Drops entries idle for more than a second. */
void ratelimiter_gc(struct ratelimiter *rl, uint64_t now_ns);

#endif
