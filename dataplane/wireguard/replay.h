/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * replay.h - receive-side nonce replay window (RFC 6479).
 *
 * One per keypair. Single writer: the caller serialises replay_check()
 * (the worker that owns the keypair's receive direction).
 */
#ifndef MG_WG_REPLAY_H
#define MG_WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>
#include "wireguard/messages.h"

#define REPLAY_WORDS (COUNTER_BITS_TOTAL / COUNTER_WORD_BITS)

struct replay_counter {
	/* highest accepted counter + 1; 0 = nothing accepted yet */
	uint64_t next;
	/* ring of REPLAY_WORDS words; bit (c+1) mod 8192 marks counter c seen */
	uint64_t bitmap[REPLAY_WORDS];
};

void replay_init(struct replay_counter *r);

/* true when counter is fresh (and marks it seen); false for a replay, a
 * counter more than COUNTER_WINDOW_SIZE behind the highest one, or
 * counter >= REJECT_AFTER_MESSAGES. */
void replay_advance_words(struct replay_counter *r, uint64_t pos);

/*
 * Whether counter is new (then marked seen) or a replay / outside the window. Inline: every
 * packet received asks; the top moving into another word, once per 64 in-order packets, clears
 * the skipped words out of line.
 */
static inline bool replay_check(struct replay_counter *r, uint64_t counter)
{
	uint64_t pos, bit, *word;

	if (__builtin_expect(counter >= REJECT_AFTER_MESSAGES, 0))
		return false;
	pos = counter + 1; /* cannot overflow: counter < UINT64_MAX - 8129 */
	/*
	 * In order (most traffic): the counter right after the highest one, whose bit is in the
	 * top word. It is new: the top word was cleared when the top entered it, and only bits at
	 * or below the top are ever set. What the general case below does for it, without its
	 * tests.
	 */
	if (__builtin_expect(counter == r->next && pos % COUNTER_WORD_BITS, 1)) {
		r->bitmap[(pos / COUNTER_WORD_BITS) & (REPLAY_WORDS - 1)] |= 1ULL << (pos % COUNTER_WORD_BITS);
		r->next = pos;
		return true;
	}
	if (__builtin_expect(pos + COUNTER_WINDOW_SIZE < r->next, 0))
		return false; /* too far behind the window */
	if (__builtin_expect(pos > r->next, 1)) {
		if (pos / COUNTER_WORD_BITS != r->next / COUNTER_WORD_BITS)
			replay_advance_words(r, pos);
		r->next = pos;
	}
	word = &r->bitmap[(pos / COUNTER_WORD_BITS) & (REPLAY_WORDS - 1)];
	bit = 1ULL << (pos % COUNTER_WORD_BITS);
	if (*word & bit)
		return false;
	*word |= bit;
	return true;
}

#endif
