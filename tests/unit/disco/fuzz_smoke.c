// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_smoke.c - a short deterministic run of fuzz_disco.c without libFuzzer, for the test
 * suite: seeds (the known-answer inputs of both unit tests) mutated by flips, cuts and
 * insertions from a fixed-seed xorshift, -n iterations (default 200000).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const seeds[] = {
	"00" "0101000c2112a4422360b11e3ec68ffa93e08007002000080001c7866957856f",
	"00" "010100242112a442ebc2d36ef471217c4f3e308e8022000a656e64706f696e746572000000200008"
	     "0001ce665e12a44380280004b699bb02",
	"01" "0100010203040506070809" "0a0b0c000102",
	"01" "0200010203040506070809" "0a0b0c00000000000000000000ffff0203040504d2",
	"01" "0300000000000000000000" "00ffff0102030402372001000000000000000000000034560315",
	"02" "0100010203040506070809" "0a0b0c",
	"02" "0200010203040506070809" "0a0b0c00000000000000000000ffff0203040504d2",
	"02" "0300000000000000000000" "00ffff0102030402372001000000000000000000000034560315",
	"03" "5453f09f92ac5869aff450549732cbaaed5e5df9b30a6da31cb0e5742bad5ad4a1a768f1a67b",
};

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static size_t unhex(uint8_t *out, const char *h)
{
	size_t n = 0;
	unsigned v;

	for (; *h; h++) {
		if (*h == ' ')
			continue;
		if (sscanf(h, "%2x", &v) != 1)
			abort();
		out[n++] = (uint8_t)v;
		h++;
	}
	return n;
}

int main(int argc, char **argv)
{
	long iters = argc > 2 && !strcmp(argv[1], "-n") ? atol(argv[2]) : 200000;
	uint8_t buf[512];

	for (long i = 0; i < iters; i++) {
		size_t n = unhex(buf, seeds[i % (long)(sizeof(seeds) / sizeof(seeds[0]))]);
		unsigned k = 1 + (unsigned)(next() % 4);

		while (k--) {
			uint64_t r = next();
			size_t at = 1 + (size_t)(r >> 8) % (n > 1 ? n - 1 : 1);

			switch (r & 3) {
			case 0: if (at < n) buf[at] ^= (uint8_t)(1u << (r >> 40) % 8); break;
			case 1: if (at < n) buf[at] = (uint8_t)(r >> 48); break;
			case 2: n = at; break;                                     /* cut */
			case 3: if (n < sizeof(buf) - 18) n += 18 * ((r >> 32) % 3); break;  /* grow */
			}
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("fuzz_smoke_disco: %ld inputs, no invariant broken\n", iters);
	return 0;
}
