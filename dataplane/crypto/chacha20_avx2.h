/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * chacha20_avx2.h - ChaCha20 with AVX2 (chacha20_avx2.c): eight messages
 * side by side (the cross-packet lanes, chacha20_lanes.h), and one
 * message over eight consecutive blocks or in the two-block row layout
 * (the within-message wide path, aead_wide.h). Needs AVX2 at run time.
 * Private to dataplane/crypto/.
 */
#ifndef MG_CRYPTO_CHACHA20_AVX2_H
#define MG_CRYPTO_CHACHA20_AVX2_H

#include <stddef.h>
#include <stdint.h>

#include "chacha20_lanes.h"

/* Runs every job, eight lanes at a time (chacha20_lanes.h). */
void chacha20_avx2_jobs(const struct chacha20_job *jobs, unsigned n);

/* Keystream blocks 0..7 of (key, WireGuard counter) into ks (32-byte
 * aligned): block 0 keys Poly1305, blocks 1..7 cover the first 448 bytes. */
void chacha20_avx2_first8(uint8_t ks[512], const uint8_t key[32], uint64_t counter);
/* dst = src ^ keystream from block `block` on, eight blocks per step.
 * dst == src allowed. Wipes its state and keystream. */
void chacha20_avx2_xor8(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[32],
			uint64_t counter, uint32_t block);
/* nblocks keystream blocks from block `block` into ks (64 * nblocks bytes,
 * rounded up to an even number of blocks), in the row layout: two blocks
 * per state, up to three states side by side. */
void chacha20_avx2_blocks(uint8_t *ks, unsigned nblocks, const uint8_t key[32], uint64_t counter,
			  uint32_t block);
/* Up to this many blocks, row-layout steps (up to three two-block states
 * side by side: 6 blocks ~390 cycles) beat one eight-lane step (~560). */
#define WIDE_TAIL_MAX 6

/* dst = src ^ ks for n bytes (AVX2 xor of a keystream already made). */
void chacha20_avx2_xor(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ks);

#endif
