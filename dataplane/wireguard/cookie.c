// SPDX-License-Identifier: GPL-2.0-only
/*
 * cookie.c - DoS cookies, kernel cookie.c semantics.
 *
 *   mac1 key   = HASH("mac1----" || receiver static public)
 *   cookie key = HASH("cookie--" || responder static public)
 *   mac1       = MAC(mac1 key, msg up to mac1)
 *   cookie     = MAC(secret, src addr || src port), secret rotated every 120 s
 *   mac2       = MAC(cookie, msg up to mac2)
 *   reply      = XChaCha20-Poly1305(cookie key, random 24-byte nonce,
 *                                   cookie, AAD = mac1 of the message)
 */
#include "wireguard/cookie.h"
#include "wireguard/hash.h"

#include <endian.h>
#include <string.h>
#include <sodium.h>

static const char label_mac1[8] = "mac1----";
static const char label_cookie[8] = "cookie--";

static void precompute_key(uint8_t key[NOISE_SYMMETRIC_KEY_LEN],
			   const uint8_t pubkey[NOISE_PUBLIC_KEY_LEN],
			   const char label[8])
{
	wg_hash(key, label, 8, pubkey, NOISE_PUBLIC_KEY_LEN);
}

static void compute_mac1(uint8_t mac1[COOKIE_LEN], const void *msg, size_t len,
			 const uint8_t key[NOISE_SYMMETRIC_KEY_LEN])
{
	wg_mac(mac1, key, NOISE_SYMMETRIC_KEY_LEN, msg, len - sizeof(struct msg_macs));
}

static void compute_mac2(uint8_t mac2[COOKIE_LEN], const void *msg, size_t len,
			 const uint8_t cookie[COOKIE_LEN])
{
	wg_mac(mac2, cookie, COOKIE_LEN, msg, len - sizeof(struct msg_macs) + COOKIE_LEN);
}

static void make_cookie(struct cookie_checker *c, uint8_t cookie[COOKIE_LEN],
			const uint8_t *src_addr, size_t addr_len,
			uint16_t src_port_be, uint64_t now_ns)
{
	uint8_t input[16 + sizeof(uint16_t)];

	if (!c->secret_birthdate_ns ||
	    now_ns - c->secret_birthdate_ns >= COOKIE_SECRET_MAX_AGE_NS) {
		randombytes_buf(c->secret, sizeof(c->secret));
		c->secret_birthdate_ns = now_ns ? now_ns : 1;
	}
	if (addr_len > 16)
		addr_len = 16;
	memcpy(input, src_addr, addr_len);
	memcpy(input + addr_len, &src_port_be, sizeof(src_port_be));
	wg_mac(cookie, c->secret, sizeof(c->secret), input, addr_len + sizeof(src_port_be));
	sodium_memzero(input, sizeof(input));
}

void cookie_checker_init(struct cookie_checker *c, const uint8_t our_public[NOISE_PUBLIC_KEY_LEN])
{
	sodium_memzero(c, sizeof(*c));
	precompute_key(c->mac1_key, our_public, label_mac1);
	precompute_key(c->cookie_encryption_key, our_public, label_cookie);
}

enum cookie_mac_state cookie_validate_packet(struct cookie_checker *c, const void *msg,
					     size_t len, const uint8_t *src_addr,
					     size_t addr_len, uint16_t src_port_be,
					     bool check_cookie, uint64_t now_ns)
{
	const struct msg_macs *macs;
	uint8_t computed[COOKIE_LEN], cookie[COOKIE_LEN];
	enum cookie_mac_state ret = INVALID_MAC;

	if (len < sizeof(struct msg_header) + sizeof(*macs))
		return INVALID_MAC;
	macs = (const struct msg_macs *)((const uint8_t *)msg + len - sizeof(*macs));

	compute_mac1(computed, msg, len, c->mac1_key);
	if (sodium_memcmp(computed, macs->mac1, COOKIE_LEN) != 0)
		goto out;
	ret = VALID_MAC_BUT_NO_COOKIE;
	if (!check_cookie)
		goto out;

	make_cookie(c, cookie, src_addr, addr_len, src_port_be, now_ns);
	compute_mac2(computed, msg, len, cookie);
	if (sodium_memcmp(computed, macs->mac2, COOKIE_LEN) != 0)
		goto out;
	ret = VALID_MAC_WITH_COOKIE;
out:
	sodium_memzero(cookie, sizeof(cookie));
	return ret;
}

void cookie_message_create(struct cookie_checker *c, struct msg_cookie *dst,
			   const void *msg, size_t len, uint32_t receiver_index,
			   const uint8_t *src_addr, size_t addr_len,
			   uint16_t src_port_be, uint64_t now_ns)
{
	const struct msg_macs *macs =
		(const struct msg_macs *)((const uint8_t *)msg + len - sizeof(*macs));
	uint8_t cookie[COOKIE_LEN];

	dst->header.type = htole32(MESSAGE_HANDSHAKE_COOKIE);
	dst->receiver_index = htole32(receiver_index);
	randombytes_buf(dst->nonce, COOKIE_NONCE_LEN);
	make_cookie(c, cookie, src_addr, addr_len, src_port_be, now_ns);
	crypto_aead_xchacha20poly1305_ietf_encrypt(dst->encrypted_cookie, NULL, cookie,
						   COOKIE_LEN, macs->mac1, COOKIE_LEN, NULL,
						   dst->nonce, c->cookie_encryption_key);
	sodium_memzero(cookie, sizeof(cookie));
}

void cookie_maker_init(struct cookie_maker *m, const uint8_t peer_public[NOISE_PUBLIC_KEY_LEN])
{
	sodium_memzero(m, sizeof(*m));
	precompute_key(m->cookie_decryption_key, peer_public, label_cookie);
	precompute_key(m->mac1_key, peer_public, label_mac1);
}

void cookie_add_mac_to_packet(struct cookie_maker *m, void *msg, size_t len, uint64_t now_ns)
{
	struct msg_macs *macs = (struct msg_macs *)((uint8_t *)msg + len - sizeof(*macs));

	compute_mac1(macs->mac1, msg, len, m->mac1_key);
	memcpy(m->last_mac1_sent, macs->mac1, COOKIE_LEN);
	m->have_sent_mac1 = true;

	/* the latency margin keeps us from sending a cookie the responder
	 * has just rotated away */
	if (m->is_valid &&
	    now_ns - m->cookie_birthdate_ns < COOKIE_SECRET_MAX_AGE_NS - COOKIE_SECRET_LATENCY_NS)
		compute_mac2(macs->mac2, msg, len, m->cookie);
	else
		memset(macs->mac2, 0, COOKIE_LEN);
}

bool cookie_message_consume(struct cookie_maker *m, const struct msg_cookie *src,
			    uint64_t now_ns)
{
	uint8_t cookie[COOKIE_LEN];

	if (!m->have_sent_mac1 || src->header.type != htole32(MESSAGE_HANDSHAKE_COOKIE))
		return false;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, NULL, NULL, src->encrypted_cookie,
						       sizeof(src->encrypted_cookie),
						       m->last_mac1_sent, COOKIE_LEN, src->nonce,
						       m->cookie_decryption_key) != 0)
		return false;
	memcpy(m->cookie, cookie, COOKIE_LEN);
	m->cookie_birthdate_ns = now_ns;
	m->is_valid = true;
	/* one reply per mac1: a replayed reply no longer authenticates */
	m->have_sent_mac1 = false;
	sodium_memzero(cookie, sizeof(cookie));
	return true;
}
