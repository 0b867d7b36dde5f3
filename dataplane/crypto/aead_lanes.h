/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * aead_lanes.h - a burst cut into cross-packet lane jobs (aead_lanes.c),
 * for the backends whose engines run one message per SIMD lane (avx2 in
 * aead_avx2.c, avx512 in aead_avx512.c). Private to dataplane/crypto/.
 */
#ifndef MG_CRYPTO_AEAD_LANES_H
#define MG_CRYPTO_AEAD_LANES_H

#include <stdbool.h>
#include <stdint.h>

#include "aead_types.h"
#include "chacha20_lanes.h"
#include "poly1305_lanes.h"

/* What a SIMD engine provides; a backend's is set up once, at init time,
 * and read-only afterwards. */
struct lanes_engine {
	void (*chacha)(const struct chacha20_job *jobs, unsigned n);
	void (*poly)(const struct poly1305_job *jobs, unsigned n);
	/* the within-message wide path: one tag, one whole message */
	void (*wide_tag)(uint8_t tag[16], const uint8_t otk[32], const uint8_t *ct, uint32_t len);
	void (*wide_seal)(struct aead_op *op);
	bool (*wide_open)(struct aead_op *op);
	unsigned lanes;         /* ChaCha20 lanes */
	unsigned poly_min;      /* fewer messages than this: scalar Poly1305 */
	unsigned burst_min;     /* fewer messages than this: one at a time, wide */
	unsigned poly_wide_min; /* Poly1305 blocks from which wide_tag beats scalar */
};

/* aead_seal_burst() / aead_open_burst() on engine e (aead.h). */
void lanes_seal(const struct lanes_engine *e, struct aead_op *ops, unsigned n);
uint64_t lanes_open(const struct lanes_engine *e, struct aead_op *ops, unsigned n);

#endif
