// SPDX-License-Identifier: GPL-2.0-only
/*
 * replay.c - RFC 6479 anti-replay window without bit shifting.
 *
 * The window is a ring of 64-bit words. Moving the window forward only
 * zeroes the words that the new top skipped over, so the cost of a jump is
 * bounded by the ring size, never by the jump. Bits are indexed by
 * counter + 1, so that next == 0 can mean "empty" and counter 0 is an
 * ordinary value. Every counter in [highest - COUNTER_WINDOW_SIZE, highest]
 * is decided exactly; the 64 extra bits of the ring are the slack that lets
 * the current top word share the ring with the oldest word.
 */
#include "wireguard/replay.h"

#include <string.h>

static_assert((REPLAY_WORDS & (REPLAY_WORDS - 1)) == 0, "ring is a power of two");

void replay_init(struct replay_counter *r)
{
	memset(r, 0, sizeof(*r));
}

/* The top moves from r->next to pos, into another word: the words it skipped over are
 * cleared (at most the whole ring). */
void replay_advance_words(struct replay_counter *r, uint64_t pos)
{
	uint64_t word = pos / COUNTER_WORD_BITS;
	uint64_t cur = r->next / COUNTER_WORD_BITS;
	uint64_t skipped = word - cur, i;

	if (skipped > REPLAY_WORDS)
		skipped = REPLAY_WORDS;
	for (i = 1; i <= skipped; ++i)
		r->bitmap[(cur + i) & (REPLAY_WORDS - 1)] = 0;
}
