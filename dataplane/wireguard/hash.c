// SPDX-License-Identifier: GPL-2.0-only
/*
 * hash.c - BLAKE2s constructions for WireGuard (whitepaper section 5.4).
 *
 * libb2 provides plain and keyed BLAKE2s (RFC 7693); HMAC and the KDF are
 * built here because WireGuard uses HMAC-BLAKE2s rather than BLAKE2s' own
 * keyed mode for its HKDF.
 */
#include "wireguard/hash.h"
#include "wireguard/messages.h"

#include <blake2.h>
#include <endian.h>
#include <string.h>
#include <time.h>
#include <sodium/utils.h>

void wg_hash(uint8_t out[WG_HASH_LEN], const void *a, size_t alen,
	     const void *b, size_t blen)
{
	blake2s_state s;

	blake2s_init(&s, WG_HASH_LEN);
	blake2s_update(&s, a, alen);
	if (blen)
		blake2s_update(&s, b, blen);
	blake2s_final(&s, out, WG_HASH_LEN);
	sodium_memzero(&s, sizeof(s));
}

void wg_mac(uint8_t out[WG_MAC_LEN], const void *key, size_t keylen,
	    const void *in, size_t inlen)
{
	blake2s(out, in, key, WG_MAC_LEN, inlen, keylen);
}

/* RFC 2104 with B = 64 (BLAKE2s block) and L = 32. */
void wg_hmac(uint8_t out[WG_HASH_LEN], const void *key, size_t keylen,
	     const void *in, size_t inlen)
{
	uint8_t k[WG_BLAKE2S_BLOCK_LEN] = { 0 }, inner[WG_HASH_LEN];
	blake2s_state s;
	size_t i;

	if (keylen > WG_BLAKE2S_BLOCK_LEN)
		wg_hash(k, key, keylen, NULL, 0);
	else
		memcpy(k, key, keylen);

	for (i = 0; i < sizeof(k); ++i)
		k[i] ^= 0x36;
	blake2s_init(&s, WG_HASH_LEN);
	blake2s_update(&s, k, sizeof(k));
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, inner, WG_HASH_LEN);

	for (i = 0; i < sizeof(k); ++i)
		k[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&s, WG_HASH_LEN);
	blake2s_update(&s, k, sizeof(k));
	blake2s_update(&s, inner, WG_HASH_LEN);
	blake2s_final(&s, out, WG_HASH_LEN);

	sodium_memzero(k, sizeof(k));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&s, sizeof(s));
}

/*
 * RFC 5869 with HMAC-BLAKE2s, salt = chaining key, empty info:
 *   secret = HMAC(ck, data)            (extract)
 *   T1 = HMAC(secret, 0x01)            (expand)
 *   T2 = HMAC(secret, T1 || 0x02)
 *   T3 = HMAC(secret, T2 || 0x03)
 */
void wg_kdf(uint8_t first[WG_HASH_LEN], uint8_t second[WG_HASH_LEN],
	    uint8_t third[WG_HASH_LEN], const void *data, size_t len,
	    const uint8_t chaining_key[WG_HASH_LEN])
{
	uint8_t secret[WG_HASH_LEN], buf[WG_HASH_LEN + 1];

	wg_hmac(secret, chaining_key, WG_HASH_LEN, data, len);

	buf[0] = 1;
	wg_hmac(buf, secret, sizeof(secret), buf, 1);
	memcpy(first, buf, WG_HASH_LEN);
	if (second) {
		buf[WG_HASH_LEN] = 2;
		wg_hmac(buf, secret, sizeof(secret), buf, sizeof(buf));
		memcpy(second, buf, WG_HASH_LEN);
	}
	if (second && third) {
		buf[WG_HASH_LEN] = 3;
		wg_hmac(buf, secret, sizeof(secret), buf, sizeof(buf));
		memcpy(third, buf, WG_HASH_LEN);
	}
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(buf, sizeof(buf));
}

/*
 * TAI64N (cr.yp.to/libtai/tai64.html): big-endian 2^62 + 10 + seconds, then
 * big-endian nanoseconds. Like the kernel, the nanoseconds are rounded down
 * to the largest power of two not above 1 s / INITIATIONS_PER_SECOND
 * (2^24 ns ~ 16.8 ms), so the timestamp leaks no finer timer than the
 * responder's flood limit already allows.
 */
#define TAI64N_NS_GRANULARITY (1U << 24)
static_assert(TAI64N_NS_GRANULARITY <= NSEC_PER_SEC / INITIATIONS_PER_SECOND &&
	      2ULL * TAI64N_NS_GRANULARITY > NSEC_PER_SEC / INITIATIONS_PER_SECOND,
	      "granularity is the rounded-down power of two");

void tai64n_at(uint8_t out[12], uint64_t realtime_ns)
{
	uint64_t sec = htobe64(0x400000000000000aULL + realtime_ns / NSEC_PER_SEC);
	uint32_t nsec = (uint32_t)(realtime_ns % NSEC_PER_SEC);

	nsec = htobe32(nsec & ~(TAI64N_NS_GRANULARITY - 1));
	memcpy(out, &sec, 8);
	memcpy(out + 8, &nsec, 4);
}

void tai64n_now(uint8_t out[12])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	tai64n_at(out, (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec);
}
