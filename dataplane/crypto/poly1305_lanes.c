// SPDX-License-Identifier: GPL-2.0-only
/*
 * poly1305_lanes.c - the scalar bookkeeping every cross-packet Poly1305
 * engine shares: where a lane reads its next block and the RFC 8439 2.8
 * tail (zero pad, le64 AAD length, le64 ciphertext length).
 */
#include <string.h>

#include "poly1305_lanes.h"


void poly1305_lane_start(struct poly1305_lane *ln, const struct poly1305_job *j, int ji)
{
	uint32_t full = j->len / 16, part = j->len % 16;
	uint64_t len = j->len;

	memset(ln->tail, 0, sizeof(ln->tail));
	if (part)
		memcpy(ln->tail, j->ct + 16 * full, part);
	/* le64(aad length) is zero: only the ciphertext length is written */
	memcpy(ln->tail + (part ? 24 : 8), &len, 8);
	ln->job = ji;
	ln->left = full + (part ? 2 : 1);
	ln->p = full ? j->ct : ln->tail;
	ln->end = full ? j->ct + 16 * (size_t)full : NULL;
}

void poly1305_clamp(uint64_t r[2], const uint8_t otk[32])
{
	memcpy(r, otk, 16);
	r[0] &= 0x0ffffffc0fffffffull;
	r[1] &= 0x0ffffffc0ffffffcull;
}
