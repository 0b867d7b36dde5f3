// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_ratelimiter.c - the kernel selftest's timing table and capacity
 * test, replayed on an injected clock, plus the /64 grouping and GC.
 */
#include "t.h"
#include "wireguard/ratelimiter.h"
#include "mg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>

#define COST (NSEC_PER_SEC / RATELIMITER_PACKETS_PER_SECOND)

static const struct {
	bool result;
	uint64_t sleep_before_ns;
} expected[] = {
	{ true, 0 }, { true, 0 }, { true, 0 }, { true, 0 }, { true, 0 }, /* burst */
	{ false, 0 },
	{ true, COST },
	{ false, 0 },
	{ true, COST * 2 },
	{ true, 0 },
	{ false, 0 },
};

static void set_v4(uint8_t a[4], uint32_t host)
{
	uint32_t be = htonl(host);

	memcpy(a, &be, 4);
}

/* Like the kernel: a fixed v4 and v6 source follow the table, while a
 * fresh neighbour address at each step is always allowed. The v6 sources
 * vary only in their low 64 bits, so they share one bucket. */
static void test_timings(void)
{
	struct ratelimiter rl;
	uint8_t v4[4], other4[4], v6[16] = { 0 }, other6[16];
	uint64_t now = 77 * NSEC_PER_SEC;
	uint32_t w;
	size_t i;

	CHECK(ratelimiter_init(&rl, RATELIMITER_DEFAULT_MAX_ENTRIES) == 0);
	set_v4(v4, 8182);
	w = htonl(1212);
	memcpy(v6, &w, 4);
	w = htonl(289188);
	memcpy(v6 + 4, &w, 4);
	for (i = 0; i < ARRAY_SIZE(expected); ++i) {
		now += expected[i].sleep_before_ns;
		CHECK(ratelimiter_allow(&rl, AF_INET, v4, now) == expected[i].result);
		set_v4(other4, 8182 + (uint32_t)i + 1);
		CHECK(ratelimiter_allow(&rl, AF_INET, other4, now));

		w = htonl((uint32_t)i);
		memcpy(v6 + 8, &w, 4);
		memcpy(v6 + 12, &w, 4);
		CHECK(ratelimiter_allow(&rl, AF_INET6, v6, now) == expected[i].result);
		memcpy(other6, v6, 16);
		w = htonl(1212 + (uint32_t)i + 1);
		memcpy(other6, &w, 4);
		CHECK(ratelimiter_allow(&rl, AF_INET6, other6, now));
	}
	/* a long idle refills only up to the burst */
	now += 10 * NSEC_PER_SEC;
	for (i = 0; i < RATELIMITER_PACKETS_BURSTABLE; ++i)
		CHECK(ratelimiter_allow(&rl, AF_INET, v4, now));
	CHECK(!ratelimiter_allow(&rl, AF_INET, v4, now));
	/* a clock that steps back grants nothing */
	CHECK(!ratelimiter_allow(&rl, AF_INET, v4, now - NSEC_PER_SEC));
	CHECK(!ratelimiter_allow(&rl, 12345, v4, now));
	ratelimiter_uninit(&rl);
}

static void test_capacity_and_gc(void)
{
	struct ratelimiter rl;
	uint8_t a[4];
	uint32_t i, max = RATELIMITER_DEFAULT_MAX_ENTRIES;
	uint64_t now = NSEC_PER_SEC;
	bool all_ok = true;

	CHECK(ratelimiter_init(&rl, 0) == -EINVAL);
	CHECK(ratelimiter_init(&rl, max) == 0);
	for (i = 0; i <= max; ++i) {
		set_v4(a, i);
		if (ratelimiter_allow(&rl, AF_INET, a, now) != (i != max))
			all_ok = false;
	}
	CHECK(all_ok);
	CHECK(rl.entries == max);

	/* entries idle for up to 1 s survive GC; older ones go */
	set_v4(a, 3);
	CHECK(ratelimiter_allow(&rl, AF_INET, a, now + NSEC_PER_SEC / 2));
	ratelimiter_gc(&rl, now + NSEC_PER_SEC);
	CHECK(rl.entries == max);
	ratelimiter_gc(&rl, now + NSEC_PER_SEC + 1);
	CHECK(rl.entries == 1);
	ratelimiter_gc(&rl, now + 2 * NSEC_PER_SEC);
	CHECK(rl.entries == 0);
	/* room again; a collected source starts with a fresh burst */
	set_v4(a, max);
	CHECK(ratelimiter_allow(&rl, AF_INET, a, now + 3 * NSEC_PER_SEC));
	ratelimiter_uninit(&rl);
	ratelimiter_uninit(&rl); /* idempotent */
}

int main(void)
{
	test_timings();
	test_capacity_and_gc();
	return t_done("ratelimiter");
}
