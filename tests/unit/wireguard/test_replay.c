// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_replay.c - the kernel's counter.c self-test cases (numbered as
 * there), its five window loops, and a differential run against a
 * bit-by-bit reference window.
 */
#include "t.h"
#include "wireguard/replay.h"

static struct replay_counter r;
#define T_LIM (COUNTER_WINDOW_SIZE + 1)


static void kernel_cases(void)
{
	unsigned int i;
	struct { uint64_t n; bool v; } cases[] = {
		/*  1 */ { 0, true },
		/*  2 */ { 1, true },
		/*  3 */ { 1, false },
		/*  4 */ { 9, true },
		/*  5 */ { 8, true },
		/*  6 */ { 7, true },
		/*  7 */ { 7, false },
		/*  8 */ { T_LIM, true },
		/*  9 */ { T_LIM - 1, true },
		/* 10 */ { T_LIM - 1, false },
		/* 11 */ { T_LIM - 2, true },
		/* 12 */ { 2, true },
		/* 13 */ { 2, false },
		/* 14 */ { T_LIM + 16, true },
		/* 15 */ { 3, false },
		/* 16 */ { T_LIM + 16, false },
		/* 17 */ { T_LIM * 4, true },
		/* 18 */ { T_LIM * 4 - (T_LIM - 1), true },
		/* 19 */ { 10, false },
		/* 20 */ { T_LIM * 4 - T_LIM, false },
		/* 21 */ { T_LIM * 4 - (T_LIM + 1), false },
		/* 22 */ { T_LIM * 4 - (T_LIM - 2), true },
		/* 23 */ { T_LIM * 4 + 1 - T_LIM, false },
		/* 24 */ { 0, false },
		/* 25 */ { REJECT_AFTER_MESSAGES, false },
		/* 26 */ { REJECT_AFTER_MESSAGES - 1, true },
		/* 27 */ { REJECT_AFTER_MESSAGES, false },
		/* 28 */ { REJECT_AFTER_MESSAGES - 1, false },
		/* 29 */ { REJECT_AFTER_MESSAGES - 2, true },
		/* 30 */ { REJECT_AFTER_MESSAGES + 1, false },
		/* 31 */ { REJECT_AFTER_MESSAGES + 2, false },
		/* 32 */ { REJECT_AFTER_MESSAGES - 2, false },
		/* 33 */ { REJECT_AFTER_MESSAGES - 3, true },
		/* 34 */ { 0, false },
	};

	replay_init(&r);
	for (i = 0; i < ARRAY_SIZE(cases); ++i) {
		bool got = replay_check(&r, cases[i].n);

		if (got != cases[i].v)
			fprintf(stderr, "kernel case %u: got %d\n", i + 1, got);
		CHECK(got == cases[i].v);
	}
}

static void expect(uint64_t n, bool v)
{
	bool got = replay_check(&r, n);

	if (got != v)
		fprintf(stderr, "loop case n=%llu: got %d\n", (unsigned long long)n, got);
	CHECK(got == v);
}

static void kernel_loops(void)
{
	uint64_t i;

	replay_init(&r);
	for (i = 1; i <= COUNTER_WINDOW_SIZE; ++i)
		expect(i, true);
	expect(0, true);
	expect(0, false);

	replay_init(&r);
	for (i = 2; i <= COUNTER_WINDOW_SIZE + 1; ++i)
		expect(i, true);
	expect(1, true);
	expect(0, false);

	replay_init(&r);
	for (i = COUNTER_WINDOW_SIZE + 1; i-- > 0;)
		expect(i, true);

	replay_init(&r);
	for (i = COUNTER_WINDOW_SIZE + 2; i-- > 1;)
		expect(i, true);
	expect(0, false);

	replay_init(&r);
	for (i = COUNTER_WINDOW_SIZE + 1; i-- > 1;)
		expect(i, true);
	expect(COUNTER_WINDOW_SIZE + 1, true);
	expect(0, false);

	replay_init(&r);
	for (i = COUNTER_WINDOW_SIZE + 1; i-- > 1;)
		expect(i, true);
	expect(0, true);
	expect(COUNTER_WINDOW_SIZE + 1, true);
}

/* Naive reference: one byte per counter ever seen, plus the highest. A
 * counter passes iff it is below the limit, not seen, and at most
 * COUNTER_WINDOW_SIZE below the highest accepted one. */
#define REF_SPAN (1U << 20)
struct ref_window {
	uint8_t *seen;
	bool any;
	uint64_t highest;
};

static bool ref_check(struct ref_window *w, uint64_t n)
{
	if (n >= REF_SPAN)
		abort();
	if (w->any && n + COUNTER_WINDOW_SIZE < w->highest)
		return false;
	if (w->seen[n])
		return false;
	w->seen[n] = 1;
	if (!w->any || n > w->highest)
		w->highest = n;
	w->any = true;
	return true;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void differential(void)
{
	struct ref_window w = { .seen = calloc(REF_SPAN, 1) };
	uint64_t cur = 0, n;
	unsigned int i, mismatches = 0, inorder = 0;

	replay_init(&r);
	for (i = 0; i < 400000 && cur < REF_SPAN - 20000; ++i) {
		switch (rnd() % 8) {
		case 0: /* jump ahead, sometimes past the whole ring */
			cur += rnd() % (rnd() % 4 ? 200 : 9000);
			n = cur;
			break;
		case 2: /* the next in order (the window's fast case), across word boundaries */
		case 3:
			n = w.any ? w.highest + 1 : 0;
			if (n > cur)
				cur = n;
			break;
		case 1: /* near the edge of the window */
			n = cur + 8200 - rnd() % 200;
			n = n > 8200 ? n - 8200 : 0;
			if (n > REF_SPAN - 1)
				n = REF_SPAN - 1;
			break;
		default: /* reorder inside (or just outside) the window */
			n = cur - rnd() % 8300;
			if (n > cur)
				n = rnd() % (cur + 1);
			break;
		}
		inorder += w.any && n == w.highest + 1;
		if (replay_check(&r, n) != ref_check(&w, n))
			++mismatches;
	}
	CHECK(mismatches == 0);
	CHECK(i > 1000);
	CHECK(inorder > 1000);
	free(w.seen);
}

/* In order up to the message limit: the last counter below it passes, the limit does not. */
static void in_order_to_limit(void)
{
	replay_init(&r);
	CHECK(replay_check(&r, REJECT_AFTER_MESSAGES - 3));
	CHECK(replay_check(&r, REJECT_AFTER_MESSAGES - 2));
	CHECK(replay_check(&r, REJECT_AFTER_MESSAGES - 1));
	CHECK(!replay_check(&r, REJECT_AFTER_MESSAGES - 1));
	CHECK(!replay_check(&r, REJECT_AFTER_MESSAGES));
	CHECK(!replay_check(&r, REJECT_AFTER_MESSAGES + 1));
}

/* In order around the ring twice, every bit set on the way: the top entering a word (once per
 * 64) clears what the ring left there, so counters ahead of the top in that word still pass. */
static void in_order_wrap(void)
{
	uint64_t c, end = 2 * COUNTER_BITS_TOTAL + 5 * COUNTER_WORD_BITS;
	unsigned int bad = 0;

	replay_init(&r);
	for (c = 0; c < end; c++)
		bad += !replay_check(&r, c);
	CHECK(bad == 0);
	/* the top is the first bit of a word: ahead of it, in the same word */
	CHECK(replay_check(&r, end + 5));
	CHECK(replay_check(&r, end + 2));
	CHECK(!replay_check(&r, end + 2));
	CHECK(replay_check(&r, end));
	CHECK(!replay_check(&r, end - 1));
}

int main(void)
{
	kernel_cases();
	in_order_to_limit();
	in_order_wrap();
	kernel_loops();
	differential();
	return t_done("replay");
}
