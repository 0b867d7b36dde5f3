/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * aead_types.h - the types of the batch AEAD API (aead.h), without its
 * functions: the backends see the message descriptor and the CPU feature
 * bits through this header, so they never include the dispatcher's.
 */
#ifndef MG_CRYPTO_AEAD_TYPES_H
#define MG_CRYPTO_AEAD_TYPES_H

#include <stdint.h>

struct aead_op {
	const uint8_t *key;   /* 32 bytes */
	uint64_t counter;     /* nonce = 0x00000000 || le64(counter) */
	const uint8_t *src;   /* seal: len plaintext bytes; open: len ciphertext bytes + 16-byte tag */
	uint8_t *dst;         /* seal: len ciphertext bytes + tag written; open: len plaintext bytes. dst == src allowed (in place) */
	uint32_t len;         /* plaintext length (== ciphertext length without tag) */
};

#define AEAD_TAG_LEN 16
#define AEAD_BURST_MAX 64

/*
 * CPU features a backend may use. aead_init() uses what the CPU has;
 * tests restrict the set to run a backend over every subset of features.
 */
enum {
	AEAD_CPU_AVX2       = 1u << 0,
	AEAD_CPU_AVX512F    = 1u << 1, /* with VL, BW, DQ */
	AEAD_CPU_AVX512IFMA = 1u << 2,
};

#endif
