// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_smoke_derp.c - a short deterministic run of fuzz_derp.c without libFuzzer, for suite
 * 'derp': seeds (a valid handshake alone and followed by RecvPacket, Ping, Health, PeerGone, an
 * unknown frame; a refused upgrade; a DERPMap) mutated by flips, byte sets, cuts and growth from a
 * fixed-seed xorshift, -n iterations (default 100000). The mode byte is never mutated.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const seeds[] = {
	"01" "",
	"01" "0500000024ababababababababababababababababababababababababababababababababdeadbeef12000000080102030405060708",
	"3d" "120000000801020304050607080500000024ababababababababababababababababababababababababababababababababdeadbeef",
	"05" "140000000361626306000000000800000021abababababababababababababababababababababababababababababababab01",
	"07" "7f00000064000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000500000024ababababababababababababababababababababababababababababababababdeadbeef",
	"02" "485454502f312e312031303120780d0a0d0a010000002844455250f09f9491abababababababababababababababababababababababababababababababab",
	"04" "485454502f312e312034303020780d0a0d0a",
	"00" "7b22393030223a7b22526567696f6e4944223a3930302c224e6f646573223a5b7b224e616d65223a2261222c22486f73744e616d65223a22642e74657374222c2249507634223a22312e322e332e34222c2244455250506f7274223a383434332c225354554e506f7274223a2d312c22436572744e616d65223a227368613235362d7261773a3030222c22496e736563757265466f725465737473223a747275657d5d7d7d",
};

static uint64_t rng = 0x2545f4914f6cdd1dull;
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

	for (; *h; h += 2) {
		if (sscanf(h, "%2x", &v) != 1)
			abort();
		out[n++] = (uint8_t)v;
	}
	return n;
}

int main(int argc, char **argv)
{
	long iters = argc > 2 && !strcmp(argv[1], "-n") ? atol(argv[2]) : 100000;
	static uint8_t buf[1024];

	for (long i = 0; i < iters; i++) {
		size_t n = unhex(buf, seeds[i % (long)(sizeof(seeds) / sizeof(seeds[0]))]);
		unsigned k = i < (long)(sizeof(seeds) / sizeof(seeds[0])) ? 0 : 1 + (unsigned)(next() % 4);

		while (k--) {
			uint64_t r = next();
			size_t at = 1 + (size_t)(r >> 8) % (n > 1 ? n - 1 : 1);

			switch (r & 3) {
			case 0: if (at < n) buf[at] ^= (uint8_t)(1u << (r >> 40) % 8); break;
			case 1: if (at < n) buf[at] = (uint8_t)(r >> 48); break;
			case 2: n = at; break;                                          /* cut */
			case 3: if (n < sizeof(buf) - 40) { memset(buf + n, (int)(r >> 24), 37); n += 37; } break;
			}
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("fuzz_smoke_derp: %ld inputs, no invariant broken\n", iters);
	return 0;
}
