// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_generic.c - portable backend for CPUs without AVX2: one message at a
 * time with chacha20.c and poly1305.c. Open verifies before it decrypts.
 */
#include <string.h>

#include "aead_backend.h"
#include "aead_scrub.h"
#include "chacha20.h"
#include "memzero.h"
#include "poly1305.h"

static void generic_seal_one(struct aead_op *op)
{
	uint32_t st[16];
	uint8_t block0[CHACHA20_BLOCK_SIZE];

	chacha20_init(st, op->key, op->counter);
	/* block 0 keys Poly1305, the message starts at block 1 (RFC 8439 2.6, 2.8) */
	chacha20_block(block0, st);
	chacha20_xor(op->dst, op->src, op->len, st);
	poly1305_aead(op->dst + op->len, block0, op->dst, op->len);
	memzero_explicit(st, sizeof(st));
	memzero_explicit(block0, sizeof(block0));
}

static bool generic_open_one(struct aead_op *op)
{
	uint32_t st[16];
	uint8_t block0[CHACHA20_BLOCK_SIZE], tag[AEAD_TAG_LEN];
	bool ok;

	chacha20_init(st, op->key, op->counter);
	chacha20_block(block0, st);
	poly1305_aead(tag, block0, op->src, op->len);
	ok = aead_tag_equal(tag, op->src + op->len);
	if (ok)
		chacha20_xor(op->dst, op->src, op->len, st);
	memzero_explicit(st, sizeof(st));
	memzero_explicit(block0, sizeof(block0));
	memzero_explicit(tag, sizeof(tag));        /* a forged message's computed tag is a forgery */
	return ok;
}

/* The state and keystream copies are wiped above, but register spills of
 * the block function are not: scrub them once per burst (aead_backend.h). */
static void generic_seal(struct aead_op *ops, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		generic_seal_one(&ops[i]);
	aead_stack_scrub(AEAD_SCRUB_GENERIC);
}

static uint64_t generic_open(struct aead_op *ops, unsigned n)
{
	uint64_t ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok |= (uint64_t)generic_open_one(&ops[i]) << i;
	aead_stack_scrub(AEAD_SCRUB_GENERIC);
	return ok;
}

const struct aead_backend aead_generic_backend = {
	.name = "generic",
	.seal = generic_seal,
	.open = generic_open,
};
