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
bool replay_check(struct replay_counter *r, uint64_t counter);

#endif
