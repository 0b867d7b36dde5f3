/* SPDX-License-Identifier: GPL-2.0-only */
/* poly1305.h - portable Poly1305 (RFC 8439 section 2.5), radix 2^44. */
#ifndef MG_CRYPTO_POLY1305_H
#define MG_CRYPTO_POLY1305_H

#include <stddef.h>
#include <stdint.h>

#define POLY1305_BLOCK_SIZE 16
#define POLY1305_KEY_SIZE 32

struct poly1305_ctx {
	uint64_t r[3], h[3];
	uint8_t s[16];
};

void poly1305_init(struct poly1305_ctx *ctx, const uint8_t key[POLY1305_KEY_SIZE]);
/* nblocks full 16-byte blocks, each with the 2^128 bit set. */
void poly1305_blocks(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks);
/* Writes the tag and wipes ctx. */
void poly1305_final(struct poly1305_ctx *ctx, uint8_t tag[16]);

/* Tag of the RFC 8439 section 2.8 AEAD with empty AAD over ct[0..len):
 * ct || zero pad to 16 || le64(0) || le64(len). */
void poly1305_aead(uint8_t tag[16], const uint8_t otk[POLY1305_KEY_SIZE],
		   const uint8_t *ct, size_t len);
/* The same tag when the first `done` full blocks of ct already went
 * through ctx (by a wide engine); wipes ctx. */
void poly1305_aead_rest(struct poly1305_ctx *ctx, uint8_t tag[16], const uint8_t *ct,
			size_t len, size_t done);

/* Helpers of the wide engines, on limbs of 44/44/42 bits (ctx->r, ctx->h). */
/* Carry h fully: h0, h1 < 2^44, h2 <= 2^42 (same value mod 2^130 - 5).
 * Inline: it runs after every multiplication of the powers of r. */
static inline void poly1305_carry(uint64_t h[3])
{
	const uint64_t m44 = 0xfffffffffffull, m42 = 0x3ffffffffffull;
	uint64_t c;

	for (int i = 0; i < 2; i++) {
		c = h[1] >> 44; h[1] &= m44; h[2] += c;
		c = h[2] >> 42; h[2] &= m42; h[0] += c * 5;
		c = h[0] >> 44; h[0] &= m44; h[1] += c;
	}
	c = h[1] >> 44; h[1] &= m44; h[2] += c;
}
/* out = a * b mod 2^130 - 5, carried as by poly1305_carry(). out may be a. */
void poly1305_mul(uint64_t out[3], const uint64_t a[3], const uint64_t b[3]);

#endif
