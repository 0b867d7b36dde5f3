/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * chacha20_lanes.h - ChaCha20 across packets: each SIMD lane computes the
 * keystream of a different job (key, nonce, block counter), so a burst of
 * small packets under many keys fills every lane. A job is a run of blocks
 * of one message; long messages are split into several jobs by the caller
 * so that even one long message fills several lanes. Types only: each
 * engine declares its own functions in its own header.
 */
#ifndef MG_CRYPTO_CHACHA20_LANES_H
#define MG_CRYPTO_CHACHA20_LANES_H

#include <stdint.h>

struct chacha20_job {
	const uint8_t *key;   /* 32 bytes */
	uint64_t counter;     /* WireGuard nonce: words 14..15 */
	uint32_t block;       /* first block counter (word 12) */
	uint32_t len;         /* bytes of src to xor into dst */
	const uint8_t *src;
	uint8_t *dst;         /* dst == src allowed */
	/* When set, block `block` goes to otk (first 32 bytes: the Poly1305
	 * one-time key, RFC 8439 2.6) and the data starts at block + 1. */
	uint8_t *otk;
};

/* The engines (chacha20_avx2.h, chacha20_avx512.h) run every job of a
 * list. The jobs' buffers must not overlap each other, except src == dst
 * of the same job. They wipe their keystream and state copies. */

#endif
