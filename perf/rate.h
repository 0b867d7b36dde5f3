/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rate.h - the monotonic clock and a token bucket for the traffic tools (wggen, wgsink).
 *
 * The bucket fills at pps tokens per second and holds at most two bursts: enough to absorb
 * a late wake-up, not so much that a sender that fell behind (descheduled on a shared core)
 * catches up with a storm; pps == 0 means unlimited.
 */
#ifndef MG_PERF_RATE_H
#define MG_PERF_RATE_H

#include <stdint.h>
#include <time.h>

static inline uint64_t rate_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

struct rate {
	double pps;       /* 0 = unlimited */
	double tokens;
	unsigned burst;   /* the most one call hands out; the bucket holds two */
	uint64_t last_ns;
};

/* A bucket of bursts no more than ~1 ms apart at the target rate (1..max_burst packets). */
static inline void rate_init(struct rate *r, double pps, unsigned max_burst, uint64_t now)
{
	double b = pps / 1000.0;

	r->pps = pps;
	r->burst = pps == 0 || b >= max_burst ? max_burst : b < 1 ? 1 : (unsigned)b;
	r->tokens = r->burst;
	r->last_ns = now;
}

/* How many packets may go now (0..burst); the caller sends them and calls rate_spend(). */
static inline unsigned rate_allowed(struct rate *r, uint64_t now)
{
	if (r->pps == 0)
		return r->burst;
	r->tokens += (double)(now - r->last_ns) * r->pps / 1e9;
	r->last_ns = now;
	if (r->tokens > 2.0 * r->burst)
		r->tokens = 2.0 * r->burst;
	return r->tokens < 1 ? 0 : r->tokens >= r->burst ? r->burst : (unsigned)r->tokens;
}

static inline void rate_spend(struct rate *r, unsigned n)
{
	if (r->pps != 0)
		r->tokens -= n;
}

/* Nanoseconds until a whole burst is available (0 when unlimited or already there). */
static inline uint64_t rate_wait_ns(const struct rate *r)
{
	if (r->pps == 0 || r->tokens >= r->burst)
		return 0;
	return (uint64_t)((r->burst - r->tokens) * 1e9 / r->pps);
}

#endif
