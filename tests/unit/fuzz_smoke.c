// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_smoke.c - a short deterministic run of a libFuzzer target without libFuzzer, for the test
 * suites that have no clang: the target's seeds (fuzz_smoke_seeds, hex, spaces ignored) each once
 * as they are, then mutated by bit flips, byte sets, cuts and growth from a fixed-seed xorshift,
 * -n iterations (default 100000). Byte 0 is never mutated: the targets use it to pick a parser.
 * The target's own assertions abort on a broken invariant; the sanitizer builds catch the rest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_smoke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t unhex(uint8_t *out, size_t cap, const char *h)
{
	size_t n = 0;
	unsigned v;

	for (; *h; h += 2) {
		while (*h == ' ')
			h++;
		if (!*h)
			break;
		if (n == cap || sscanf(h, "%2x", &v) != 1)
			abort();
		out[n++] = (uint8_t)v;
	}
	return n;
}

static size_t mutate(uint8_t *buf, size_t cap, size_t n)
{
	for (unsigned k = 1 + (unsigned)(next() % 4); k--;) {
		uint64_t r = next();
		size_t at = 1 + (size_t)(r >> 8) % (n > 1 ? n - 1 : 1);

		switch (r & 3) {
		case 0: if (at < n) buf[at] ^= (uint8_t)(1u << (r >> 40) % 8); break;
		case 1: if (at < n) buf[at] = (uint8_t)(r >> 48); break;
		case 2: n = at; break;                                                   /* cut */
		case 3: if (n + 37 <= cap) { memset(buf + n, (int)(r >> 24), 37); n += 37; } break;  /* grow */
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	long iters = argc > 2 && !strcmp(argv[1], "-n") ? atol(argv[2]) : 100000;
	static uint8_t buf[1024];

	for (long i = 0; i < iters; i++) {
		size_t n = unhex(buf, sizeof(buf), fuzz_smoke_seeds[i % (long)fuzz_smoke_nseeds]);

		if (i >= (long)fuzz_smoke_nseeds)
			n = mutate(buf, sizeof(buf), n);
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("%s: %ld inputs, no invariant broken\n", fuzz_smoke_name, iters);
	return 0;
}
