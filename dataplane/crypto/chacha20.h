/* SPDX-License-Identifier: GPL-2.0-only */
/* chacha20.h - portable ChaCha20 (RFC 8439 section 2.3/2.4) with the
 * WireGuard nonce layout: word 12 = block counter, word 13 = 0,
 * words 14..15 = le64(message counter). */
#ifndef MG_CRYPTO_CHACHA20_H
#define MG_CRYPTO_CHACHA20_H

#include <stddef.h>
#include <stdint.h>

#define CHACHA20_BLOCK_SIZE 64

/* "expand 32-byte k", RFC 8439 section 2.3 */
#define CHACHA20_C0 0x61707865u
#define CHACHA20_C1 0x3320646eu
#define CHACHA20_C2 0x79622d32u
#define CHACHA20_C3 0x6b206574u

void chacha20_init(uint32_t state[16], const uint8_t key[32], uint64_t counter);
/* One keystream block for state (block counter = state[12]); state[12]++. */
void chacha20_block(uint8_t out[CHACHA20_BLOCK_SIZE], uint32_t state[16]);
/* dst = src ^ keystream, starting at block state[12]. dst == src allowed. */
void chacha20_xor(uint8_t *dst, const uint8_t *src, size_t len, uint32_t state[16]);

#endif
