/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * aead.h - batch ChaCha20-Poly1305 (RFC 8439) as WireGuard uses it.
 *
 * Every message in a burst is independent: its own 32-byte key, its own
 * 64-bit counter, its own buffer and length. The AAD is always empty, the
 * tag is 16 bytes and the 96-bit nonce is 0x00000000 || le64(counter)
 * (WireGuard whitepaper section 5.4.6, RFC 8439 section 2.8).
 *
 * The backend is chosen once by aead_init() and never changes while
 * packets flow; the burst functions are then safe to call from any number
 * of threads at once (they keep no state outside their arguments).
 */
#ifndef MG_CRYPTO_AEAD_H
#define MG_CRYPTO_AEAD_H

#include "aead_types.h"

/* "auto"|"avx512"|"avx2"|"ipsecmb"|"sodium"|"generic"; 0 or -errno
 * (-ENOTSUP when the CPU/build lacks it, -EINVAL for an unknown name).
 * "auto" sets up every backend that can run and times them (about 30 ms; one
 * line on stderr says what it chose), then runs each burst on the fastest
 * for its shape; aead_backend_name() is then "auto". */
int aead_init(const char *backend);
const char *aead_backend_name(void);
/* Why aead_init(backend) returned err, in words for the operator (which
 * CPU feature or build option is missing). A static string. */
const char *aead_strerror(const char *backend, int err);

/* Consumes nothing and borrows ops for the duration of the call.
 * n <= AEAD_BURST_MAX. Partial overlap of src and dst is not allowed. */
void aead_seal_burst(struct aead_op *ops, unsigned n);

/* Bit i set = message i authentic (and decrypted into dst). On failure the
 * content of dst is unspecified, but it never holds plaintext of the failed
 * message (backends verify before they decrypt, or wipe dst afterwards). */
uint64_t aead_open_burst(struct aead_op *ops, unsigned n);

/* The features this CPU has (and that this build can use). */
unsigned aead_cpu_features(void);

/* aead_init() with the usable features limited to mask & aead_cpu_features(). */
int aead_init_features(const char *backend, unsigned mask);

/*
 * What Crypto = auto chose for a size class (0..AEAD_SIZE_CLASSES-1, see
 * aead_types.h) in full bursts (16..64 messages), or for a burst class
 * (0..AEAD_BURST_CLASSES-1: 1, 2, 3-15, 16-64 messages): a backend name,
 * for /metrics. With a fixed backend, its name; NULL for a class out of
 * range. aead_size_class_bytes(): the length a size class is measured at
 * (its label), 0 out of range.
 */
const char *aead_auto_choice(unsigned size_class);
const char *aead_auto_choice_burst(unsigned size_class, unsigned burst_class);
unsigned aead_size_class_bytes(unsigned size_class);

/* Names aead_init() accepts, NULL-terminated (without "auto"). */
extern const char *const aead_backend_names[];

#endif
