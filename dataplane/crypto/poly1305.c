// SPDX-License-Identifier: GPL-2.0-only
/*
 * poly1305.c - portable Poly1305, three limbs of 44/44/42 bits so that
 * every product fits an unsigned __int128 with room for the sums.
 * h is kept partially reduced (limbs may exceed their width by a few bits)
 * until poly1305_final(), which reduces it fully mod 2^130 - 5.
 */
#include <string.h>

#include "memzero.h"
#include "poly1305.h"

#define M44 0xfffffffffffull
#define M42 0x3ffffffffffull

typedef unsigned __int128 u128;

static inline uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8); /* x86-64 and every target we build for: little endian */
	return v;
}

static inline void put_le64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

void poly1305_init(struct poly1305_ctx *ctx, const uint8_t key[32])
{
	uint64_t t0 = le64(key), t1 = le64(key + 8);

	/* r is clamped: RFC 8439 section 2.5, folded into the 44-bit limbs */
	ctx->r[0] = t0 & 0xffc0fffffffull;
	ctx->r[1] = ((t0 >> 44) | (t1 << 20)) & 0xfffffc0ffffull;
	ctx->r[2] = (t1 >> 24) & 0x00ffffffc0full;
	ctx->h[0] = ctx->h[1] = ctx->h[2] = 0;
	memcpy(ctx->s, key + 16, 16);
}

/*
 * The block loop runs in radix 2^64 (h = h0 + 2^64 h1 + 2^128 h2, h2 a few
 * bits): five multiplications per block instead of nine with 44-bit limbs.
 * It relies on the clamp: r0, r1 < 2^60 and 4 | r1, so 5 * (r1 / 4) =
 * r1 + (r1 >> 2) folds the 2^130 wrap into one 64-bit factor, and no sum
 * of products reaches 2^127. ctx keeps 44-bit limbs between calls (the
 * wide engines and poly1305_final() read them).
 */
void poly1305_blocks(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks)
{
	const uint64_t r0 = ctx->r[0] | ctx->r[1] << 44;
	const uint64_t r1 = ctx->r[1] >> 20 | ctx->r[2] << 24;
	const uint64_t s1 = r1 + (r1 >> 2);
	uint64_t h0, h1, h2, c;
	u128 t, d0, d1;

	if (!nblocks)
		return;
	/* 44-bit limbs, possibly a little above their width, to radix 2^64 */
	t = (u128)ctx->h[0] + ((u128)ctx->h[1] << 44);
	h0 = (uint64_t)t;
	t = (t >> 64) + ((u128)ctx->h[2] << 24);
	h1 = (uint64_t)t;
	h2 = (uint64_t)(t >> 64);
	/* keep h2 below 4 on entry too (h2 * s1 must fit 64 bits) */
	c = (h2 >> 2) + (h2 & ~(uint64_t)3);
	h2 &= 3;
	t = (u128)h0 + c;
	h0 = (uint64_t)t;
	t = (t >> 64) + h1;
	h1 = (uint64_t)t;
	h2 += (uint64_t)(t >> 64);

	while (nblocks--) {
		t = (u128)h0 + le64(m);
		h0 = (uint64_t)t;
		t = (t >> 64) + h1 + le64(m + 8);
		h1 = (uint64_t)t;
		h2 += (uint64_t)(t >> 64) + 1; /* the 2^128 bit */

		d0 = (u128)h0 * r0 + (u128)h1 * s1;
		d1 = (u128)h0 * r1 + (u128)h1 * r0 + (u128)(h2 * s1) + (uint64_t)(d0 >> 64);
		c = h2 * r0 + (uint64_t)(d1 >> 64);
		h0 = (uint64_t)d0;
		h1 = (uint64_t)d1;
		/* c holds bits 128 and up: keep two, fold the rest times 5 */
		h2 = c & 3;
		c = (c >> 2) + (c & ~(uint64_t)3);
		t = (u128)h0 + c;
		h0 = (uint64_t)t;
		t = (t >> 64) + h1;
		h1 = (uint64_t)t;
		h2 += (uint64_t)(t >> 64);
		m += 16;
	}
	ctx->h[0] = h0 & M44;
	ctx->h[1] = (h0 >> 44 | h1 << 20) & M44;
	ctx->h[2] = h1 >> 24 | h2 << 40;
}

void poly1305_final(struct poly1305_ctx *ctx, uint8_t tag[16])
{
	uint64_t h0 = ctx->h[0], h1 = ctx->h[1], h2 = ctx->h[2];
	uint64_t g0, g1, g2, c, mask, t0, t1;

	/* two carry passes make h < 2^130 with canonical limbs */
	for (int i = 0; i < 2; i++) {
		c = h1 >> 44; h1 &= M44; h2 += c;
		c = h2 >> 42; h2 &= M42; h0 += c * 5;
		c = h0 >> 44; h0 &= M44; h1 += c;
	}
	c = h1 >> 44; h1 &= M44; h2 += c;

	/* g = h - p; keep g when it did not borrow (constant time) */
	g0 = h0 + 5; c = g0 >> 44; g0 &= M44;
	g1 = h1 + c; c = g1 >> 44; g1 &= M44;
	g2 = h2 + c - (1ull << 42);
	mask = (g2 >> 63) - 1;
	h0 = (h0 & ~mask) | (g0 & mask);
	h1 = (h1 & ~mask) | (g1 & mask);
	h2 = (h2 & ~mask) | (g2 & mask & M42);

	/* tag = (h + s) mod 2^128 */
	t0 = le64(ctx->s);
	t1 = le64(ctx->s + 8);
	h0 += t0 & M44; c = h0 >> 44; h0 &= M44;
	h1 += (((t0 >> 44) | (t1 << 20)) & M44) + c; c = h1 >> 44; h1 &= M44;
	h2 += ((t1 >> 24) & M42) + c;
	put_le64(tag, h0 | (h1 << 44));
	put_le64(tag + 8, (h1 >> 20) | (h2 << 24));
	memzero_explicit(ctx, sizeof(*ctx));
}

void poly1305_mul(uint64_t out[3], const uint64_t a[3], const uint64_t b[3])
{
	/* as in poly1305_blocks(), without the clamping bounds: b may be any
	 * power of r, so its limbs are up to 44 bits and 20 * b up to 49 */
	const uint64_t s1 = b[1] * 20, s2 = b[2] * 20;
	u128 d0 = (u128)a[0] * b[0] + (u128)a[1] * s2 + (u128)a[2] * s1;
	u128 d1 = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * s2;
	u128 d2 = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0];
	uint64_t c;

	c = (uint64_t)(d0 >> 44); out[0] = (uint64_t)d0 & M44;
	d1 += c; c = (uint64_t)(d1 >> 44); out[1] = (uint64_t)d1 & M44;
	d2 += c; c = (uint64_t)(d2 >> 42); out[2] = (uint64_t)d2 & M42;
	out[0] += c * 5; c = out[0] >> 44; out[0] &= M44;
	out[1] += c;
	poly1305_carry(out);
}

void poly1305_aead_rest(struct poly1305_ctx *ctx, uint8_t tag[16], const uint8_t *ct,
			size_t len, size_t done)
{
	uint8_t last[16] = { 0 };

	poly1305_blocks(ctx, ct + 16 * done, len / 16 - done);
	if (len % 16) {
		memcpy(last, ct + (len & ~(size_t)15), len % 16);
		poly1305_blocks(ctx, last, 1);
	}
	/* RFC 8439 section 2.8: le64(aad length = 0) || le64(ciphertext length) */
	put_le64(last, 0);
	put_le64(last + 8, len);
	poly1305_blocks(ctx, last, 1);
	poly1305_final(ctx, tag);
}

void poly1305_aead(uint8_t tag[16], const uint8_t otk[32], const uint8_t *ct, size_t len)
{
	struct poly1305_ctx ctx;

	poly1305_init(&ctx, otk);
	poly1305_aead_rest(&ctx, tag, ct, len, 0);
}
