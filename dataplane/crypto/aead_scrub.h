/* SPDX-License-Identifier: GPL-2.0-only */
/* aead_scrub.h - wiping the stack the SIMD engines leave behind.
 * Private to dataplane/crypto/. */
#ifndef MG_CRYPTO_AEAD_SCRUB_H
#define MG_CRYPTO_AEAD_SCRUB_H

#include <stddef.h>

/*
 * The engines keep keys and keystream in registers, but the compiler
 * spills some of them; those spills sit below the caller's frame after the
 * engines return. aead_stack_scrub(n) overwrites the n bytes of stack right
 * below its caller's frame, once per burst (a few hundred cycles), rather
 * than trusting spill slots to be reused. Depths: the lane engines need
 * 8 KiB, the wide path (aead_wide.c, frames under 3 KiB) 4 KiB, the
 * portable one-message code 2 KiB.
 */
#if defined(MG_SIMD_EMULATED)
/* the emulated test build: SIMDe keeps each 512-bit value in memory, and
 * the wide ChaCha20 frame alone is about 19 KiB */
#define AEAD_SCRUB_MAX 32768
#define AEAD_SCRUB_LANES 32768
#define AEAD_SCRUB_WIDE 32768
#define AEAD_SCRUB_GENERIC 32768
#elif defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* sanitizer instrumentation makes every frame several times larger */
#define AEAD_SCRUB_MAX 16384
#define AEAD_SCRUB_LANES 16384
#define AEAD_SCRUB_WIDE 16384
#define AEAD_SCRUB_GENERIC 16384
#else
#define AEAD_SCRUB_MAX 16384
#define AEAD_SCRUB_LANES 8192
#define AEAD_SCRUB_WIDE 4096
#define AEAD_SCRUB_GENERIC 2048
#endif
void aead_stack_scrub(size_t n);

#endif
