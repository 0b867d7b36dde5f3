// SPDX-License-Identifier: GPL-2.0-only
/*
 * noise.c - the WireGuard handshake: Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s.
 *
 *   IKpsk2:
 *     <- s
 *     ...
 *     -> e, es, s, ss, {t}        (message 1: initiation, 148 B)
 *     <- e, ee, se, psk, {}       (message 2: response, 92 B)
 *
 * Both sides start from
 *   C = HASH(CONSTRUCTION)
 *   H = HASH(HASH(C || IDENTIFIER) || responder static public)
 * and each step below is tagged with the pattern token it implements.
 * "e" mixes the ephemeral into H and C (WireGuard also mixes it into C,
 * as the psk modifier requires); DH tokens run KDF over the X25519 output;
 * {x} is AEAD with the current key, nonce 0 and H as associated data, after
 * which the ciphertext is mixed into H. The transport keys are
 * KDF2(C, empty) at the end: T1 sends initiator->responder.
 */
#include "wireguard/noise.h"
#include "wireguard/hash.h"

#include <endian.h>
#include <string.h>
#include <sodium.h>

static const char noise_construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char wg_identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

/* The initial C and the H before the responder static is mixed in. */
static void handshake_start(uint8_t ck[NOISE_HASH_LEN], uint8_t h[NOISE_HASH_LEN],
			    const uint8_t responder_static[NOISE_PUBLIC_KEY_LEN])
{
	wg_hash(ck, noise_construction, sizeof(noise_construction) - 1, NULL, 0);
	wg_hash(h, ck, NOISE_HASH_LEN, wg_identifier, sizeof(wg_identifier) - 1);
	wg_hash(h, h, NOISE_HASH_LEN, responder_static, NOISE_PUBLIC_KEY_LEN);
}

static void mix_hash(uint8_t h[NOISE_HASH_LEN], const void *in, size_t len)
{
	wg_hash(h, h, NOISE_HASH_LEN, in, len);
}

/* Token e: H = HASH(H || e), C = KDF1(C, e). */
static void mix_ephemeral(uint8_t ck[NOISE_HASH_LEN], uint8_t h[NOISE_HASH_LEN],
			  const uint8_t e[NOISE_PUBLIC_KEY_LEN])
{
	mix_hash(h, e, NOISE_PUBLIC_KEY_LEN);
	wg_kdf(ck, NULL, NULL, e, NOISE_PUBLIC_KEY_LEN, ck);
}

/* DH tokens: (C, k) = KDF2(C, DH(priv, pub)). Fails on an all-zero shared
 * point, i.e. a low-order public key (libsodium reports it). k may be NULL. */
static bool mix_dh(uint8_t ck[NOISE_HASH_LEN], uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
		   const uint8_t priv[NOISE_PUBLIC_KEY_LEN],
		   const uint8_t pub[NOISE_PUBLIC_KEY_LEN])
{
	uint8_t dh[NOISE_PUBLIC_KEY_LEN];

	if (crypto_scalarmult(dh, priv, pub) != 0) {
		sodium_memzero(dh, sizeof(dh));
		return false;
	}
	wg_kdf(ck, key, NULL, dh, sizeof(dh), ck);
	sodium_memzero(dh, sizeof(dh));
	return true;
}

static bool mix_precomputed_dh(uint8_t ck[NOISE_HASH_LEN],
			       uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
			       const uint8_t precomputed[NOISE_PUBLIC_KEY_LEN])
{
	if (sodium_is_zero(precomputed, NOISE_PUBLIC_KEY_LEN))
		return false;
	wg_kdf(ck, key, NULL, precomputed, NOISE_PUBLIC_KEY_LEN, ck);
	return true;
}

/* Token psk: (C, tau, k) = KDF3(C, psk); H = HASH(H || tau). */
static void mix_psk(uint8_t ck[NOISE_HASH_LEN], uint8_t h[NOISE_HASH_LEN],
		    uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
		    const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	uint8_t tau[NOISE_HASH_LEN];

	wg_kdf(ck, tau, key, psk, NOISE_SYMMETRIC_KEY_LEN, ck);
	mix_hash(h, tau, sizeof(tau));
	sodium_memzero(tau, sizeof(tau));
}

/* {x}: AEAD(k, 0, x, H), then H = HASH(H || ciphertext). RFC 8439 nonce
 * layout: 32 zero bits then the 64-bit counter, here 0. */
static void aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
		      const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t h[NOISE_HASH_LEN])
{
	static const uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	static const uint8_t empty[1];

	crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, len ? src : empty, len,
						  h, NOISE_HASH_LEN, NULL, nonce, key);
	mix_hash(h, dst, noise_encrypted_len(len));
}

static bool aead_open(uint8_t *dst, const uint8_t *src, size_t len,
		      const uint8_t key[NOISE_SYMMETRIC_KEY_LEN], uint8_t h[NOISE_HASH_LEN])
{
	static const uint8_t nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
	uint8_t scratch[1];

	if (crypto_aead_chacha20poly1305_ietf_decrypt(len > NOISE_AUTHTAG_LEN ? dst : scratch,
						      NULL, NULL, src, len, h, NOISE_HASH_LEN,
						      nonce, key) != 0)
		return false;
	mix_hash(h, src, len);
	return true;
}

static void clamp_private(uint8_t k[NOISE_PUBLIC_KEY_LEN])
{
	k[0] &= 248;
	k[31] = (k[31] & 127) | 64;
}

void noise_generate_keypair(uint8_t private_key[NOISE_PUBLIC_KEY_LEN],
			    uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	randombytes_buf(private_key, NOISE_PUBLIC_KEY_LEN);
	clamp_private(private_key);
	crypto_scalarmult_base(public_key, private_key);
}

void noise_static_identity_set(struct noise_static_identity *ident,
			       const uint8_t private_key[NOISE_PUBLIC_KEY_LEN])
{
	sodium_memzero(ident, sizeof(*ident));
	if (!private_key || sodium_is_zero(private_key, NOISE_PUBLIC_KEY_LEN))
		return;
	memcpy(ident->static_private, private_key, NOISE_PUBLIC_KEY_LEN);
	clamp_private(ident->static_private);
	crypto_scalarmult_base(ident->static_public, ident->static_private);
	ident->has_identity = true;
}

void noise_precompute(struct noise_handshake *hs,
		      const struct noise_static_identity *ident)
{
	if (!ident->has_identity ||
	    crypto_scalarmult(hs->precomputed_static_static, ident->static_private,
			      hs->remote_static) != 0)
		sodium_memzero(hs->precomputed_static_static, NOISE_PUBLIC_KEY_LEN);
}

void noise_handshake_init(struct noise_handshake *hs,
			  const struct noise_static_identity *ident,
			  const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN],
			  const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	sodium_memzero(hs, sizeof(*hs));
	memcpy(hs->remote_static, remote_static, NOISE_PUBLIC_KEY_LEN);
	if (psk)
		memcpy(hs->preshared_key, psk, NOISE_SYMMETRIC_KEY_LEN);
	noise_precompute(hs, ident);
}

void noise_set_preshared_key(struct noise_handshake *hs,
			     const uint8_t psk[NOISE_SYMMETRIC_KEY_LEN])
{
	if (psk)
		memcpy(hs->preshared_key, psk, NOISE_SYMMETRIC_KEY_LEN);
	else
		sodium_memzero(hs->preshared_key, NOISE_SYMMETRIC_KEY_LEN);
}

/* Keeps remote_static, preshared_key, precomputed DH, latest_timestamp and
 * last_initiation_consumption_ns: those guard against replay across
 * handshakes and must outlive each one. */
void noise_handshake_clear(struct noise_handshake *hs)
{
	sodium_memzero(hs->ephemeral_private, NOISE_PUBLIC_KEY_LEN);
	sodium_memzero(hs->remote_ephemeral, NOISE_PUBLIC_KEY_LEN);
	sodium_memzero(hs->hash, NOISE_HASH_LEN);
	sodium_memzero(hs->chaining_key, NOISE_HASH_LEN);
	hs->local_index = 0;
	hs->remote_index = 0;
	hs->state = HANDSHAKE_ZEROED;
}

bool noise_create_initiation(const struct noise_static_identity *ident,
			     struct noise_handshake *hs,
			     struct msg_initiation *dst, uint32_t local_index,
			     const uint8_t timestamp[NOISE_TIMESTAMP_LEN])
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t e_priv[NOISE_PUBLIC_KEY_LEN];
	bool ok = false;

	if (!ident->has_identity)
		return false;
	handshake_start(ck, h, hs->remote_static);
	dst->header.type = htole32(MESSAGE_HANDSHAKE_INITIATION);
	dst->sender_index = htole32(local_index);

	/* e */
	noise_generate_keypair(e_priv, dst->unencrypted_ephemeral);
	mix_ephemeral(ck, h, dst->unencrypted_ephemeral);
	/* es */
	if (!mix_dh(ck, key, e_priv, hs->remote_static))
		goto out;
	/* s */
	aead_seal(dst->encrypted_static, ident->static_public, NOISE_PUBLIC_KEY_LEN, key, h);
	/* ss */
	if (!mix_precomputed_dh(ck, key, hs->precomputed_static_static))
		goto out;
	/* {t} */
	aead_seal(dst->encrypted_timestamp, timestamp, NOISE_TIMESTAMP_LEN, key, h);

	memcpy(hs->ephemeral_private, e_priv, sizeof(e_priv));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	hs->local_index = local_index;
	hs->state = HANDSHAKE_CREATED_INITIATION;
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(e_priv, sizeof(e_priv));
	return ok;
}

/* Replay: TAI64N is big-endian, so byte order is time order; the stored
 * value is public (it travelled encrypted but carries no secret), hence
 * plain memcmp. Flood: at most INITIATIONS_PER_SECOND consumed per peer. */
static enum noise_reject initiation_freshness(const struct noise_handshake *hs,
					      const uint8_t t[NOISE_TIMESTAMP_LEN], uint64_t now_ns)
{
	if (memcmp(t, hs->latest_timestamp, NOISE_TIMESTAMP_LEN) <= 0)
		return NOISE_REJECT_REPLAY;
	if (hs->last_initiation_consumption_ns &&
	    hs->last_initiation_consumption_ns + NSEC_PER_SEC / INITIATIONS_PER_SECOND > now_ns)
		return NOISE_REJECT_FLOOD;
	return NOISE_CONSUMED;
}

struct noise_handshake *
noise_consume_initiation_verdict(const struct noise_static_identity *ident,
				 const struct msg_initiation *src,
				 struct noise_handshake *(*lookup)(void *ctx,
					const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN]),
				 void *ctx, uint64_t now_ns, struct noise_verdict *v)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t s[NOISE_PUBLIC_KEY_LEN], t[NOISE_TIMESTAMP_LEN];
	struct noise_handshake *hs = NULL;

	*v = (struct noise_verdict){ .why = NOISE_REJECT_DECRYPT };
	if (!ident->has_identity ||
	    src->header.type != htole32(MESSAGE_HANDSHAKE_INITIATION))
		return NULL;
	handshake_start(ck, h, ident->static_public);

	/* e */
	mix_ephemeral(ck, h, src->unencrypted_ephemeral);
	/* es */
	if (!mix_dh(ck, key, ident->static_private, src->unencrypted_ephemeral))
		goto out;
	/* s */
	if (!aead_open(s, src->encrypted_static, sizeof(src->encrypted_static), key, h))
		goto out;
	v->why = NOISE_REJECT_UNKNOWN_PEER;
	hs = lookup(ctx, s);
	if (!hs)
		goto out;
	v->hs = hs;
	/* ss */
	if (!mix_precomputed_dh(ck, key, hs->precomputed_static_static))
		goto fail;
	/* {t} */
	v->why = NOISE_REJECT_TIMESTAMP;
	if (!aead_open(t, src->encrypted_timestamp, sizeof(src->encrypted_timestamp), key, h))
		goto fail;
	v->why = initiation_freshness(hs, t, now_ns);
	if (v->why != NOISE_CONSUMED)
		goto fail;

	memcpy(hs->remote_ephemeral, src->unencrypted_ephemeral, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->latest_timestamp, t, NOISE_TIMESTAMP_LEN);
	memcpy(hs->hash, h, sizeof(h));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	hs->remote_index = le32toh(src->sender_index);
	if (now_ns > hs->last_initiation_consumption_ns)
		hs->last_initiation_consumption_ns = now_ns;
	hs->state = HANDSHAKE_CONSUMED_INITIATION;
	goto out;
fail:
	hs = NULL;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	return hs;
}

struct noise_handshake *
noise_consume_initiation(const struct noise_static_identity *ident,
			 const struct msg_initiation *src,
			 struct noise_handshake *(*lookup)(void *ctx,
				const uint8_t remote_static[NOISE_PUBLIC_KEY_LEN]),
			 void *ctx, uint64_t now_ns)
{
	struct noise_verdict v;

	return noise_consume_initiation_verdict(ident, src, lookup, ctx, now_ns, &v);
}

bool noise_create_response(struct noise_handshake *hs,
			   struct msg_response *dst, uint32_t local_index)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	uint8_t e_priv[NOISE_PUBLIC_KEY_LEN];
	bool ok = false;

	if (hs->state != HANDSHAKE_CONSUMED_INITIATION)
		return false;
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));
	dst->header.type = htole32(MESSAGE_HANDSHAKE_RESPONSE);
	dst->sender_index = htole32(local_index);
	dst->receiver_index = htole32(hs->remote_index);

	/* e */
	noise_generate_keypair(e_priv, dst->unencrypted_ephemeral);
	mix_ephemeral(ck, h, dst->unencrypted_ephemeral);
	/* ee */
	if (!mix_dh(ck, NULL, e_priv, hs->remote_ephemeral))
		goto out;
	/* se */
	if (!mix_dh(ck, NULL, e_priv, hs->remote_static))
		goto out;
	/* psk */
	mix_psk(ck, h, key, hs->preshared_key);
	/* {} */
	aead_seal(dst->encrypted_nothing, NULL, 0, key, h);

	memcpy(hs->ephemeral_private, e_priv, sizeof(e_priv));
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	hs->local_index = local_index;
	hs->state = HANDSHAKE_CREATED_RESPONSE;
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(e_priv, sizeof(e_priv));
	return ok;
}

struct noise_handshake *
noise_consume_response(const struct noise_static_identity *ident,
		       const struct msg_response *src,
		       struct noise_handshake *(*lookup_index)(void *ctx,
							       uint32_t local_index),
		       void *ctx)
{
	uint8_t key[NOISE_SYMMETRIC_KEY_LEN], ck[NOISE_HASH_LEN], h[NOISE_HASH_LEN];
	const uint8_t *e = src->unencrypted_ephemeral;
	struct noise_handshake *hs;
	bool ok = false;

	if (!ident->has_identity ||
	    src->header.type != htole32(MESSAGE_HANDSHAKE_RESPONSE))
		return NULL;
	hs = lookup_index(ctx, le32toh(src->receiver_index));
	if (!hs || hs->state != HANDSHAKE_CREATED_INITIATION)
		return NULL;
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));

	/* e */
	mix_ephemeral(ck, h, e);
	/* ee */
	if (!mix_dh(ck, NULL, hs->ephemeral_private, e))
		goto out;
	/* se */
	if (!mix_dh(ck, NULL, ident->static_private, e))
		goto out;
	/* psk */
	mix_psk(ck, h, key, hs->preshared_key);
	/* {} */
	if (!aead_open(NULL, src->encrypted_nothing, sizeof(src->encrypted_nothing), key, h))
		goto out;

	memcpy(hs->remote_ephemeral, e, NOISE_PUBLIC_KEY_LEN);
	memcpy(hs->chaining_key, ck, sizeof(ck));
	memcpy(hs->hash, h, sizeof(h));
	hs->remote_index = le32toh(src->sender_index);
	hs->state = HANDSHAKE_CONSUMED_RESPONSE;
	ok = true;
out:
	sodium_memzero(key, sizeof(key));
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(h, sizeof(h));
	return ok ? hs : NULL;
}

bool noise_derive_keypair(struct noise_handshake *hs,
			  struct noise_keypair *out, uint64_t now_ns)
{
	bool initiator = hs->state == HANDSHAKE_CONSUMED_RESPONSE;

	if (!initiator && hs->state != HANDSHAKE_CREATED_RESPONSE)
		return false;
	/* (T1, T2) = KDF2(C, empty): T1 is initiator -> responder */
	if (initiator)
		wg_kdf(out->send_key, out->recv_key, NULL, NULL, 0, hs->chaining_key);
	else
		wg_kdf(out->recv_key, out->send_key, NULL, NULL, 0, hs->chaining_key);
	out->birthdate_ns = now_ns;
	out->local_index = hs->local_index;
	out->remote_index = hs->remote_index;
	out->i_am_initiator = initiator;
	atomic_init(&out->send_counter, 0);
	replay_init(&out->replay);
	atomic_init(&out->sent_lastminute_handshake, false);
	noise_handshake_clear(hs);
	return true;
}

void noise_keypair_wipe(struct noise_keypair *kp)
{
	sodium_memzero(kp->send_key, sizeof(kp->send_key));
	sodium_memzero(kp->recv_key, sizeof(kp->recv_key));
}
