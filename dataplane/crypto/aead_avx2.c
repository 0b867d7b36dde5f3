// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_avx2.c - the avx2 backend: eight-lane ChaCha20 and Poly1305
 * (chacha20_avx2.c, poly1305_avx2.c) under the lane scheduler of
 * aead_lanes.c, and the within-message wide path of aead_wide.c for bursts
 * of one or two. Built without SIMD flags: runs only after aead_init()
 * found AVX2.
 */
#include "aead_backend.h"
#include "aead_lanes.h"
#include "aead_wide.h"
#include "chacha20_avx2.h"
#include "poly1305_avx2.h"

static const struct lanes_engine avx2_engine = {
	.chacha = chacha20_avx2_jobs,
	.poly = poly1305_avx2_jobs,
	.wide_tag = aead_wide_tag,
	.wide_seal = aead_wide_seal,
	.wide_open = aead_wide_open,
	.lanes = 8,
	.poly_min = 3,
	.burst_min = 3,
	.poly_wide_min = AEAD_WIDE_POLY_MIN,
};

static void avx2_seal(struct aead_op *ops, unsigned n)
{
	lanes_seal(&avx2_engine, ops, n);
}

static uint64_t avx2_open(struct aead_op *ops, unsigned n)
{
	return lanes_open(&avx2_engine, ops, n);
}

const struct aead_backend aead_avx2_backend = {
	.name = "avx2",
	.needs = AEAD_CPU_AVX2,
	.seal = avx2_seal,
	.open = avx2_open,
};
