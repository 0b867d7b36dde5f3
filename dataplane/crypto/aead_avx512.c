// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_avx512.c - the avx512 backend: sixteen-lane ChaCha20
 * (chacha20_avx512.c) and sixteen-lane Poly1305 in radix 2^44
 * (poly1305_ifma.c: with IFMA where the CPU has it, else with AVX-512F
 * multiplies) under the lane scheduler of aead_lanes.c, and its own
 * within-message wide path for bursts of one or two and for the long
 * messages of a burst:
 *
 *   seal: one pass of four-block row states makes the one-time key and
 *         the ciphertext together; the tag eight blocks per step.
 *   open: the first step's keystream (up to 16 blocks: the one-time key
 *         and 960 bytes) is kept while the tag is checked, so a message of
 *         up to 960 bytes runs the ChaCha20 rounds once; only an authentic
 *         message is decrypted.
 *
 * Built without SIMD flags: runs only after aead_init() found AVX-512
 * F/VL/BW/DQ. In the emulated test build (MG_SIMD_EMULATED) the engines
 * are SIMDe code that runs on any CPU, so the backend needs no feature.
 */
#include <errno.h>

#include "aead_backend.h"
#include "aead_lanes.h"
#include "aead_scrub.h"
#include "chacha20_avx512.h"
#include "memzero.h"
#include "poly1305.h"
#include "poly1305_ifma.h"

/* Chosen by setup() at init time; read-only afterwards. */
static void (*blocks8)(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks);
static const struct lanes_engine *engine;

/* Full blocks from which eight-block steps beat poly1305_blocks(), powers
 * of r included (r^2..r^8: seven scalar multiplications). */
#define WIDE_POLY_MIN 16
/* Data bytes keyed by the first step of aead_avx512_open() (16 blocks,
 * the first of them the one-time key). */
#define FIRST_DATA (15 * 64)

static void avx512_tag(uint8_t tag[16], const uint8_t otk[32], const uint8_t *ct, uint32_t len)
{
	struct poly1305_ctx ctx;
	size_t eight = (len / 16) & ~(size_t)7;

	poly1305_init(&ctx, otk);
	if (eight >= WIDE_POLY_MIN)
		blocks8(&ctx, ct, eight);
	else
		eight = 0;
	poly1305_aead_rest(&ctx, tag, ct, len, eight);
}

static void avx512_wide_seal(struct aead_op *op)
{
	uint8_t otk[32];

	chacha20_avx512_xor(op->dst, op->src, op->len, op->key, op->counter, 0, otk);
	avx512_tag(op->dst + op->len, otk, op->dst, op->len);
	memzero_explicit(otk, sizeof(otk));
}

static bool avx512_wide_open(struct aead_op *op)
{
	uint8_t ks[FIRST_DATA] __attribute__((aligned(64))), otk[32], tag[AEAD_TAG_LEN];
	uint32_t first = op->len < FIRST_DATA ? op->len : FIRST_DATA;
	bool ok;

	chacha20_avx512_xor(ks, NULL, first, op->key, op->counter, 0, otk);
	avx512_tag(tag, otk, op->src, op->len);
	ok = aead_tag_equal(tag, op->src + op->len);
	if (ok) {
		chacha20_avx512_xor_ks(op->dst, op->src, ks, first);
		if (op->len > first)
			chacha20_avx512_xor(op->dst + first, op->src + first, op->len - first,
					    op->key, op->counter, 1 + FIRST_DATA / 64, NULL);
	}
	memzero_explicit(ks, (first + 63) & ~63u); /* what the first step wrote */
	memzero_explicit(otk, sizeof(otk));
	memzero_explicit(tag, sizeof(tag));        /* a forged message's computed tag is a forgery */
	return ok;
}

#define AVX512_ENGINE(poly_jobs) {				\
	.chacha = chacha20_avx512_jobs,				\
	.poly = poly_jobs,					\
	.wide_tag = avx512_tag,					\
	.wide_seal = avx512_wide_seal,				\
	.wide_open = avx512_wide_open,				\
	.lanes = 16,						\
	.poly_min = 4,						\
	.burst_min = 3,						\
	.poly_wide_min = WIDE_POLY_MIN,				\
}

static const struct lanes_engine ifma_engine = AVX512_ENGINE(poly1305_ifma_jobs);
static const struct lanes_engine f_engine = AVX512_ENGINE(poly1305_avx512_jobs);

static int avx512_setup(unsigned features)
{
	if (features & AEAD_CPU_AVX512IFMA) {
		engine = &ifma_engine;
		blocks8 = poly1305_ifma_blocks8;
	} else {
		engine = &f_engine;
		blocks8 = poly1305_avx512_blocks8;
	}
	return 0;
}

static void avx512_seal(struct aead_op *ops, unsigned n)
{
	lanes_seal(engine, ops, n);
}

static uint64_t avx512_open(struct aead_op *ops, unsigned n)
{
	return lanes_open(engine, ops, n);
}

const struct aead_backend aead_avx512_backend = {
	.name = "avx512",
#ifdef MG_SIMD_EMULATED
	.needs = 0,
#else
	.needs = AEAD_CPU_AVX512F,
#endif
	.setup = avx512_setup,
	.seal = avx512_seal,
	.open = avx512_open,
};
