/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_keys.h - the fixed identities of the WireGuard fuzz harnesses. With fixed keys the
 * harness can compute a valid mac1 for whatever the fuzzer produced, so inputs get past the
 * cheap mac1 gate into the Noise code (whitepaper 5.4.4). Private keys are RFC 7748 6.1's
 * Alice and Bob; public keys are derived at start-up by the code under test.
 */
#ifndef MG_FUZZ_WG_KEYS_H
#define MG_FUZZ_WG_KEYS_H

#include <stdint.h>
#include <string.h>

#include "wireguard/noise.h"

static const uint8_t fuzz_resp_private[32] = {   /* the router (responder) */
	0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
	0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a,
};
static const uint8_t fuzz_init_private[32] = {   /* the laptop (initiator) */
	0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
	0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb,
};
static const uint8_t fuzz_psk[32] = { 0x42 };

/* Cursor over the fuzzer's bytes: reads past the end give zeros, so every input is usable. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline void fuzz_bytes(struct fuzz_in *in, void *out, size_t len)
{
	size_t k = len < in->n ? len : in->n;

	memcpy(out, in->p, k);
	memset((uint8_t *)out + k, 0, len - k);
	in->p += k;
	in->n -= k;
}

/* Flips bytes of msg[from, limit) by up to max (position, xor) pairs read from the input. */
static inline void fuzz_flip(struct fuzz_in *in, uint8_t *msg, size_t from, size_t limit, unsigned max)
{
	unsigned count = fuzz_u8(in) % (max + 1);

	while (count--) {
		size_t pos = from + fuzz_u8(in) % (limit - from);

		msg[pos] ^= fuzz_u8(in);
	}
}

#endif
