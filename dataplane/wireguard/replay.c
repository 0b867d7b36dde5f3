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

static void replay_advance(struct replay_counter *r, uint64_t pos)
{
	uint64_t word = pos / COUNTER_WORD_BITS;
	uint64_t cur = r->next / COUNTER_WORD_BITS;
	uint64_t skipped = word - cur, i;

	if (skipped > REPLAY_WORDS)
		skipped = REPLAY_WORDS;
	for (i = 1; i <= skipped; ++i)
		r->bitmap[(cur + i) & (REPLAY_WORDS - 1)] = 0;
	r->next = pos;
}

bool replay_check(struct replay_counter *r, uint64_t counter)
{
	uint64_t pos, bit, *word;

	if (unlikely(counter >= REJECT_AFTER_MESSAGES))
		return false;
	pos = counter + 1; /* cannot overflow: counter < UINT64_MAX - 8129 */
	if (unlikely(pos + COUNTER_WINDOW_SIZE < r->next))
		return false; /* too far behind the window */
	if (likely(pos > r->next))
		replay_advance(r, pos);

	word = &r->bitmap[(pos / COUNTER_WORD_BITS) & (REPLAY_WORDS - 1)];
	bit = 1ULL << (pos % COUNTER_WORD_BITS);
	if (*word & bit)
		return false;
	*word |= bit;
	return true;
}
