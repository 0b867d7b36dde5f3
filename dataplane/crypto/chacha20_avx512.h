/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * chacha20_avx512.h - ChaCha20 with AVX-512 F/VL/BW (chacha20_avx512.c):
 * sixteen messages side by side (the cross-packet lanes,
 * chacha20_lanes.h), and one message sixteen consecutive blocks per step
 * (the within-message wide path of aead_avx512.c). Needs AVX-512 at run
 * time. Private to dataplane/crypto/.
 */
#ifndef MG_CRYPTO_CHACHA20_AVX512_H
#define MG_CRYPTO_CHACHA20_AVX512_H

#include <stddef.h>
#include <stdint.h>

#include "chacha20_lanes.h"

/* Runs every job, sixteen lanes at a time (chacha20_lanes.h). */
void chacha20_avx512_jobs(const struct chacha20_job *jobs, unsigned n);

/*
 * One message from block `block` on, up to sixteen blocks per step (four
 * four-block states side by side): when otk is set, block `block` goes to
 * otk (its first 32 bytes) and the data starts at block + 1. dst = src ^
 * keystream for len bytes; src == NULL writes the keystream itself. dst ==
 * src allowed. The state lives in registers; the caller scrubs the stack.
 */
void chacha20_avx512_xor(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[32],
			 uint64_t counter, uint32_t block, uint8_t *otk);

/* dst = src ^ ks for n bytes (a keystream made before). dst == src allowed. */
void chacha20_avx512_xor_ks(uint8_t *dst, const uint8_t *src, const uint8_t *ks, size_t n);

#endif
