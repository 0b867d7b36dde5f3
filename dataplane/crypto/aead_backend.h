/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * aead_backend.h - what a batch AEAD backend provides to the dispatcher
 * (aead.c). Private to dataplane/crypto/. Declares no function: the
 * dispatcher reaches the backends through these structures only.
 */
#ifndef MG_CRYPTO_AEAD_BACKEND_H
#define MG_CRYPTO_AEAD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "aead_types.h"

struct aead_backend {
	const char *name;
	unsigned needs;  /* AEAD_CPU_* the backend cannot run without */
	bool library;    /* a library's code (ipsec-mb, libsodium), not ours */
	/* Optional: pick internal variants from the usable features, once, at
	 * init time. 0 or -errno. */
	int (*setup)(unsigned features);
	void (*seal)(struct aead_op *ops, unsigned n);
	uint64_t (*open)(struct aead_op *ops, unsigned n);
};

extern const struct aead_backend aead_sodium_backend;
extern const struct aead_backend aead_generic_backend;
extern const struct aead_backend aead_avx2_backend;
extern const struct aead_backend aead_avx512_backend;
extern const struct aead_backend aead_ipsecmb_backend;

/* RFC 8439 section 2.8 nonce for WireGuard: 32 zero bits || le64(counter). */
static inline void aead_nonce(uint8_t nonce[12], uint64_t counter)
{
	for (int i = 0; i < 4; i++)
		nonce[i] = 0;
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/* Constant-time tag compare (STYLE: never memcmp a MAC). */
static inline bool aead_tag_equal(const uint8_t a[AEAD_TAG_LEN], const uint8_t b[AEAD_TAG_LEN])
{
	uint8_t d = 0;

	for (int i = 0; i < AEAD_TAG_LEN; i++)
		d |= a[i] ^ b[i];
	return d == 0;
}

#endif
