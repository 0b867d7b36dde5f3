/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * poly1305_ifma.h - Poly1305 with AVX-512 in radix 2^44 (poly1305_ifma.c,
 * built twice): poly1305_ifma_* multiply with IFMA (vpmadd52luq/huq),
 * poly1305_avx512_* with AVX-512F alone. Sixteen messages side by side
 * (poly1305_lanes.h) and one message eight blocks per step (the wide path
 * of aead_avx512.c). Each needs its CPU features at run time.
 * Private to dataplane/crypto/.
 */
#ifndef MG_CRYPTO_POLY1305_IFMA_H
#define MG_CRYPTO_POLY1305_IFMA_H

#include <stddef.h>
#include <stdint.h>

#include "poly1305.h"
#include "poly1305_lanes.h"

/* One RFC 8439 2.8 tag per job, sixteen lanes at a time. */
void poly1305_ifma_jobs(const struct poly1305_job *jobs, unsigned n);
void poly1305_avx512_jobs(const struct poly1305_job *jobs, unsigned n);

/* nblocks (a multiple of 8) full blocks into ctx, eight per step; the same
 * result as poly1305_blocks(). Wipes its powers of r. */
void poly1305_ifma_blocks8(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks);
void poly1305_avx512_blocks8(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks);

/* The lane engines' final step, exported for tests: for each of 16 lanes
 * (column l), h in 44/44/42-bit limbs (a little above their widths
 * allowed) and pad = s as two le64 words; writes (h mod 2^130 - 5 + s)
 * mod 2^128 as two words. Rows 64-byte aligned. */
void poly1305_ifma_finish(const uint64_t h[3][16], const uint64_t pad[2][16], uint64_t tag[2][16]);
void poly1305_avx512_finish(const uint64_t h[3][16], const uint64_t pad[2][16],
			    uint64_t tag[2][16]);

#endif
