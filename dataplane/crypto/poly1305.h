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

#endif
