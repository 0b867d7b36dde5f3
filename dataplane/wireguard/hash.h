/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hash.h - BLAKE2s-based primitives of the WireGuard construction:
 * HASH (BLAKE2s-256), MAC (keyed BLAKE2s-128), HMAC-BLAKE2s (RFC 2104),
 * the HKDF-style KDF1/2/3 (RFC 5869 extract+expand as the whitepaper uses
 * it) and TAI64N timestamps.
 */
#ifndef MG_WG_HASH_H
#define MG_WG_HASH_H

#include <stddef.h>
#include <stdint.h>

#define WG_HASH_LEN 32
#define WG_MAC_LEN 16
#define WG_BLAKE2S_BLOCK_LEN 64

/* out = BLAKE2s-256(a || b); b may be NULL when blen == 0. */
void wg_hash(uint8_t out[WG_HASH_LEN], const void *a, size_t alen,
	     const void *b, size_t blen);

/* out = BLAKE2s-128 keyed with key (keylen 1..32); used for mac1/mac2/cookie. */
void wg_mac(uint8_t out[WG_MAC_LEN], const void *key, size_t keylen,
	    const void *in, size_t inlen);

/* out = HMAC-BLAKE2s-256(key, in); out may alias key or in. */
void wg_hmac(uint8_t out[WG_HASH_LEN], const void *key, size_t keylen,
	     const void *in, size_t inlen);

/*
 * KDF_n(chaining_key, data): writes T1 to first and, when non-NULL, T2 to
 * second and T3 to third (each 32 bytes). Any output may alias chaining_key
 * or data: the extracted secret is computed before anything is written.
 */
void wg_kdf(uint8_t first[WG_HASH_LEN], uint8_t second[WG_HASH_LEN],
	    uint8_t third[WG_HASH_LEN], const void *data, size_t len,
	    const uint8_t chaining_key[WG_HASH_LEN]);

/* TAI64N label of CLOCK_REALTIME, nanoseconds rounded down to a multiple
 * of 2^24 ns (see tai64n_at). */
void tai64n_now(uint8_t out[12]);

/* Same for an injected realtime in ns since the UNIX epoch. */
void tai64n_at(uint8_t out[12], uint64_t realtime_ns);

#endif
