// SPDX-License-Identifier: GPL-2.0-only
/*
 * derp_bucket.c - the server-requested send limit (see derp_bucket.h). Tokens are bytes, kept
 * as a double so any rate (1 B/s .. many GB/s) refills smoothly from nanosecond clock steps.
 */
#include "derp_bucket.h"

void derp_bucket_set(struct derp_bucket *b, uint64_t rate, uint64_t burst, uint64_t now)
{
	b->rate = rate;
	b->burst = burst;
	b->tokens = (double)burst;
	b->last_ns = now;
}

bool derp_bucket_take(struct derp_bucket *b, uint64_t bytes, uint64_t now)
{
	if (!b->rate)
		return true;
	if (now > b->last_ns) {
		b->tokens += (double)(now - b->last_ns) * (double)b->rate / 1e9;
		if (b->tokens > (double)b->burst)
			b->tokens = (double)b->burst;
		b->last_ns = now;
	}
	if ((double)bytes > b->tokens)
		return false;
	b->tokens -= (double)bytes;
	return true;
}
