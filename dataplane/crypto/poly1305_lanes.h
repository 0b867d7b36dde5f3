/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * poly1305_lanes.h - Poly1305 across packets: each SIMD lane runs the
 * Horner chain of a different message (its own r, its own h), so there is
 * no per-message precomputation of r^2..r^n. Each job is one RFC 8439
 * section 2.8 tag with empty AAD: ct || pad16 || le64(0) || le64(len).
 * The engines (poly1305_avx2.h, poly1305_avx512.h, poly1305_ifma.h)
 * declare their own functions; this header, the lane bookkeeping they
 * share (poly1305_lanes.c).
 */
#ifndef MG_CRYPTO_POLY1305_LANES_H
#define MG_CRYPTO_POLY1305_LANES_H

#include <stdbool.h>
#include <stdint.h>

struct poly1305_job {
	const uint8_t *otk;  /* 32-byte one-time key (r || s) */
	const uint8_t *ct;
	uint32_t len;
	uint8_t *tag;        /* 16 bytes out */
};

/*
 * Shared lane bookkeeping: a lane reads its message's full blocks in place,
 * then one or two blocks from tail[] (the zero-padded partial block and the
 * lengths block), so every block the SIMD loop sees is a full block with
 * the 2^128 bit set. The SIMD loop moves from the message to tail[] itself
 * (when p reaches end), so a lane needs no attention until its job is done.
 */
struct poly1305_lane {
	const uint8_t *p;      /* first block */
	const uint8_t *end;    /* end of the message's full blocks; NULL if none */
	uint32_t left;         /* blocks left, tail included */
	int job;               /* -1: idle */
	uint8_t tail[32];
};

/* Start job j (index ji) on lane ln: block pointers and tail. */
void poly1305_lane_start(struct poly1305_lane *ln, const struct poly1305_job *j, int ji);
/* The clamped r of a one-time key as two words (RFC 8439 section 2.5). */
void poly1305_clamp(uint64_t r[2], const uint8_t otk[32]);

#endif
