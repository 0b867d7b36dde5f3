/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * poly1305_avx2.h - Poly1305 with AVX2 (poly1305_avx2.c), radix 2^26:
 * eight messages side by side (poly1305_lanes.h) and one message four
 * blocks per step (the within-message wide path, aead_wide.h). Needs AVX2
 * at run time. Private to dataplane/crypto/.
 */
#ifndef MG_CRYPTO_POLY1305_AVX2_H
#define MG_CRYPTO_POLY1305_AVX2_H

#include <stddef.h>
#include <stdint.h>

#include "poly1305.h"
#include "poly1305_lanes.h"

/* One RFC 8439 2.8 tag per job, eight lanes at a time. */
void poly1305_avx2_jobs(const struct poly1305_job *jobs, unsigned n);

/*
 * The engine's final step, exported for tests: for each of 8 lanes
 * (column l), h in radix 2^26 (limbs may exceed 26 bits a little) and
 * pad = s as two le64 words; writes (h mod 2^130 - 5 + s) mod 2^128 as two
 * words. No alignment required.
 */
void poly1305_avx2_finish(uint64_t h[5][8], const uint64_t pad[2][8], uint64_t tag[2][8]);

/* nblocks (a multiple of 4) full 16-byte blocks into ctx, four per group
 * step, two groups side by side. Same result as poly1305_blocks(). Wipes
 * its powers of r. */
void poly1305_avx2_blocks4(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks);

/* Full blocks below which poly1305_avx2_blocks4() is not worth computing
 * r^2..r^8 (measured against the radix-2^64 poly1305_blocks(): about 512
 * bytes on the AMD EPYC build machine). */
#define AEAD_WIDE_POLY_MIN 32

#endif
