// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_wide.c - one message on the within-message wide path (aead_wide.h).
 * One ChaCha20 step of eight consecutive blocks yields the Poly1305 key
 * (block 0) and the first 448 bytes of keystream, so a message of up to
 * 448 bytes costs one step (up to 320 bytes, row-layout steps: less); open
 * keeps that keystream while it checks the tag and decrypts only an
 * authentic message. Built without SIMD flags:
 * runs only after aead_init() chose the avx2 backend.
 */
#include "aead_backend.h"
#include "aead_wide.h"
#include "chacha20_avx2.h"
#include "memzero.h"
#include "poly1305_avx2.h"

#define FIRST_DATA (7 * 64) /* data bytes keyed by chacha20_avx2_first8() */

void aead_wide_tag(uint8_t tag[16], const uint8_t otk[32], const uint8_t *ct, uint32_t len)
{
	struct poly1305_ctx ctx;
	size_t four = (len / 16) & ~(size_t)3;

	poly1305_init(&ctx, otk);
	if (four >= AEAD_WIDE_POLY_MIN)
		poly1305_avx2_blocks4(&ctx, ct, four);
	else
		four = 0;
	poly1305_aead_rest(&ctx, tag, ct, len, four);
}

/* dst = src ^ keystream of the whole message, block 1 on; ks = first8(). */
static void wide_xor(struct aead_op *op, const uint8_t *ks)
{
	uint32_t n = op->len < FIRST_DATA ? op->len : FIRST_DATA;

	chacha20_avx2_xor(op->dst, op->src, n, ks + 64);
	if (op->len > n)
		chacha20_avx2_xor8(op->dst + n, op->src + n, op->len - n, op->key, op->counter, 8);
}

/* Keystream blocks 0 (the one-time key) to 7, or only as many as a short
 * message needs, in the row layout. */
static void wide_first(uint8_t ks[512], const struct aead_op *op)
{
	unsigned blocks = 1 + (op->len + 63) / 64;

	if (blocks <= WIDE_TAIL_MAX)
		chacha20_avx2_blocks(ks, blocks, op->key, op->counter, 0);
	else
		chacha20_avx2_first8(ks, op->key, op->counter);
}

void aead_wide_seal(struct aead_op *op)
{
	uint8_t ks[512] __attribute__((aligned(32)));

	wide_first(ks, op);
	wide_xor(op, ks);
	aead_wide_tag(op->dst + op->len, ks, op->dst, op->len);
	memzero_explicit(ks, sizeof(ks));
}

bool aead_wide_open(struct aead_op *op)
{
	uint8_t ks[512] __attribute__((aligned(32))), tag[AEAD_TAG_LEN];
	bool ok;

	wide_first(ks, op);
	aead_wide_tag(tag, ks, op->src, op->len);
	ok = aead_tag_equal(tag, op->src + op->len);
	if (ok)
		wide_xor(op, ks);
	memzero_explicit(ks, sizeof(ks));
	memzero_explicit(tag, sizeof(tag));        /* a forged message's computed tag is a forgery */
	return ok;
}
