// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_derp_home.c - the home-region rule (control/derp/derp_home_rule.c) on latency tables, and the
 * ServerInfo token bucket (control/derp_bucket.c) against a naive per-nanosecond reference.
 *
 * The expected homes follow tailscaled's rule as stated in derp_home_rule.h (tailscale/tailscale
 * net/netcheck/netcheck.go addReportHistoryAndSetPreferredDERP): lowest 5-minute best among
 * regions answering now; the old home stays unless the winner's best is at most 2/3 of the old
 * home's current round trip.
 */
#include <stdio.h>
#include <string.h>
#include "derp_bucket.h"
#include "derp_home_rule.h"

static unsigned checks, failures;
#define CHECK(c) do { checks++; if (!(c)) { failures++; fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); } } while (0)

#define MS(x) ((uint64_t)(x) * 1000000ull)
#define S(x)  ((uint64_t)(x) * 1000000000ull)

/* Region lines: id, eligible, down, best ms, current ms (0 = none). */
struct pick_case {
	const char *what;
	int cur;
	struct { int id, eligible, down, best, now; } r[4];
	int want;
};

static const struct pick_case pick_cases[] = {
	{ "1 no STUN answer at all: lowest id (today's rule)", 0,
	  { { 902, 1, 0, 0, 0 }, { 900, 1, 0, 0, 0 }, { 901, 1, 0, 0, 0 } }, 900 },
	{ "2 no STUN answer: an existing home is kept", 901,
	  { { 900, 1, 0, 0, 0 }, { 901, 1, 0, 0, 0 } }, 901 },
	{ "3 first answers: fastest wins over the lowest id", 900,
	  { { 900, 1, 0, 80, 80 }, { 901, 1, 0, 5, 5 } }, 901 },
	{ "4 a region without an answer is not preferred over one with", 900,
	  { { 900, 1, 0, 0, 0 }, { 901, 1, 0, 50, 50 } }, 901 },
	{ "5 hysteresis: 40 vs old 50 (not < 2/3) keeps the old home", 900,
	  { { 900, 1, 0, 45, 50 }, { 901, 1, 0, 40, 40 } }, 900 },
	{ "6 hysteresis: 33 vs old 50 (2/3 = 33.3) moves", 900,
	  { { 900, 1, 0, 45, 50 }, { 901, 1, 0, 33, 33 } }, 901 },
	{ "7 challenger's 5-minute best vs the old home's current RTT (35 < 2/3 of 60)", 900,
	  { { 900, 1, 0, 45, 60 }, { 901, 1, 0, 35, 70 } }, 901 },
	{ "7b the old home's own 5-minute best races too", 900,
	  { { 900, 1, 0, 10, 60 }, { 901, 1, 0, 30, 30 } }, 900 },
	{ "8 an old home that stopped answering does not hold on", 900,
	  { { 900, 1, 0, 10, 0 }, { 901, 1, 0, 40, 40 } }, 901 },
	{ "9 ineligible (STUN-only, NoMeasureNoHome) never home even if fastest", 0,
	  { { 900, 1, 0, 50, 50 }, { 901, 0, 0, 1, 1 } }, 900 },
	{ "10 fail-over: the down home is replaced by the next best", 901,
	  { { 900, 1, 0, 80, 80 }, { 901, 1, 1, 5, 5 }, { 902, 1, 0, 60, 60 } }, 902 },
	{ "11 fail-over order without answers: lowest id still up", 900,
	  { { 900, 1, 1, 0, 0 }, { 901, 1, 0, 0, 0 }, { 902, 1, 0, 0, 0 } }, 901 },
	{ "12 fail-over skips an answering region that cannot be home", 900,
	  { { 900, 1, 1, 5, 5 }, { 901, 0, 0, 6, 6 }, { 902, 1, 0, 70, 70 } }, 902 },
	{ "13 back and clearly better: return (5 < 2/3 of 80)", 902,
	  { { 900, 1, 0, 5, 5 }, { 902, 1, 0, 80, 80 } }, 900 },
	{ "14 back but not clearly better: stay (60 vs 80)", 902,
	  { { 900, 1, 0, 60, 60 }, { 902, 1, 0, 80, 80 } }, 902 },
	{ "15 everything down or ineligible: 0 (the caller keeps its home)", 900,
	  { { 900, 1, 1, 5, 5 }, { 901, 0, 0, 5, 5 } }, 0 },
	{ "16 equal latencies: lower id, and no move away from a current home", 0,
	  { { 901, 1, 0, 20, 20 }, { 900, 1, 0, 20, 20 } }, 900 },
	{ "17 equal latencies with home 901: stays", 901,
	  { { 900, 1, 0, 20, 20 }, { 901, 1, 0, 20, 20 } }, 901 },
	{ "18 current home removed from the map: best of the rest", 905,
	  { { 900, 1, 0, 30, 30 }, { 901, 1, 0, 20, 20 } }, 901 },
};

static void test_pick(void)
{
	for (size_t i = 0; i < sizeof(pick_cases) / sizeof(pick_cases[0]); i++) {
		const struct pick_case *pc = &pick_cases[i];
		struct derp_home_cand c[4];
		size_t n = 0;
		int got;

		for (; n < 4 && pc->r[n].id; n++)
			c[n] = (struct derp_home_cand){ .id = pc->r[n].id, .eligible = pc->r[n].eligible,
				.down = pc->r[n].down, .best_ns = MS(pc->r[n].best), .cur_ns = MS(pc->r[n].now) };
		got = derp_home_pick(c, n, pc->cur);
		CHECK(got == pc->want);
		if (got != pc->want)
			fprintf(stderr, "  case %s: got %d, want %d\n", pc->what, got, pc->want);
	}
}

static void test_lat(void)
{
	struct derp_lat l;
	uint64_t t = S(1000);

	memset(&l, 0, sizeof(l));
	CHECK(derp_lat_best(&l, t) == 0 && derp_lat_current(&l, t) == 0);
	derp_lat_add(&l, MS(40), t);
	CHECK(derp_lat_best(&l, t) == MS(40) && derp_lat_current(&l, t) == MS(40));
	derp_lat_add(&l, MS(10), t + S(23));
	derp_lat_add(&l, MS(30), t + S(46));
	CHECK(derp_lat_best(&l, t + S(46)) == MS(10));           /* best of 5 min */
	CHECK(derp_lat_current(&l, t + S(46)) == MS(30));        /* latest */
	CHECK(derp_lat_current(&l, t + S(46) + DERP_LAT_FRESH_NS) == MS(30));
	CHECK(derp_lat_current(&l, t + S(46) + DERP_LAT_FRESH_NS + 1) == 0);   /* two rounds lost */
	/* The 10 ms sample ages out of the 5-minute window; 30 ms is then the best. */
	CHECK(derp_lat_best(&l, t + S(23) + DERP_LAT_MAX_AGE_NS + 1) == MS(30));
	CHECK(derp_lat_best(&l, t + S(46) + DERP_LAT_MAX_AGE_NS + 1) == 0);
	/* The ring overwrites the oldest: 20 more samples of 50 ms forget the 10 ms one. */
	for (int i = 0; i < 20; i++)
		derp_lat_add(&l, MS(50), t + S(50 + i));
	CHECK(derp_lat_best(&l, t + S(70)) == MS(50));
	/* A round trip below the clock's grain still is an answer. */
	memset(&l, 0, sizeof(l));
	derp_lat_add(&l, 0, t);
	CHECK(derp_lat_current(&l, t) != 0);
}

/* Naive reference: tokens added nanosecond by nanosecond would be too slow; step by 1 us. */
static void test_bucket(void)
{
	struct derp_bucket b;
	uint64_t t = S(5), sent = 0, offered = 0;
	unsigned denied = 0;
	bool all = true;

	derp_bucket_set(&b, 0, 0, t);
	for (int i = 0; i < 1000; i++)
		all &= derp_bucket_take(&b, 65536, t);
	CHECK(all);                                              /* no limit */

	/* 10 kB/s, burst 3000: starts full, 3 x 1000 pass, the 4th not. */
	derp_bucket_set(&b, 10000, 3000, t);
	CHECK(derp_bucket_take(&b, 1000, t) && derp_bucket_take(&b, 1000, t) && derp_bucket_take(&b, 1000, t));
	CHECK(!derp_bucket_take(&b, 1000, t));
	CHECK(!derp_bucket_take(&b, 1000, t + MS(99)));          /* 990 B refilled */
	CHECK(derp_bucket_take(&b, 1000, t + MS(100)));          /* 1000 B */
	CHECK(!derp_bucket_take(&b, 3001, t + S(100)));          /* larger than the burst: never */
	CHECK(derp_bucket_take(&b, 3000, t + S(100)));           /* refilled only to the burst */
	CHECK(!derp_bucket_take(&b, 1, t + S(100)));

	/* A flood of 1200 B frames every 1 ms for 10 s: what passes is rate * time + burst at most,
	 * and at least rate * time - one frame (nothing is lost to rounding). */
	derp_bucket_set(&b, 50000, 16000, t);
	for (uint64_t k = 0; k <= 10000; k++) {
		offered += 1200;
		if (derp_bucket_take(&b, 1200, t + MS(k)))
			sent += 1200;
		else
			denied++;
	}
	CHECK(sent <= 50000ull * 10 + 16000);
	CHECK(sent + 1200 >= 50000ull * 10 + 16000 - 1200);
	CHECK(denied > 0 && sent < offered);
	/* The clock going backwards (it cannot, but) does not mint tokens. */
	derp_bucket_set(&b, 1000, 1000, t);
	CHECK(derp_bucket_take(&b, 1000, t));
	CHECK(!derp_bucket_take(&b, 1, t - S(1)));
}

int main(void)
{
	test_pick();
	test_lat();
	test_bucket();
	printf("test_derp_home: %u checks, %u failures\n", checks, failures);
	return failures ? 1 : 0;
}
