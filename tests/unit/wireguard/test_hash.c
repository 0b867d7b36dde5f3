// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_hash.c - BLAKE2s (RFC 7693), HMAC-BLAKE2s, KDF and TAI64N.
 */
#include "t.h"
#include "wg_vectors.h"
#include "wireguard/hash.h"
#include "mg.h"

#include <blake2.h>
#include <endian.h>
#include <time.h>

/* RFC 7693 Appendix E: deterministic Fibonacci input. */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t t, a = 0xDEAD4BAD * seed, b = 1;
	size_t i;

	for (i = 0; i < len; ++i) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (t >> 24) & 0xFF;
	}
}

/* The 128-bit hashes go through wg_mac (keyed) and the unkeyed 256-bit
 * ones through wg_hash, so our wrappers are inside the grand hash. */
static void test_rfc7693_selftest(void)
{
	static const size_t md_len[4] = { 16, 20, 28, 32 };
	static const size_t in_len[6] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t expect[32], in[1024], md[32], key[32], grand[32];
	blake2s_state s;
	size_t i, j;

	t_unhex(expect, "6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe", 32);
	blake2s_init(&s, 32);
	for (i = 0; i < 4; ++i) {
		size_t outlen = md_len[i];

		for (j = 0; j < 6; ++j) {
			size_t inlen = in_len[j];

			selftest_seq(in, inlen, (uint32_t)inlen);
			if (outlen == 32)
				wg_hash(md, in, inlen, NULL, 0);
			else
				blake2s(md, in, NULL, outlen, inlen, 0);
			blake2s_update(&s, md, outlen);

			selftest_seq(key, outlen, (uint32_t)outlen);
			if (outlen == 16)
				wg_mac(md, key, outlen, in, inlen);
			else
				blake2s(md, in, key, outlen, inlen, outlen);
			blake2s_update(&s, md, outlen);
		}
	}
	blake2s_final(&s, grand, 32);
	CHECK_MEM(grand, expect, 32);
}

static void test_blake2s_kat(void)
{
	uint8_t out[32], expect[32];

	/* RFC 7693 Appendix B */
	t_unhex(expect, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982", 32);
	wg_hash(out, "abc", 3, NULL, 0);
	CHECK_MEM(out, expect, 32);
	/* the two-part form hashes the concatenation */
	wg_hash(out, "a", 1, "bc", 2);
	CHECK_MEM(out, expect, 32);
	t_unhex(expect, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9", 32);
	wg_hash(out, "", 0, NULL, 0);
	CHECK_MEM(out, expect, 32);
}

/* HMAC straight from RFC 2104, built in one buffer, as an independent
 * reference for wg_hmac. */
static void naive_hmac(uint8_t out[32], const uint8_t *key, size_t keylen,
		       const uint8_t *msg, size_t len)
{
	uint8_t k[64] = { 0 }, buf[64 + 256], inner[32];
	size_t i;

	if (keylen > 64)
		blake2s(k, key, NULL, 32, keylen, 0);
	else
		memcpy(k, key, keylen);
	for (i = 0; i < 64; ++i)
		buf[i] = k[i] ^ 0x36;
	memcpy(buf + 64, msg, len);
	blake2s(inner, buf, NULL, 32, 64 + len, 0);
	for (i = 0; i < 64; ++i)
		buf[i] = k[i] ^ 0x5c;
	memcpy(buf + 64, inner, 32);
	blake2s(out, buf, NULL, 32, 96, 0);
}

static void test_hmac_kdf(void)
{
	uint8_t out[32], ref[32], t1[32], t2[32], t3[32], secret[32], buf[33];
	uint8_t ck[32];
	size_t len;

	wg_hmac(out, v_hmac_key, 32, v_hmac_msg, sizeof(v_hmac_msg));
	CHECK_MEM(out, v_hmac_short, 32);
	wg_hmac(out, v_hmac_key, sizeof(v_hmac_key), v_hmac_msg, sizeof(v_hmac_msg));
	CHECK_MEM(out, v_hmac_long, 32); /* key longer than a block is hashed */
	for (len = 0; len <= 200; len += 7) {
		wg_hmac(out, v_hmac_key, 32, v_hmac_msg, len);
		naive_hmac(ref, v_hmac_key, 32, v_hmac_msg, len);
		CHECK_MEM(out, ref, 32);
	}

	/* KDF3 against the Python answers and against HMAC done by hand */
	wg_kdf(t1, t2, t3, v_hmac_msg, V_KDF_DATA_LEN, v_kdf_ck);
	CHECK_MEM(t1, v_kdf_t1, 32);
	CHECK_MEM(t2, v_kdf_t2, 32);
	CHECK_MEM(t3, v_kdf_t3, 32);
	naive_hmac(secret, v_kdf_ck, 32, v_hmac_msg, V_KDF_DATA_LEN);
	buf[0] = 1;
	naive_hmac(ref, secret, 32, buf, 1);
	CHECK_MEM(t1, ref, 32);
	memcpy(buf, ref, 32);
	buf[32] = 2;
	naive_hmac(ref, secret, 32, buf, 33);
	CHECK_MEM(t2, ref, 32);

	/* KDF1/KDF2 are prefixes of KDF3, and the output may alias the key */
	memset(out, 0, 32);
	wg_kdf(out, NULL, NULL, v_hmac_msg, V_KDF_DATA_LEN, v_kdf_ck);
	CHECK_MEM(out, v_kdf_t1, 32);
	memcpy(ck, v_kdf_ck, 32);
	wg_kdf(ck, out, NULL, v_hmac_msg, V_KDF_DATA_LEN, ck);
	CHECK_MEM(ck, v_kdf_t1, 32);
	CHECK_MEM(out, v_kdf_t2, 32);
}

static void test_tai64n(void)
{
	uint8_t a[12], b[12];
	uint64_t sec;
	uint32_t nsec;

	/* 1700000000.123456789 s: label 2^62 + 10 + s; ns rounded down to 2^24 */
	tai64n_at(a, 1700000000ULL * NSEC_PER_SEC + 123456789ULL);
	memcpy(&sec, a, 8);
	memcpy(&nsec, a + 8, 4);
	CHECK(be64toh(sec) == 0x400000000000000aULL + 1700000000ULL);
	CHECK(be32toh(nsec) == (123456789U & ~((1U << 24) - 1)));
	CHECK(be32toh(nsec) == 117440512U);
	/* rounding: every value inside one 2^24 ns bucket encodes the same */
	tai64n_at(b, 1700000000ULL * NSEC_PER_SEC + 117440512ULL + (1U << 24) - 1);
	CHECK_MEM(a, b, 12);
	tai64n_at(b, 1700000000ULL * NSEC_PER_SEC + 117440512ULL + (1U << 24));
	CHECK(memcmp(a, b, 12) < 0);
	/* the next second sorts after any nanosecond value of this one */
	tai64n_at(a, 1700000000ULL * NSEC_PER_SEC + 999999999ULL);
	tai64n_at(b, 1700000001ULL * NSEC_PER_SEC);
	CHECK(memcmp(a, b, 12) < 0);

	/* wall clock: monotonic non-decreasing, and strictly increasing once
	 * more than one bucket has passed */
	tai64n_now(a);
	tai64n_now(b);
	CHECK(memcmp(a, b, 12) <= 0);
	nanosleep(&(struct timespec){ .tv_nsec = 40 * 1000 * 1000 }, NULL);
	tai64n_now(b);
	CHECK(memcmp(a, b, 12) < 0);
	memcpy(&nsec, b + 8, 4);
	CHECK((be32toh(nsec) & ((1U << 24) - 1)) == 0);
	CHECK(be32toh(nsec) < NSEC_PER_SEC);
}

int main(void)
{
	test_blake2s_kat();
	test_rfc7693_selftest();
	test_hmac_kdf();
	test_tai64n();
	return t_done("hash");
}
