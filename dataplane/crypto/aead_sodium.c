// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_sodium.c - the reference backend: libsodium, one message at a time.
 * libsodium verifies the tag before it decrypts, so a forged message never
 * produces plaintext in dst.
 */
#include <errno.h>
#include <sodium.h>

#include "aead_backend.h"

static void sodium_seal(struct aead_op *ops, unsigned n)
{
	uint8_t nonce[12];

	for (unsigned i = 0; i < n; i++) {
		struct aead_op *op = &ops[i];

		aead_nonce(nonce, op->counter);
		crypto_aead_chacha20poly1305_ietf_encrypt_detached(
			op->dst, op->dst + op->len, NULL, op->src, op->len,
			NULL, 0, NULL, nonce, op->key);
	}
}

static uint64_t sodium_open(struct aead_op *ops, unsigned n)
{
	uint64_t ok = 0;
	uint8_t nonce[12];

	for (unsigned i = 0; i < n; i++) {
		struct aead_op *op = &ops[i];

		aead_nonce(nonce, op->counter);
		if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(
			    op->dst, NULL, op->src, op->len, op->src + op->len,
			    NULL, 0, nonce, op->key) == 0)
			ok |= 1ull << i;
	}
	return ok;
}

static int sodium_setup(unsigned features)
{
	(void)features;
	return sodium_init() < 0 ? -EIO : 0;
}

const struct aead_backend aead_sodium_backend = {
	.name = "sodium",
	.library = true,
	.setup = sodium_setup,
	.seal = sodium_seal,
	.open = sodium_open,
};
