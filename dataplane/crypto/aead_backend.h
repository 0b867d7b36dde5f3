/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * aead_backend.h - what a batch AEAD backend provides to the dispatcher
 * (aead.c). Private to dataplane/crypto/.
 */
#ifndef MG_CRYPTO_AEAD_BACKEND_H
#define MG_CRYPTO_AEAD_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "aead.h"

struct aead_backend {
	const char *name;
	unsigned needs;  /* AEAD_CPU_* the backend cannot run without */
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

/*
 * The engines keep keys and keystream in registers, but the compiler
 * spills some of them; those spills sit below the caller's frame after the
 * engines return. aead_stack_scrub(n) overwrites the n bytes of stack right
 * below its caller's frame, once per burst (a few hundred cycles), rather
 * than trusting spill slots to be reused. Depths: the lane engines need
 * 8 KiB, the wide path (aead_wide.c, frames under 3 KiB) 4 KiB, the
 * portable one-message code 2 KiB.
 */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* sanitizer instrumentation makes every frame several times larger */
#define AEAD_SCRUB_LANES 16384
#define AEAD_SCRUB_WIDE 16384
#define AEAD_SCRUB_GENERIC 16384
#else
#define AEAD_SCRUB_LANES 8192
#define AEAD_SCRUB_WIDE 4096
#define AEAD_SCRUB_GENERIC 2048
#endif
void aead_stack_scrub(size_t n);

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
