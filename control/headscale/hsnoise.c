// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsnoise.c - ts2021 Noise, initiator side (TS control/controlbase).
 *
 *   Noise_IK_25519_ChaChaPoly_BLAKE2s, prologue "Tailscale Control Protocol v<version>"
 *     <- s                       (pre-message: server key from GET /key)
 *     ...
 *     -> e, es, s, ss            (payload empty: message 1 ends with a bare tag)
 *     <- e, ee, se               (payload empty)
 *   Split -> k1 (client->server), k2 (server->client).
 *
 * Every handshake key is used exactly once, so the handshake nonce is always zero. Transport
 * records number their nonces big-endian, unlike the Noise specification.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <blake2.h>
#include <sodium.h>
#include "hsnoise.h"

static const char protocol_name[] = "Noise_IK_25519_ChaChaPoly_BLAKE2s";

static void hash2(uint8_t out[32], const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	blake2s_state s;

	blake2s_init(&s, 32);
	blake2s_update(&s, a, alen);
	blake2s_update(&s, b, blen);
	blake2s_final(&s, out, 32);
}

/* HMAC-BLAKE2s (RFC 2104, 64-byte block); @key is at most 32 bytes here. */
static void hmac(uint8_t out[32], const uint8_t key[32], const uint8_t *in, size_t len)
{
	uint8_t pad[64], inner[32];
	int i;

	for (i = 0; i < 64; i++)
		pad[i] = (i < 32 ? key[i] : 0) ^ 0x36;
	hash2(inner, pad, 64, in, len);
	for (i = 0; i < 64; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	hash2(out, pad, 64, inner, 32);
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

/* Noise HKDF with two outputs (RFC 5869 extract + expand, salt = ck). */
static void hkdf2(uint8_t o1[32], uint8_t o2[32], const uint8_t ck[32], const uint8_t *ikm, size_t len)
{
	uint8_t prk[32], t[33];

	hmac(prk, ck, ikm, len);
	t[0] = 1;
	hmac(t, prk, t, 1);
	memcpy(o1, t, 32);
	t[32] = 2;
	hmac(o2, prk, t, 33);
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
}

static void mix_hash(uint8_t h[32], const void *data, size_t len)
{
	hash2(h, h, 32, data, len);
}

/* MixKey(DH(priv, pub)) -> ck and the next one-shot key; -EINVAL on a low-order point. */
static int mix_dh(struct hs_noise_hs *hs, uint8_t key[32], const uint8_t priv[32], const uint8_t pub[32])
{
	uint8_t dh[32];

	if (crypto_scalarmult_curve25519(dh, priv, pub))
		return -EINVAL;
	hkdf2(hs->ck, key, hs->ck, dh, 32);
	sodium_memzero(dh, sizeof(dh));
	return 0;
}

static const uint8_t zero_nonce[12];

/* EncryptAndHash with nonce 0: ciphertext (len + 16) to @out, then MixHash(ciphertext). */
static void encrypt_and_hash(struct hs_noise_hs *hs, const uint8_t key[32], const uint8_t *pt, size_t len, uint8_t *out)
{
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, len, hs->h, 32, NULL, zero_nonce, key);
	mix_hash(hs->h, out, len + 16);
}

int hs_noise_initiate(struct hs_noise_hs *hs, uint16_t version, const uint8_t s_priv[32],
		      const uint8_t rs[32], const uint8_t *e_priv, uint8_t out[HS_NOISE_INIT_LEN])
{
	char prologue[48];
	uint8_t key[32], s_pub[32];
	int n, ret = -EINVAL;

	memset(hs, 0, sizeof(*hs));
	/* The name is 33 bytes, longer than HASHLEN: h = HASH(name). */
	hash2(hs->h, (const uint8_t *)protocol_name, strlen(protocol_name), NULL, 0);
	memcpy(hs->ck, hs->h, 32);
	n = snprintf(prologue, sizeof(prologue), "Tailscale Control Protocol v%u", version);
	mix_hash(hs->h, prologue, (size_t)n);
	memcpy(hs->rs, rs, 32);
	mix_hash(hs->h, rs, 32);                                   /* <- s */
	memcpy(hs->s_priv, s_priv, 32);
	if (e_priv)
		memcpy(hs->e_priv, e_priv, 32);
	else
		randombytes_buf(hs->e_priv, 32);
	crypto_scalarmult_curve25519_base(hs->e_pub, hs->e_priv);
	out[0] = version >> 8;
	out[1] = version & 0xff;
	out[2] = HS_MSG_INITIATION;
	out[3] = 0;
	out[4] = HS_NOISE_INIT_LEN - 5;
	memcpy(out + 5, hs->e_pub, 32);                            /* -> e */
	mix_hash(hs->h, hs->e_pub, 32);
	if (mix_dh(hs, key, hs->e_priv, rs))                       /* es */
		goto out;
	crypto_scalarmult_curve25519_base(s_pub, s_priv);
	encrypt_and_hash(hs, key, s_pub, 32, out + 37);            /* s */
	if (mix_dh(hs, key, s_priv, rs))                           /* ss */
		goto out;
	encrypt_and_hash(hs, key, NULL, 0, out + 85);              /* empty payload */
	ret = 0;
out:
	sodium_memzero(key, sizeof(key));
	if (ret)
		sodium_memzero(hs, sizeof(*hs));
	return ret;
}

int hs_noise_finish(struct hs_noise_hs *hs, const uint8_t in[HS_NOISE_RESP_LEN], struct hs_transport *t)
{
	uint8_t key[32];
	int ret = -EPROTO;

	if (in[0] != HS_MSG_RESPONSE || in[1] != 0 || in[2] != HS_NOISE_RESP_LEN - 3)
		goto out;
	ret = -EBADMSG;
	mix_hash(hs->h, in + 3, 32);                               /* <- e */
	if (mix_dh(hs, key, hs->e_priv, in + 3) ||                 /* ee */
	    mix_dh(hs, key, hs->s_priv, in + 3))                   /* se */
		goto out;
	if (crypto_aead_chacha20poly1305_ietf_decrypt(NULL, NULL, NULL, in + 35, 16, hs->h, 32, zero_nonce, key))
		goto out;
	mix_hash(hs->h, in + 35, 16);
	memset(t, 0, sizeof(*t));
	hkdf2(t->tx.key, t->rx.key, hs->ck, NULL, 0);             /* Split */
	memcpy(t->handshake_hash, hs->h, 32);
	ret = 0;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(hs, sizeof(*hs));
	return ret;
}

void hs_record_nonce(uint8_t out[12], uint64_t counter)
{
	int i;

	memset(out, 0, 4);
	for (i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

int hs_record_seal(struct hs_cipher *c, const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	if (len > HS_RECORD_PT_MAX)
		return -ENOSPC;
	/* 2^64-1 is never used as a nonce: the connection dies first (controlbase/conn.go). */
	if (c->nonce == UINT64_MAX)
		return -EOVERFLOW;
	hs_record_nonce(nonce, c->nonce++);
	out[0] = HS_MSG_RECORD;
	out[1] = (uint8_t)((len + 16) >> 8);
	out[2] = (uint8_t)(len + 16);
	crypto_aead_chacha20poly1305_ietf_encrypt(out + HS_RECORD_HDR, NULL, pt, len, NULL, 0, NULL, nonce, c->key);
	return (int)(len + 16 + HS_RECORD_HDR);
}

int hs_record_open(struct hs_cipher *c, const uint8_t *ct, size_t len, uint8_t *pt)
{
	uint8_t nonce[12];

	if (c->nonce == UINT64_MAX)
		return -EOVERFLOW;
	if (len < 16 || len > HS_RECORD_MAX - HS_RECORD_HDR)
		return -EBADMSG;
	hs_record_nonce(nonce, c->nonce);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(pt, NULL, NULL, ct, len, NULL, 0, nonce, c->key))
		return -EBADMSG;
	c->nonce++;
	return (int)(len - 16);
}
