// SPDX-License-Identifier: GPL-2.0-only
/*
 * chacha20.c - portable ChaCha20, one block at a time. It is the generic
 * backend's cipher and the scalar tail of nothing else: SIMD files carry
 * their own lanes.
 */
#include <string.h>

#include "chacha20.h"
#include "memzero.h"

static inline uint32_t rotl32(uint32_t v, int n)
{
	return (v << n) | (v >> (32 - n));
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* RFC 8439 section 2.1 */
#define QR(a, b, c, d) do {						\
	a += b; d = rotl32(d ^ a, 16);					\
	c += d; b = rotl32(b ^ c, 12);					\
	a += b; d = rotl32(d ^ a, 8);					\
	c += d; b = rotl32(b ^ c, 7);					\
} while (0)

void chacha20_init(uint32_t st[16], const uint8_t key[32], uint64_t counter)
{
	st[0] = CHACHA20_C0;
	st[1] = CHACHA20_C1;
	st[2] = CHACHA20_C2;
	st[3] = CHACHA20_C3;
	for (int i = 0; i < 8; i++)
		st[4 + i] = le32(key + 4 * i);
	st[12] = 0;
	st[13] = 0;
	st[14] = (uint32_t)counter;
	st[15] = (uint32_t)(counter >> 32);
}

void chacha20_block(uint8_t out[CHACHA20_BLOCK_SIZE], uint32_t st[16])
{
	uint32_t x[16];

	memcpy(x, st, sizeof(x));
	for (int i = 0; i < 10; i++) {
		/* column round, then diagonal round (RFC 8439 section 2.3) */
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++) {
		uint32_t v = x[i] + st[i];

		out[4 * i + 0] = (uint8_t)v;
		out[4 * i + 1] = (uint8_t)(v >> 8);
		out[4 * i + 2] = (uint8_t)(v >> 16);
		out[4 * i + 3] = (uint8_t)(v >> 24);
	}
	st[12]++;
	memzero_explicit(x, sizeof(x));
}

void chacha20_xor(uint8_t *dst, const uint8_t *src, size_t len, uint32_t st[16])
{
	uint8_t ks[CHACHA20_BLOCK_SIZE];

	while (len) {
		size_t n = len < sizeof(ks) ? len : sizeof(ks);

		chacha20_block(ks, st);
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i] ^ ks[i];
		dst += n;
		src += n;
		len -= n;
	}
	memzero_explicit(ks, sizeof(ks));
}
