// SPDX-License-Identifier: GPL-2.0-only
/*
 * poly1305_lanes.c - the scalar bookkeeping every cross-packet Poly1305
 * engine shares: where a lane reads its next block, the RFC 8439 2.8 tail
 * (zero pad, le64 AAD length, le64 ciphertext length), and the final
 * reduction from whatever limb radix the SIMD code uses.
 */
#include <string.h>

#include "memzero.h"
#include "poly1305_lanes.h"


void poly1305_lane_start(struct poly1305_lane *ln, const struct poly1305_job *j, int ji,
			 uint64_t r[2])
{
	uint32_t full = j->len / 16, part = j->len % 16;
	uint64_t len = j->len;

	memset(ln->tail, 0, sizeof(ln->tail));
	if (part)
		memcpy(ln->tail, j->ct + 16 * full, part);
	/* le64(aad length) is zero: only the ciphertext length is written */
	memcpy(ln->tail + (part ? 24 : 8), &len, 8);
	ln->tail_blocks = part ? 2 : 1;
	ln->job = ji;
	if (full) {
		ln->p = j->ct;
		ln->left = full;
		ln->in_tail = 0;
	} else {
		ln->p = ln->tail;
		ln->left = ln->tail_blocks;
		ln->in_tail = 1;
	}
	memcpy(r, j->otk, 16);
	/* clamp (RFC 8439 section 2.5) */
	r[0] &= 0x0ffffffc0fffffffull;
	r[1] &= 0x0ffffffc0ffffffcull;
}

bool poly1305_lane_advance(struct poly1305_lane *ln, uint32_t steps)
{
	ln->p += 16 * (size_t)steps;
	ln->left -= steps;
	if (ln->left)
		return false;
	if (ln->in_tail)
		return true;
	ln->p = ln->tail;
	ln->left = ln->tail_blocks;
	ln->in_tail = 1;
	return false;
}

void poly1305_lane_finish26(uint64_t h[5], const uint8_t otk[32], uint8_t tag[16])
{
	const uint64_t m = 0x3ffffff;
	uint64_t g[5], c, mask;
	unsigned __int128 t, sv;

	/* one carry pass: every limb < 2^26 except h1 <= 2^26 */
	c = h[0] >> 26; h[0] &= m; h[1] += c;
	c = h[1] >> 26; h[1] &= m; h[2] += c;
	c = h[2] >> 26; h[2] &= m; h[3] += c;
	c = h[3] >> 26; h[3] &= m; h[4] += c;
	c = h[4] >> 26; h[4] &= m; h[0] += c * 5;
	c = h[0] >> 26; h[0] &= m; h[1] += c;

	/* g = h + 5 - 2^130; take g when that did not borrow (constant time) */
	g[0] = h[0] + 5; c = g[0] >> 26; g[0] &= m;
	for (int i = 1; i < 4; i++) {
		g[i] = h[i] + c; c = g[i] >> 26; g[i] &= m;
	}
	g[4] = h[4] + c - (1ull << 26);
	mask = (g[4] >> 63) - 1;
	for (int i = 0; i < 5; i++)
		h[i] = (h[i] & ~mask) | (g[i] & mask);

	/* tag = (h + s) mod 2^128: additions, so an unnormalised h1 is fine */
	t = (unsigned __int128)h[0] + ((unsigned __int128)h[1] << 26) +
	    ((unsigned __int128)h[2] << 52) + ((unsigned __int128)h[3] << 78) +
	    ((unsigned __int128)h[4] << 104);
	memcpy(&sv, otk + 16, 16);
	t += sv;
	memcpy(tag, &t, 16);
	memzero_explicit(g, sizeof(g));
	memzero_explicit(h, 5 * sizeof(h[0]));
}
