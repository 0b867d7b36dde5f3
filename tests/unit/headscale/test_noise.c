// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_noise.c - ts2021 known answers. No fixed transcript exists upstream, so
 * noise_kat.h was computed by an independent implementation (tests/control/ts2021.py: Python
 * cryptography + hashlib BLAKE2s) with fixed keys: the 101-byte initiation must match byte for
 * byte, the 51-byte response must complete the handshake, and three records per direction pin
 * the big-endian counter nonce (a little-endian nonce agrees only on record 0).
 */
#include <errno.h>
#include <sodium.h>
#include "hsnoise.h"
#include "noise_kat.h"
#include "t.h"

static void test_nonce(void)
{
	uint8_t n[12];
	static const uint8_t one[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t big[12] = { 0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };

	hs_record_nonce(n, 1);
	CHECK_MEM(n, one, 12);
	hs_record_nonce(n, 0x0102030405060708ull);
	CHECK_MEM(n, big, 12);
}

static void seal_check(struct hs_cipher *c, const uint8_t *pt, size_t len, const uint8_t *rec, size_t reclen)
{
	uint8_t out[256];
	int n = hs_record_seal(c, pt, len, out);

	CHECK(n == (int)reclen);
	CHECK_MEM(out, rec, reclen);
}

static void open_check(struct hs_cipher *c, const uint8_t *rec, size_t reclen, const uint8_t *pt, size_t len)
{
	uint8_t out[256];

	CHECK(rec[0] == HS_MSG_RECORD && (size_t)(rec[1] << 8 | rec[2]) == reclen - 3);
	CHECK(hs_record_open(c, rec + 3, reclen - 3, out) == (int)len);
	CHECK_MEM(out, pt, len);
}

static void test_transcript(void)
{
	struct hs_noise_hs hs;
	struct hs_transport t;
	uint8_t init[HS_NOISE_INIT_LEN], bad[HS_NOISE_RESP_LEN];
	struct hs_cipher saved;

	CHECK(hs_noise_initiate(&hs, KAT_VERSION, kat_client_s, kat_server_pub, kat_client_e, init) == 0);
	CHECK_MEM(init, kat_init, sizeof(kat_init));
	CHECK(init[0] == 0 && init[1] == KAT_VERSION && init[2] == 1 && init[3] == 0 && init[4] == 96);
	CHECK(hs_noise_finish(&hs, kat_resp, &t) == 0);
	saved = t.rx;

	seal_check(&t.tx, kat_c2s_pt0, KAT_C2S_PT0_LEN, kat_c2s_rec0, sizeof(kat_c2s_rec0));
	seal_check(&t.tx, kat_c2s_pt1, KAT_C2S_PT1_LEN, kat_c2s_rec1, sizeof(kat_c2s_rec1));
	seal_check(&t.tx, kat_c2s_pt2, KAT_C2S_PT2_LEN, kat_c2s_rec2, sizeof(kat_c2s_rec2));
	CHECK(t.tx.nonce == 3);
	open_check(&t.rx, kat_s2c_rec0, sizeof(kat_s2c_rec0), kat_s2c_pt0, sizeof(kat_s2c_pt0));
	open_check(&t.rx, kat_s2c_rec1, sizeof(kat_s2c_rec1), kat_s2c_pt1, sizeof(kat_s2c_pt1));
	open_check(&t.rx, kat_s2c_rec2, sizeof(kat_s2c_rec2), kat_s2c_pt2, sizeof(kat_s2c_pt2));

	/* Out of order: record 1 under counter 0 fails, and a failure does not advance. */
	{
		uint8_t out[256];

		CHECK(hs_record_open(&saved, kat_s2c_rec1 + 3, sizeof(kat_s2c_rec1) - 3, out) == -EBADMSG);
		CHECK(saved.nonce == 0);
		CHECK(hs_record_open(&saved, kat_s2c_rec0 + 3, sizeof(kat_s2c_rec0) - 3, out) == 5);
	}

	/* A flipped tag bit, a wrong type and a wrong length are refused. */
	memcpy(bad, kat_resp, sizeof(bad));
	bad[50] ^= 1;
	CHECK(hs_noise_initiate(&hs, KAT_VERSION, kat_client_s, kat_server_pub, kat_client_e, init) == 0);
	CHECK(hs_noise_finish(&hs, bad, &t) == -EBADMSG);
	memcpy(bad, kat_resp, sizeof(bad));
	bad[0] = HS_MSG_ERROR;
	CHECK(hs_noise_initiate(&hs, KAT_VERSION, kat_client_s, kat_server_pub, kat_client_e, init) == 0);
	CHECK(hs_noise_finish(&hs, bad, &t) == -EPROTO);
	/* Another protocol version changes the prologue, so the same response no longer verifies. */
	CHECK(hs_noise_initiate(&hs, KAT_VERSION + 1, kat_client_s, kat_server_pub, kat_client_e, init) == 0);
	CHECK(memcmp(init + 5, kat_init + 5, 32) == 0 && memcmp(init + 37, kat_init + 37, 64) != 0);
	CHECK(hs_noise_finish(&hs, kat_resp, &t) == -EBADMSG);
}

static void test_limits(void)
{
	struct hs_cipher c = { .nonce = 0 };
	static uint8_t pt[HS_RECORD_PT_MAX + 1], rec[HS_RECORD_MAX + 16];

	CHECK(hs_record_seal(&c, pt, HS_RECORD_PT_MAX, rec) == HS_RECORD_MAX);
	CHECK(hs_record_seal(&c, pt, HS_RECORD_PT_MAX + 1, rec) == -ENOSPC);
	c.nonce = UINT64_MAX;
	CHECK(hs_record_seal(&c, pt, 1, rec) == -EOVERFLOW);
	c.nonce = 0;
	CHECK(hs_record_open(&c, rec, 15, pt) == -EBADMSG);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	test_nonce();
	test_transcript();
	test_limits();
	return t_done("test_noise");
}
