// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_cookie.c - mac1/mac2 and the cookie reply round trip, plus known
 * answers from gen_vectors.py (independent XChaCha20-Poly1305).
 */
#include "t.h"
#include "wg_vectors.h"
#include "wireguard/cookie.h"
#include "wireguard/noise.h"

#include <endian.h>
#include <sodium.h>

#define NOW0 (5000ULL * NSEC_PER_SEC)

static const uint8_t addr4[4] = { 192, 0, 2, 7 };
static const uint8_t addr6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

static void make_msg(struct msg_initiation *m)
{
	randombytes_buf(m, sizeof(*m));
	m->header.type = htole32(MESSAGE_HANDSHAKE_INITIATION);
}

static void test_round_trip(void)
{
	uint8_t ipriv[32], ipub[32], rpriv[32], rpub[32];
	struct cookie_checker checker;
	struct cookie_maker maker;
	struct msg_initiation m;
	struct msg_cookie reply, bad;
	uint64_t now = NOW0;

	noise_generate_keypair(ipriv, ipub);
	noise_generate_keypair(rpriv, rpub);
	cookie_checker_init(&checker, rpub);
	cookie_maker_init(&maker, rpub);

	make_msg(&m);
	/* a reply before we ever sent a mac1 is refused */
	memset(&reply, 0, sizeof(reply));
	CHECK(!cookie_message_consume(&maker, &reply, now));

	cookie_add_mac_to_packet(&maker, &m, sizeof(m), now);
	CHECK(sodium_is_zero(m.macs.mac2, 16)); /* no cookie yet */
	CHECK(cookie_validate_packet(&checker, &m, sizeof(m), addr4, 4, htobe16(51820), false, now) ==
	      VALID_MAC_BUT_NO_COOKIE);
	/* under load: mac1 fine, but no mac2 */
	CHECK(cookie_validate_packet(&checker, &m, sizeof(m), addr4, 4, htobe16(51820), true, now) ==
	      VALID_MAC_BUT_NO_COOKIE);
	/* mac1 binds the whole message */
	m.sender_index ^= 1;
	CHECK(cookie_validate_packet(&checker, &m, sizeof(m), addr4, 4, htobe16(51820), true, now) ==
	      INVALID_MAC);
	m.sender_index ^= 1;

	cookie_message_create(&checker, &reply, &m, sizeof(m), le32toh(m.sender_index), addr4, 4,
			      htobe16(51820), now);
	CHECK(le32toh(reply.header.type) == MESSAGE_HANDSHAKE_COOKIE);
	CHECK(reply.receiver_index == m.sender_index);

	/* wrong AAD: the maker's last mac1 differs from the one replied to */
	struct cookie_maker other = maker;

	other.last_mac1_sent[0] ^= 1;
	CHECK(!cookie_message_consume(&other, &reply, now));
	CHECK(!other.is_valid);
	/* tampered ciphertext or nonce */
	bad = reply;
	bad.encrypted_cookie[3] ^= 4;
	CHECK(!cookie_message_consume(&maker, &bad, now));
	bad = reply;
	bad.nonce[23] ^= 4;
	CHECK(!cookie_message_consume(&maker, &bad, now));

	CHECK(cookie_message_consume(&maker, &reply, now));
	CHECK(maker.is_valid);
	/* the same reply a second time: we have not sent a new mac1 */
	CHECK(!cookie_message_consume(&maker, &reply, now));

	/* retry with the cookie: mac2 now valid for that source only */
	make_msg(&m);
	cookie_add_mac_to_packet(&maker, &m, sizeof(m), now + NSEC_PER_SEC);
	CHECK(!sodium_is_zero(m.macs.mac2, 16));
	CHECK(cookie_validate_packet(&checker, &m, sizeof(m), addr4, 4, htobe16(51820), true,
				     now + NSEC_PER_SEC) == VALID_MAC_WITH_COOKIE);
	CHECK(cookie_validate_packet(&checker, &m, sizeof(m), addr4, 4, htobe16(51821), true,
				     now + NSEC_PER_SEC) == VALID_MAC_BUT_NO_COOKIE);
	CHECK(cookie_validate_packet(&checker, &m, sizeof(m), addr6, 16, htobe16(51820), true,
				     now + NSEC_PER_SEC) == VALID_MAC_BUT_NO_COOKIE);
	/* mac2 covers mac1 and the body */
	m.macs.mac2[0] ^= 1;
	CHECK(cookie_validate_packet(&checker, &m, sizeof(m), addr4, 4, htobe16(51820), true,
				     now + NSEC_PER_SEC) == VALID_MAC_BUT_NO_COOKIE);

	/* the maker stops using a cookie at 120 - 5 s */
	make_msg(&m);
	cookie_add_mac_to_packet(&maker, &m, sizeof(m), now + 115 * NSEC_PER_SEC - 1);
	CHECK(!sodium_is_zero(m.macs.mac2, 16));
	cookie_add_mac_to_packet(&maker, &m, sizeof(m), now + 115 * NSEC_PER_SEC);
	CHECK(sodium_is_zero(m.macs.mac2, 16));

	/* the checker rotates its secret after 120 s: old cookies stop working */
	make_msg(&m);
	cookie_add_mac_to_packet(&maker, &m, sizeof(m), now + 2 * NSEC_PER_SEC);
	CHECK(cookie_validate_packet(&checker, &m, sizeof(m), addr4, 4, htobe16(51820), true,
				     now + 119 * NSEC_PER_SEC) == VALID_MAC_WITH_COOKIE);
	CHECK(cookie_validate_packet(&checker, &m, sizeof(m), addr4, 4, htobe16(51820), true,
				     now + 121 * NSEC_PER_SEC) == VALID_MAC_BUT_NO_COOKIE);

	/* a response-sized message works the same way */
	struct msg_response r;

	randombytes_buf(&r, sizeof(r));
	cookie_add_mac_to_packet(&maker, &r, sizeof(r), now);
	CHECK(cookie_validate_packet(&checker, &r, sizeof(r), addr6, 16, htobe16(1), false, now) ==
	      VALID_MAC_BUT_NO_COOKIE);
	/* a maker for some other public key does not produce our mac1 */
	cookie_maker_init(&other, ipub);
	cookie_add_mac_to_packet(&other, &r, sizeof(r), now);
	CHECK(cookie_validate_packet(&checker, &r, sizeof(r), addr6, 16, htobe16(1), false, now) ==
	      INVALID_MAC);
	CHECK(cookie_validate_packet(&checker, &r, 10, addr6, 16, htobe16(1), false, now) ==
	      INVALID_MAC);
}

/* The Python generator answered message 1 from 192.0.2.7:51820 with a
 * cookie reply under a fixed secret. */
static void test_known_answers(void)
{
	struct cookie_maker maker;
	struct cookie_checker checker;
	struct msg_initiation m;
	struct msg_cookie reply;

	memcpy(&m, v_msg1, sizeof(m));
	memcpy(&reply, v_msg3, sizeof(reply));
	cookie_maker_init(&maker, v_sr_pub);
	cookie_add_mac_to_packet(&maker, &m, sizeof(m), NOW0);
	CHECK_MEM(&m, v_msg1, sizeof(m)); /* same mac1, zero mac2 */
	CHECK(cookie_message_consume(&maker, &reply, NOW0));
	CHECK_MEM(maker.cookie, v_cookie, 16);
	cookie_add_mac_to_packet(&maker, &m, sizeof(m), NOW0 + 1);
	CHECK_MEM(&m, v_msg1_mac2, sizeof(m));

	/* our checker with the same secret computes the same cookie */
	cookie_checker_init(&checker, v_sr_pub);
	memcpy(checker.secret, v_secret, 32);
	checker.secret_birthdate_ns = NOW0;
	CHECK(cookie_validate_packet(&checker, v_msg1_mac2, sizeof(m), addr4, 4, htobe16(51820), true,
				     NOW0 + 1) == VALID_MAC_WITH_COOKIE);
	/* and its reply decrypts (with the Python-independent maker) to it */
	cookie_message_create(&checker, &reply, v_msg1, sizeof(m), V_I_INDEX, addr4, 4,
			      htobe16(51820), NOW0 + 2);
	cookie_maker_init(&maker, v_sr_pub);
	memcpy(&m, v_msg1, sizeof(m));
	cookie_add_mac_to_packet(&maker, &m, sizeof(m), NOW0);
	CHECK(cookie_message_consume(&maker, &reply, NOW0 + 3));
	CHECK_MEM(maker.cookie, v_cookie, 16);
	CHECK(le32toh(reply.receiver_index) == V_I_INDEX);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_round_trip();
	test_known_answers();
	return t_done("cookie");
}
