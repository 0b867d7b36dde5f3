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
 * Burst shapes of Crypto = auto: the backend is chosen per (burst class,
 * size class) by a calibration at start-up (aead.h: aead_auto_choice()).
 * Size classes by the burst's mean message length, named after the length
 * each is measured at: 64, 128, 256, 512, 1280, 1420 bytes. Burst classes:
 * 1, 2, 3..15 (measured at 8) and 16..64 (measured at 64) messages.
 */
#define AEAD_SIZE_CLASSES 6
#define AEAD_BURST_CLASSES 4

static inline unsigned aead_size_class(uint32_t mean_len)
{
	return mean_len <= 96 ? 0 : mean_len <= 192 ? 1 : mean_len <= 384 ? 2 :
	       mean_len <= 896 ? 3 : mean_len <= 1350 ? 4 : 5;
}

static inline unsigned aead_burst_class(unsigned n)
{
	return n <= 2 ? (n ? n - 1 : 0) : n < 16 ? 2 : 3;
}

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
