// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_noise.c - X25519 (RFC 7748), the IKpsk2 handshake between two
 * in-process peers, known answers from an independent implementation,
 * replay/flood rejection and low-order keys.
 */
#include "t.h"
#include "wg_vectors.h"
#include "wireguard/noise.h"
#include "wireguard/hash.h"
#include "wireguard/cookie.h"

#include <endian.h>
#include <sodium.h>

#define NOW0 (1000ULL * NSEC_PER_SEC)

static void test_x25519(void)
{
	uint8_t k[32], u[32], out[32], expect[32], a[32], b[32], apub[32], bpub[32], t[32];
	int i;

	t_unhex(k, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", 32);
	t_unhex(u, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", 32);
	t_unhex(expect, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552", 32);
	CHECK(crypto_scalarmult(out, k, u) == 0);
	CHECK_MEM(out, expect, 32);
	t_unhex(k, "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d", 32);
	t_unhex(u, "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493", 32);
	t_unhex(expect, "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957", 32);
	CHECK(crypto_scalarmult(out, k, u) == 0);
	CHECK_MEM(out, expect, 32);

	/* 5.2 iterated: k, u = X25519(k, u), k */
	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (i = 1; i <= 1000; ++i) {
		CHECK(crypto_scalarmult(t, k, u) == 0);
		memcpy(u, k, 32);
		memcpy(k, t, 32);
		if (i == 1) {
			t_unhex(expect, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", 32);
			CHECK_MEM(k, expect, 32);
		}
	}
	t_unhex(expect, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", 32);
	CHECK_MEM(k, expect, 32);

	/* 6.1 Diffie-Hellman, through our identity helper */
	struct noise_static_identity ia, ib;

	t_unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", 32);
	t_unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", 32);
	t_unhex(apub, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", 32);
	t_unhex(bpub, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", 32);
	t_unhex(expect, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", 32);
	noise_static_identity_set(&ia, a);
	noise_static_identity_set(&ib, b);
	CHECK(ia.has_identity && ib.has_identity);
	CHECK_MEM(ia.static_public, apub, 32);
	CHECK_MEM(ib.static_public, bpub, 32);
	struct noise_handshake hs;

	noise_handshake_init(&hs, &ia, bpub, NULL);
	CHECK_MEM(hs.precomputed_static_static, expect, 32);
	noise_static_identity_set(&ia, NULL);
	CHECK(!ia.has_identity);
}

/* --- two in-process peers --- */

struct peer {
	struct noise_static_identity id;
	struct noise_handshake hs;      /* handshake with the other peer */
	struct cookie_maker maker;
	struct cookie_checker checker;
};

static struct peer A, B;

static struct noise_handshake *lookup_static(void *ctx, const uint8_t pk[32])
{
	struct peer *self = ctx;

	return !memcmp(self->hs.remote_static, pk, 32) ? &self->hs : NULL;
}

static struct noise_handshake *lookup_index(void *ctx, uint32_t idx)
{
	struct peer *self = ctx;

	return self->hs.local_index == idx ? &self->hs : NULL;
}

static void peers_setup(const uint8_t *psk)
{
	uint8_t a[32], b[32], pa[32], pb[32];

	noise_generate_keypair(a, pa);
	noise_generate_keypair(b, pb);
	noise_static_identity_set(&A.id, a);
	noise_static_identity_set(&B.id, b);
	CHECK_MEM(A.id.static_public, pa, 32);
	noise_handshake_init(&A.hs, &A.id, B.id.static_public, psk);
	noise_handshake_init(&B.hs, &B.id, A.id.static_public, psk);
	cookie_maker_init(&A.maker, B.id.static_public);
	cookie_maker_init(&B.maker, A.id.static_public);
	cookie_checker_init(&A.checker, A.id.static_public);
	cookie_checker_init(&B.checker, B.id.static_public);
}

/* A initiates to B at (realtime ts_ns, monotonic now); returns B's view. */
static struct noise_handshake *initiate(struct msg_initiation *m, uint64_t ts_ns, uint64_t now)
{
	uint8_t ts[12];

	tai64n_at(ts, ts_ns);
	CHECK(noise_create_initiation(&A.id, &A.hs, m, 0x1234, ts));
	cookie_add_mac_to_packet(&A.maker, m, sizeof(*m), now);
	CHECK(cookie_validate_packet(&B.checker, m, sizeof(*m), (const uint8_t *)"\x7f\0\0\1", 4,
				     htobe16(1), false, now) == VALID_MAC_BUT_NO_COOKIE);
	return noise_consume_initiation(&B.id, m, lookup_static, &B, now);
}

static void test_handshake_roundtrip(const uint8_t *psk)
{
	struct msg_initiation m1;
	struct msg_response m2;
	struct noise_keypair ka, kb;
	uint64_t now = NOW0;

	peers_setup(psk);
	CHECK(initiate(&m1, 1700000000ULL * NSEC_PER_SEC, now) == &B.hs);
	CHECK(le32toh(m1.header.type) == MESSAGE_HANDSHAKE_INITIATION);
	CHECK(A.hs.state == HANDSHAKE_CREATED_INITIATION);
	CHECK(B.hs.state == HANDSHAKE_CONSUMED_INITIATION);
	CHECK(B.hs.remote_index == 0x1234);
	CHECK_MEM(A.hs.hash, B.hs.hash, 32);
	CHECK_MEM(A.hs.chaining_key, B.hs.chaining_key, 32);

	/* a response can only follow a consumed initiation */
	CHECK(!noise_create_response(&A.hs, &m2, 1));
	CHECK(noise_create_response(&B.hs, &m2, 0x5678));
	CHECK(le32toh(m2.receiver_index) == 0x1234);
	cookie_add_mac_to_packet(&B.maker, &m2, sizeof(m2), now);
	CHECK(cookie_validate_packet(&A.checker, &m2, sizeof(m2), (const uint8_t *)"\x7f\0\0\1", 4,
				     htobe16(2), false, now) == VALID_MAC_BUT_NO_COOKIE);
	CHECK(noise_consume_response(&A.id, &m2, lookup_index, &A) == &A.hs);
	CHECK(A.hs.state == HANDSHAKE_CONSUMED_RESPONSE);
	/* consuming it twice is refused (state moved on) */
	CHECK(noise_consume_response(&A.id, &m2, lookup_index, &A) == NULL);

	CHECK(noise_derive_keypair(&A.hs, &ka, now + 1));
	CHECK(noise_derive_keypair(&B.hs, &kb, now + 2));
	CHECK(ka.i_am_initiator && !kb.i_am_initiator);
	CHECK_MEM(ka.send_key, kb.recv_key, 32);
	CHECK_MEM(ka.recv_key, kb.send_key, 32);
	CHECK(memcmp(ka.send_key, ka.recv_key, 32) != 0);
	CHECK(ka.local_index == 0x1234 && ka.remote_index == 0x5678);
	CHECK(kb.local_index == 0x5678 && kb.remote_index == 0x1234);
	CHECK(ka.birthdate_ns == now + 1);
	CHECK(atomic_load(&ka.send_counter) == 0);
	CHECK(replay_check(&ka.replay, 0));
	/* secrets wiped, handshake back to zero; derive is one-shot */
	CHECK(A.hs.state == HANDSHAKE_ZEROED && B.hs.state == HANDSHAKE_ZEROED);
	CHECK(sodium_is_zero(A.hs.chaining_key, 32) && sodium_is_zero(A.hs.ephemeral_private, 32));
	CHECK(sodium_is_zero(B.hs.hash, 32) && sodium_is_zero(B.hs.remote_ephemeral, 32));
	CHECK(!noise_derive_keypair(&A.hs, &ka, now));

	/* a data packet sealed with one side's send key opens with the other's */
	uint8_t nonce[12] = { 0 }, ct[64 + 16], pt[64];
	unsigned long long len;

	crypto_aead_chacha20poly1305_ietf_encrypt(ct, &len, (const uint8_t *)"ping", 4, NULL, 0,
						  NULL, nonce, ka.send_key);
	CHECK(crypto_aead_chacha20poly1305_ietf_decrypt(pt, &len, NULL, ct, len, NULL, 0, nonce,
							kb.recv_key) == 0);
	CHECK(len == 4 && !memcmp(pt, "ping", 4));
}

static void test_psk_mismatch(void)
{
	uint8_t psk1[32] = { 1 }, psk2[32] = { 2 };
	struct msg_initiation m1;
	struct msg_response m2;

	peers_setup(psk1);
	noise_set_preshared_key(&B.hs, psk2);
	/* psk enters only at message 2: B accepts m1, A rejects m2 */
	CHECK(initiate(&m1, 1700000000ULL * NSEC_PER_SEC, NOW0) == &B.hs);
	CHECK(noise_create_response(&B.hs, &m2, 7));
	CHECK(noise_consume_response(&A.id, &m2, lookup_index, &A) == NULL);
	CHECK(A.hs.state == HANDSHAKE_CREATED_INITIATION);
}

static void test_replay_and_flood(void)
{
	struct msg_initiation m1, old;
	uint64_t ts = 1700000000ULL * NSEC_PER_SEC, now = NOW0;

	peers_setup(NULL);
	CHECK(initiate(&m1, ts, now) == &B.hs);
	old = m1;
	/* the very same initiation again, long after: replay (timestamp) */
	CHECK(noise_consume_initiation(&B.id, &old, lookup_static, &B, now + 10 * NSEC_PER_SEC) == NULL);
	/* a new initiation with an equal timestamp: replay */
	CHECK(initiate(&m1, ts, now + 10 * NSEC_PER_SEC) == NULL);
	/* a newer timestamp but within 1/50 s of the last consumption: flood */
	CHECK(initiate(&m1, ts + NSEC_PER_SEC, now + NSEC_PER_SEC / INITIATIONS_PER_SECOND - 1) == NULL);
	/* exactly 20 ms later it passes */
	CHECK(initiate(&m1, ts + NSEC_PER_SEC, now + NSEC_PER_SEC / INITIATIONS_PER_SECOND) == &B.hs);
	/* the stale one is still a replay after a newer one was accepted */
	CHECK(noise_consume_initiation(&B.id, &old, lookup_static, &B, now + 20 * NSEC_PER_SEC) == NULL);
	/* timestamps within one 2^24 ns bucket collide: the second is a replay */
	CHECK(initiate(&m1, ts + NSEC_PER_SEC + 1000, now + 40 * NSEC_PER_SEC) == NULL);
}

/* Each refusal says why, and names the sender once it is known (the operator's log needs it). */
static void test_verdicts(void)
{
	uint64_t ts = 1700000000ULL * NSEC_PER_SEC, now = NOW0;
	struct msg_initiation m1, bad;
	struct noise_verdict v;
	uint8_t t[12], c[32], pc[32];
	struct peer C;

	peers_setup(NULL);
	tai64n_at(t, ts);
	CHECK(noise_create_initiation(&A.id, &A.hs, &m1, 1, t));
	CHECK(noise_consume_initiation_verdict(&B.id, &m1, lookup_static, &B, now, &v) == &B.hs);
	CHECK(v.why == NOISE_CONSUMED && v.hs == &B.hs);
	/* the peer's clock went back an hour: its next initiation is older than the last */
	tai64n_at(t, ts - 3600 * NSEC_PER_SEC);
	CHECK(noise_create_initiation(&A.id, &A.hs, &m1, 2, t));
	CHECK(!noise_consume_initiation_verdict(&B.id, &m1, lookup_static, &B, now + 5 * NSEC_PER_SEC, &v));
	CHECK(v.why == NOISE_REJECT_REPLAY && v.hs == &B.hs);
	/* newer, but 1 ms after the last consumed one */
	tai64n_at(t, ts + NSEC_PER_SEC);
	CHECK(noise_create_initiation(&A.id, &A.hs, &m1, 3, t));
	CHECK(!noise_consume_initiation_verdict(&B.id, &m1, lookup_static, &B, now + 1000000, &v));
	CHECK(v.why == NOISE_REJECT_FLOOD && v.hs == &B.hs);
	/* a corrupted timestamp */
	bad = m1;
	bad.encrypted_timestamp[0] ^= 1;
	CHECK(!noise_consume_initiation_verdict(&B.id, &bad, lookup_static, &B, now + 10 * NSEC_PER_SEC, &v));
	CHECK(v.why == NOISE_REJECT_TIMESTAMP && v.hs == &B.hs);
	/* a corrupted static: nothing is known about the sender */
	bad = m1;
	bad.encrypted_static[0] ^= 1;
	CHECK(!noise_consume_initiation_verdict(&B.id, &bad, lookup_static, &B, now + 10 * NSEC_PER_SEC, &v));
	CHECK(v.why == NOISE_REJECT_DECRYPT && v.hs == NULL);
	/* a sender that is not a peer */
	noise_generate_keypair(c, pc);
	noise_static_identity_set(&C.id, c);
	noise_handshake_init(&C.hs, &C.id, B.id.static_public, NULL);
	CHECK(noise_create_initiation(&C.id, &C.hs, &bad, 1, t));
	CHECK(!noise_consume_initiation_verdict(&B.id, &bad, lookup_static, &B, now + 10 * NSEC_PER_SEC, &v));
	CHECK(v.why == NOISE_REJECT_UNKNOWN_PEER && v.hs == NULL);
	/* the clock passes the old time again: accepted */
	CHECK(noise_consume_initiation_verdict(&B.id, &m1, lookup_static, &B, now + 10 * NSEC_PER_SEC, &v) == &B.hs);
	CHECK(v.why == NOISE_CONSUMED);
}

static void test_tamper_and_unknown(void)
{
	struct msg_initiation m1, bad;
	size_t i;
	int accepted = 0;
	uint8_t ts[12];

	peers_setup(NULL);
	tai64n_at(ts, 1700000000ULL * NSEC_PER_SEC);
	CHECK(noise_create_initiation(&A.id, &A.hs, &m1, 1, ts));
	/* flipping any bit of e, {s} or {t} must fail (every byte is bound) */
	for (i = 8; i < offsetof(struct msg_initiation, macs); i += 3) {
		bad = m1;
		((uint8_t *)&bad)[i] ^= 0x10;
		B.hs.last_initiation_consumption_ns = 0;
		if (noise_consume_initiation(&B.id, &bad, lookup_static, &B, NOW0))
			++accepted;
	}
	CHECK(accepted == 0);
	/* a peer we do not know (lookup fails) */
	struct peer C;
	uint8_t c[32], pc[32];

	noise_generate_keypair(c, pc);
	noise_static_identity_set(&C.id, c);
	noise_handshake_init(&C.hs, &C.id, B.id.static_public, NULL);
	CHECK(noise_create_initiation(&C.id, &C.hs, &bad, 1, ts));
	CHECK(noise_consume_initiation(&B.id, &bad, lookup_static, &B, NOW0) == NULL);
	/* wrong responder identity */
	CHECK(noise_consume_initiation(&C.id, &m1, lookup_static, &C, NOW0) == NULL);
	/* without an identity nothing works */
	struct noise_static_identity none;

	noise_static_identity_set(&none, NULL);
	CHECK(!noise_create_initiation(&none, &A.hs, &bad, 1, ts));
	CHECK(noise_consume_initiation(&none, &m1, lookup_static, &B, NOW0) == NULL);
	/* the original still works */
	CHECK(noise_consume_initiation(&B.id, &m1, lookup_static, &B, NOW0) == &B.hs);
}

/* Points of order 1, 2, 4 and 8 on Curve25519 and their non-canonical
 * encodings: DH with them yields zero whatever the scalar. */
static const char *low_order[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void test_low_order(void)
{
	struct msg_initiation m1;
	struct msg_response m2;
	uint8_t lo[32], ts[12];
	size_t i;

	peers_setup(NULL);
	tai64n_at(ts, 1700000000ULL * NSEC_PER_SEC);
	for (i = 0; i < ARRAY_SIZE(low_order); ++i) {
		struct noise_handshake hs;

		t_unhex(lo, low_order[i], 32);
		noise_handshake_init(&hs, &A.id, lo, NULL);
		CHECK(sodium_is_zero(hs.precomputed_static_static, 32));
		CHECK(!noise_create_initiation(&A.id, &hs, &m1, 1, ts));
		CHECK(hs.state == HANDSHAKE_ZEROED);

		/* an initiation whose ephemeral is low order fails at es */
		CHECK(noise_create_initiation(&A.id, &A.hs, &m1, 1, ts));
		memcpy(m1.unencrypted_ephemeral, lo, 32);
		CHECK(noise_consume_initiation(&B.id, &m1, lookup_static, &B, NOW0) == NULL);
	}
	/* a response whose ephemeral is low order fails at ee */
	peers_setup(NULL);
	CHECK(initiate(&m1, 1700000000ULL * NSEC_PER_SEC, NOW0) == &B.hs);
	CHECK(noise_create_response(&B.hs, &m2, 9));
	t_unhex(m2.unencrypted_ephemeral, low_order[4], 32);
	CHECK(noise_consume_response(&A.id, &m2, lookup_index, &A) == NULL);
}

/* Messages built by gen_vectors.py (independent Python code) with fixed
 * keys: our responder must accept message 1 and reach the same transcript
 * hash and chaining key; our initiator, put in the state message 1 left it
 * in, must accept message 2 and derive the same transport keys. */
static void test_known_answers(void)
{
	struct peer I, R;
	struct msg_initiation m1;
	struct msg_response m2;
	struct noise_keypair kp;

	memset(&I, 0, sizeof(I));
	memset(&R, 0, sizeof(R));
	memcpy(&m1, v_msg1, sizeof(m1));
	memcpy(&m2, v_msg2, sizeof(m2));
	noise_static_identity_set(&I.id, v_si_priv);
	noise_static_identity_set(&R.id, v_sr_priv);
	CHECK_MEM(I.id.static_public, v_si_pub, 32);
	CHECK_MEM(R.id.static_public, v_sr_pub, 32);
	noise_handshake_init(&R.hs, &R.id, v_si_pub, v_psk);
	noise_handshake_init(&I.hs, &I.id, v_sr_pub, v_psk);

	cookie_checker_init(&R.checker, R.id.static_public);
	CHECK(cookie_validate_packet(&R.checker, &m1, sizeof(m1), (const uint8_t *)"\xc0\0\2\7", 4,
				     htobe16(51820), false, NOW0) == VALID_MAC_BUT_NO_COOKIE);
	CHECK(noise_consume_initiation(&R.id, &m1, lookup_static, &R, NOW0) == &R.hs);
	CHECK_MEM(R.hs.hash, v_h_after1, 32);
	CHECK_MEM(R.hs.chaining_key, v_ck_after1, 32);
	CHECK_MEM(R.hs.latest_timestamp, v_timestamp, 12);
	CHECK(R.hs.remote_index == V_I_INDEX);

	/* initiator side of the same transcript */
	memcpy(I.hs.hash, v_h_after1, 32);
	memcpy(I.hs.chaining_key, v_ck_after1, 32);
	memcpy(I.hs.ephemeral_private, v_ei_priv, 32);
	I.hs.local_index = V_I_INDEX;
	I.hs.state = HANDSHAKE_CREATED_INITIATION;
	cookie_checker_init(&I.checker, I.id.static_public);
	CHECK(cookie_validate_packet(&I.checker, &m2, sizeof(m2), (const uint8_t *)"\xc0\0\2\7", 4,
				     htobe16(51820), false, NOW0) == VALID_MAC_BUT_NO_COOKIE);
	CHECK(noise_consume_response(&I.id, &m2, lookup_index, &I) == &I.hs);
	CHECK(noise_derive_keypair(&I.hs, &kp, NOW0));
	CHECK_MEM(kp.send_key, v_t_send_i, 32);
	CHECK_MEM(kp.recv_key, v_t_recv_i, 32);
	CHECK(kp.remote_index == V_R_INDEX);

	/* our own initiation from the same keys has the same mac1 layout:
	 * the Python responder key verifies our mac1 computation */
	uint8_t mac1_key[32], mac[16];

	wg_hash(mac1_key, "mac1----", 8, v_sr_pub, 32);
	wg_mac(mac, mac1_key, 32, v_msg1, offsetof(struct msg_initiation, macs));
	CHECK_MEM(mac, v_msg1 + offsetof(struct msg_initiation, macs), 16);
}

/* Garbage and bit-flipped messages: never accepted, never crash (a smoke
 * run; the libFuzzer harness belongs to tests/fuzz). */
static void test_garbage(void)
{
	struct msg_initiation m1, good1;
	struct msg_response m2, good2;
	int accepted = 0, i;

	peers_setup(NULL);
	CHECK(initiate(&good1, 1700000000ULL * NSEC_PER_SEC, NOW0) == &B.hs);
	CHECK(noise_create_response(&B.hs, &good2, 3));
	for (i = 0; i < 3000; ++i) {
		randombytes_buf(&m1, sizeof(m1));
		m1.header.type = htole32(MESSAGE_HANDSHAKE_INITIATION);
		if (i % 2)
			memcpy(m1.unencrypted_ephemeral, good1.unencrypted_ephemeral, 32);
		B.hs.last_initiation_consumption_ns = 0;
		if (noise_consume_initiation(&B.id, &m1, lookup_static, &B, NOW0 + NSEC_PER_SEC))
			++accepted;
		m2 = good2;
		/* the indices are outside the Noise transcript (only mac1 covers
		 * them), so flip bytes of e and {} only */
		((uint8_t *)&m2)[offsetof(struct msg_response, unencrypted_ephemeral) +
				 randombytes_uniform(32 + 16)] ^= (uint8_t)(1 + randombytes_uniform(255));
		if (noise_consume_response(&A.id, &m2, lookup_index, &A))
			++accepted;
	}
	CHECK(accepted == 0);
	/* wrong type field */
	m2 = good2;
	m2.header.type = htole32(MESSAGE_HANDSHAKE_RESPONSE | 0x100);
	CHECK(noise_consume_response(&A.id, &m2, lookup_index, &A) == NULL);
	/* the untouched response still completes the handshake */
	CHECK(noise_consume_response(&A.id, &good2, lookup_index, &A) == &A.hs);
}

static void test_helpers(void)
{
	struct noise_keypair kp = { .birthdate_ns = NOW0, .i_am_initiator = true };

	CHECK(!noise_keypair_expired(&kp, NOW0 + REJECT_AFTER_TIME_NS - 1));
	CHECK(noise_keypair_expired(&kp, NOW0 + REJECT_AFTER_TIME_NS));
	CHECK(!noise_keypair_wants_rekey_on_send(&kp, 5, NOW0 + REKEY_AFTER_TIME_NS - 1));
	CHECK(noise_keypair_wants_rekey_on_send(&kp, 5, NOW0 + REKEY_AFTER_TIME_NS));
	CHECK(noise_keypair_wants_rekey_on_send(&kp, REKEY_AFTER_MESSAGES + 1, NOW0));
	CHECK(noise_keypair_wants_lastminute_rekey(&kp, NOW0 + 165 * NSEC_PER_SEC));
	CHECK(!noise_keypair_wants_lastminute_rekey(&kp, NOW0 + 165 * NSEC_PER_SEC - 1));
	kp.i_am_initiator = false;
	CHECK(!noise_keypair_wants_rekey_on_send(&kp, 5, NOW0 + REKEY_AFTER_TIME_NS));
	CHECK(!noise_keypair_wants_lastminute_rekey(&kp, NOW0 + 170 * NSEC_PER_SEC));
	CHECK(!noise_keypair_is_confirmed_at_birth(&kp));
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_x25519();
	test_handshake_roundtrip(NULL);
	{
		uint8_t psk[32];

		randombytes_buf(psk, sizeof(psk));
		test_handshake_roundtrip(psk);
	}
	test_psk_mismatch();
	test_replay_and_flood();
	test_verdicts();
	test_tamper_and_unknown();
	test_low_order();
	test_known_answers();
	test_garbage();
	test_helpers();
	return t_done("noise");
}
