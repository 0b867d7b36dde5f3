/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * aead_wide.h - the within-message wide path of the avx2 backend: one
 * message's ChaCha20 over eight consecutive blocks per step, and its
 * Poly1305 four blocks per step with r^1..r^4. aead_lanes.c uses it for
 * bursts of one or two messages and for the long messages of a burst
 * (see lanes_seal()). Private to dataplane/crypto/.
 */
#ifndef MG_CRYPTO_AEAD_WIDE_H
#define MG_CRYPTO_AEAD_WIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aead.h"
#include "poly1305.h"

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

/* nblocks (a multiple of 4) full 16-byte blocks into ctx, four per group
 * step, two groups side by side. Same result as poly1305_blocks(). Wipes
 * its powers of r. */
void poly1305_avx2_blocks4(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks);

/* Full blocks below which poly1305_avx2_blocks4() is not worth computing
 * r^2..r^8 (measured against the radix-2^64 poly1305_blocks(): about 512
 * bytes on the AMD EPYC build machine). */
#define AEAD_WIDE_POLY_MIN 32

/* The RFC 8439 2.8 tag (empty AAD) of ct, four blocks per step where long
 * enough. */
void aead_wide_tag(uint8_t tag[16], const uint8_t otk[32], const uint8_t *ct, uint32_t len);
/* One message sealed / opened entirely on the wide path (open verifies
 * before it decrypts). */
void aead_wide_seal(struct aead_op *op);
bool aead_wide_open(struct aead_op *op);

#endif
