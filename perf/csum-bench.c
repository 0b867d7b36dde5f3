// SPDX-License-Identifier: GPL-2.0-only
/*
 * csum-bench.c - pkt.h's csum_add (8-byte loads, one swap) against the 16-bit big-endian loop
 * it replaced, over the sizes the outer IPv6 UDP checksum covers (a WireGuard message: inner
 * size + 32). Prints ns per call for each; the answers are compared too, so a fast wrong sum
 * fails the run.
 *
 *   build/perf/csum-bench [ROUNDS]       (default 1,000,000 per size)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "pkt.h"

static uint32_t bytewise(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len >= 2; p += 2, len -= 2)
		sum += (uint32_t)p[0] << 8 | p[1];
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 96, 544, 1312, 1452 };
	static uint8_t buf[1500];
	long rounds = argc > 1 ? atol(argv[1]) : 1000000;
	volatile uint32_t sink = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	printf("%8s %14s %14s\n", "bytes", "bytewise ns", "csum_add ns");
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = sizes[s];
		double t0, t1, t2;

		if (csum_fold(csum_add(0, buf, len)) != csum_fold(bytewise(0, buf, len))) {
			fprintf(stderr, "csum-bench: sums differ at %zu bytes\n", len);
			return 1;
		}
		t0 = now_ns();
		for (long i = 0; i < rounds; i++) {
			buf[0] = (uint8_t)i;    /* a new input each call: nothing to hoist */
			sink += bytewise(0, buf, len);
		}
		t1 = now_ns();
		for (long i = 0; i < rounds; i++) {
			buf[0] = (uint8_t)i;
			sink += csum_add(0, buf, len);
		}
		t2 = now_ns();
		printf("%8zu %14.1f %14.1f\n", len, (t1 - t0) / rounds, (t2 - t1) / rounds);
	}
	return 0;
}
