/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * aead_wide.h - the within-message wide path of the avx2 backend: one
 * message's ChaCha20 over eight consecutive blocks per step, and its
 * Poly1305 four blocks per step with r^1..r^4 (chacha20_avx2.h,
 * poly1305_avx2.h). The avx2 backend uses it for bursts of one or two
 * messages and for the long messages of a burst (aead_lanes.c).
 * Private to dataplane/crypto/.
 */
#ifndef MG_CRYPTO_AEAD_WIDE_H
#define MG_CRYPTO_AEAD_WIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "aead_types.h"

/* The RFC 8439 2.8 tag (empty AAD) of ct, four blocks per step where long
 * enough. */
void aead_wide_tag(uint8_t tag[16], const uint8_t otk[32], const uint8_t *ct, uint32_t len);
/* One message sealed / opened entirely on the wide path (open verifies
 * before it decrypts). */
void aead_wide_seal(struct aead_op *op);
bool aead_wide_open(struct aead_op *op);

#endif
