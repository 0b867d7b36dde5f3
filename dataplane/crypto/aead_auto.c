// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_auto.c - which backend is fastest for each burst shape, measured on
 * this CPU at start-up rather than guessed from CPUID: the lane engines win
 * full bursts of short messages by far, but for one or two messages a
 * library's within-message code may beat them, and the balance moves with
 * the CPU (AVX-512 on Zen 4 runs at full clock, on some Intel parts it
 * lowers it). So Crypto = auto is never slower than the best library on
 * any shape it was measured at.
 *
 * Each shape runs seal then open of the same messages (keys and data are
 * not secret: a fixed pattern), every candidate once per trial, trials
 * interleaved so that a noisy neighbour hits all candidates alike; the
 * best of five trials counts, and one of our engines is chosen over a
 * library only when it is more than MARGIN_PCT per cent faster. Small shapes repeat until a trial covers
 * about 16 KiB, so the clock's resolution does not decide.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aead_auto.h"
#include "mg.h"

#define TRIALS 5
#define TRIAL_BYTES 16384
#define MARGIN_PCT 4
#define CAND_MAX 8

const unsigned aead_auto_burst[AEAD_BURST_CLASSES] = { 1, 2, 8, 64 };
const uint32_t aead_auto_size[AEAD_SIZE_CLASSES] = { 64, 128, 256, 512, 1280, 1420 };

#define BUF_LEN (1420 + AEAD_TAG_LEN)

struct calib {
	uint8_t key[AEAD_BURST_MAX][32];
	uint8_t pt[AEAD_BURST_MAX][BUF_LEN];
	uint8_t ct[AEAD_BURST_MAX][BUF_LEN];
	uint8_t out[AEAD_BURST_MAX][BUF_LEN];
	struct aead_op seal[AEAD_BURST_MAX], open[AEAD_BURST_MAX];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	/* CPU time of this thread: a trial during which a neighbour took the
	 * core is not counted as slow */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void calib_shape(struct calib *c, uint32_t len)
{
	for (unsigned i = 0; i < AEAD_BURST_MAX; i++) {
		c->seal[i] = (struct aead_op){ .key = c->key[i], .counter = 1000 + i,
					       .src = c->pt[i], .dst = c->ct[i], .len = len };
		c->open[i] = (struct aead_op){ .key = c->key[i], .counter = 1000 + i,
					       .src = c->ct[i], .dst = c->out[i], .len = len };
	}
}

/* Nanoseconds for reps rounds of seal + open of n messages. */
static uint64_t time_one(const struct aead_backend *b, struct calib *c, unsigned n,
			 unsigned reps)
{
	uint64_t t0 = now_ns();

	for (unsigned r = 0; r < reps; r++) {
		b->seal(c->seal, n);
		b->open(c->open, n);
	}
	return now_ns() - t0;
}

static unsigned fastest(const struct aead_backend *cand, unsigned ncand, struct calib *c,
			unsigned n, uint32_t len)
{
	uint64_t best[CAND_MAX];
	unsigned reps = TRIAL_BYTES / (n * len) + 1, win = 0;
	int lib = -1;

	calib_shape(c, len);
	for (unsigned k = 0; k < ncand; k++) {
		time_one(&cand[k], c, n, 1); /* warm-up: caches, per-thread state */
		best[k] = UINT64_MAX;
	}
	for (unsigned t = 0; t < TRIALS; t++)
		for (unsigned k = 0; k < ncand; k++) {
			uint64_t ns = time_one(&cand[k], c, n, reps);

			if (ns < best[k])
				best[k] = ns;
		}
	for (unsigned k = 0; k < ncand; k++) {
		if (best[k] < best[win])
			win = k;
		if (cand[k].library && (lib < 0 || best[k] < best[lib]))
			lib = (int)k;
	}
	/* our engine must beat the best library by more than the trials'
	 * noise; at a near tie the library runs, so noise cannot make auto
	 * slower than it */
	if (lib >= 0 && !cand[win].library && best[win] * (100 + MARGIN_PCT) > best[lib] * 100)
		win = (unsigned)lib;
	return win;
}

int aead_auto_calibrate(const struct aead_backend *cand, unsigned ncand,
			uint8_t choice[AEAD_BURST_CLASSES][AEAD_SIZE_CLASSES])
{
	struct calib *c;

	if (ncand > CAND_MAX)
		ncand = CAND_MAX;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (unsigned i = 0; i < AEAD_BURST_MAX; i++) {
		memset(c->key[i], (int)(i + 1), sizeof(c->key[i]));
		memset(c->pt[i], (int)(3 * i), sizeof(c->pt[i]));
	}
	for (unsigned b = 0; b < AEAD_BURST_CLASSES; b++)
		for (unsigned s = 0; s < AEAD_SIZE_CLASSES; s++)
			choice[b][s] = (uint8_t)fastest(cand, ncand, c, aead_auto_burst[b],
							aead_auto_size[s]);
	free(c);
	return 0;
}
