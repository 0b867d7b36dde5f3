// SPDX-License-Identifier: GPL-2.0-only
/*
 * Known answers for the portable primitives under the generic backend:
 * ChaCha20 block function (RFC 8439 2.3.2), Poly1305 key generation
 * (RFC 8439 2.6.2), the Poly1305 reduction edge cases of RFC 8439
 * appendix A.3 (#5..#11: h >= p, carries through every limb), and the SIMD
 * engine's radix-2^26 final reduction against the portable one; the
 * within-message wide path (aead_wide.h): ChaCha20 over eight consecutive
 * blocks and Poly1305 four blocks per step against the portable code, on
 * random data, extreme keys and h, and every block count up to 300; the
 * radix-2^64 block loop against 44-bit Horner steps from extreme h; the
 * AVX-512 engines' wide ChaCha20 (every start, with and without the
 * one-time key, in place, keystream only), eight-block Poly1305 and
 * sixteen-lane final reduction against the portable code.
 *
 * Usage: test_primitives [avx2|avx512|ifma]: without an argument the
 * portable checks; with one, that engine's checks, or exit 77 (a counted
 * skip) when the CPU lacks it. Built a second time against SIMDe
 * (MG_SIMD_EMULATED), where avx512 and ifma run on every CPU.
 */
#include "aead_test.h"
#include "aead_wide.h"
#include "chacha20_avx2.h"
#include "chacha20_avx512.h"
#include "poly1305_avx2.h"
#include "poly1305_ifma.h"
#include "chacha20.h"
#include "poly1305.h"
#include "poly1305_lanes.h"

static void test_chacha20_block(void)
{
	uint8_t key[32], want[64], got[64];
	uint32_t st[16];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	hex_decode(want, "10f1e7e4d13b5915500fdd1fa32071c4c7d1f4c733c068030422aa9ac3d46c4e"
			 "d2826446079faa0914c2d705d98b02a2b5129cd1de164eb9cbd083e8a2503c4e");
	chacha20_init(st, key, 0);
	/* this vector's nonce 000000090000004a00000000 is not of WireGuard's
	 * form, so set the nonce words directly */
	st[12] = 1;
	st[13] = 0x09000000;
	st[14] = 0x4a000000;
	st[15] = 0;
	chacha20_block(got, st);
	CHECK(!memcmp(got, want, 64), "chacha20 block RFC 8439 2.3.2");
	CHECK(st[12] == 2, "chacha20 block counter not advanced");
}

static void test_poly1305_keygen(void)
{
	uint8_t key[32], want[32], got[64];
	uint32_t st[16];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)(0x80 + i);
	hex_decode(want, "8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646");
	chacha20_init(st, key, 0x0706050403020100ull);
	chacha20_block(got, st);
	CHECK(!memcmp(got, want, 32), "poly1305 key generation RFC 8439 2.6.2");
}

static const struct {
	const char *name, *key, *msg, *tag;
} poly_kats[] = {
	{ "A.3 #1", "0000000000000000000000000000000000000000000000000000000000000000",
	  "0000000000000000000000000000000000000000000000000000000000000000"
	  "0000000000000000000000000000000000000000000000000000000000000000",
	  "00000000000000000000000000000000" },
	{ "A.3 #5", "0200000000000000000000000000000000000000000000000000000000000000",
	  "ffffffffffffffffffffffffffffffff", "03000000000000000000000000000000" },
	{ "A.3 #6", "02000000000000000000000000000000ffffffffffffffffffffffffffffffff",
	  "02000000000000000000000000000000", "03000000000000000000000000000000" },
	{ "A.3 #7", "0100000000000000000000000000000000000000000000000000000000000000",
	  "fffffffffffffffffffffffffffffffff0ffffffffffffffffffffffffffffff"
	  "11000000000000000000000000000000", "05000000000000000000000000000000" },
	{ "A.3 #8", "0100000000000000000000000000000000000000000000000000000000000000",
	  "fffffffffffffffffffffffffffffffffbfefefefefefefefefefefefefefefe"
	  "01010101010101010101010101010101", "00000000000000000000000000000000" },
	{ "A.3 #9", "0200000000000000000000000000000000000000000000000000000000000000",
	  "fdffffffffffffffffffffffffffffff", "faffffffffffffffffffffffffffffff" },
	{ "A.3 #10", "0100000000000000040000000000000000000000000000000000000000000000",
	  "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
	  "0000000000000000000000000000000001000000000000000000000000000000",
	  "14000000000000005500000000000000" },
	{ "A.3 #11", "0100000000000000040000000000000000000000000000000000000000000000",
	  "e33594d7505e43b900000000000000003394d7505e4379cd0100000000000000"
	  "00000000000000000000000000000000", "13000000000000000000000000000000" },
};

static void test_poly1305(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(poly_kats); i++) {
		uint8_t key[32], msg[64], want[16], got[16];
		size_t len = hex_decode(msg, poly_kats[i].msg);
		struct poly1305_ctx ctx;

		hex_decode(key, poly_kats[i].key);
		hex_decode(want, poly_kats[i].tag);
		poly1305_init(&ctx, key);
		poly1305_blocks(&ctx, msg, len / 16);
		poly1305_final(&ctx, got);
		CHECK(!memcmp(got, want, 16), "poly1305 RFC 8439 %s", poly_kats[i].name);
	}
}

/*
 * The AVX2 engine's final step (radix 2^26, limbs possibly above 26 bits)
 * against the portable one (radix 2^44) on the values where the reduction
 * mod p = 2^130 - 5 can go wrong: around p, around 2^130, and above.
 */
struct finish_case {
	uint64_t canon[5]; /* canonical radix-2^26 limbs, value < 2^131 */
	int unnorm;        /* limb that holds 2^26 extra, borrowed from the next */
	uint8_t s[16];
};

static void finish_want(const struct finish_case *fc, uint8_t want[16])
{
	struct poly1305_ctx ctx = { 0 };
	unsigned __int128 lo = 0;

	for (int i = 0; i < 5; i++) {
		uint64_t l = i == 4 ? fc->canon[i] & 0xffffff : fc->canon[i];

		lo += (unsigned __int128)l << (26 * i);
	}
	ctx.h[0] = (uint64_t)lo & 0xfffffffffffull;
	ctx.h[1] = (uint64_t)(lo >> 44) & 0xfffffffffffull;
	ctx.h[2] = (uint64_t)(lo >> 88) | (fc->canon[4] >> 24) << 40;
	memcpy(ctx.s, fc->s, 16);
	poly1305_final(&ctx, want);
}

/* Up to eight cases through poly1305_avx2_finish(), one per lane. */
static void finish_check(const struct finish_case *fc, int n)
{
	uint64_t h[5][8] = { { 0 } }, pad[2][8] = { { 0 } }, tag[2][8];

	for (int l = 0; l < n; l++) {
		for (int i = 0; i < 5; i++)
			h[i][l] = fc[l].canon[i];
		if (fc[l].unnorm < 4 && h[fc[l].unnorm + 1][l]) {
			h[fc[l].unnorm][l] += 1 << 26;
			h[fc[l].unnorm + 1][l] -= 1;
		}
		memcpy(&pad[0][l], fc[l].s, 8);
		memcpy(&pad[1][l], fc[l].s + 8, 8);
	}
	poly1305_avx2_finish(h, pad, tag);
	for (int l = 0; l < n; l++) {
		uint8_t want[16], got[16];

		finish_want(&fc[l], want);
		memcpy(got, &tag[0][l], 8);
		memcpy(got + 8, &tag[1][l], 8);
		CHECK(!memcmp(got, want, 16), "avx2 finish lane %d: %llx %llx %llx %llx %llx unnorm %d",
		      l, (unsigned long long)fc[l].canon[0], (unsigned long long)fc[l].canon[1],
		      (unsigned long long)fc[l].canon[2], (unsigned long long)fc[l].canon[3],
		      (unsigned long long)fc[l].canon[4], fc[l].unnorm);
	}
}

static void test_finish_avx2(void)
{
	const uint64_t m = 0x3ffffff;
	static const uint64_t vals[][5] = {
		{ 0, 0, 0, 0, 0 },
		{ 0x3fffffa, 0x3ffffff, 0x3ffffff, 0x3ffffff, 0x3ffffff }, /* p - 1 */
		{ 0x3fffffb, 0x3ffffff, 0x3ffffff, 0x3ffffff, 0x3ffffff }, /* p */
		{ 0x3fffffc, 0x3ffffff, 0x3ffffff, 0x3ffffff, 0x3ffffff }, /* p + 1 */
		{ 0x3ffffff, 0x3ffffff, 0x3ffffff, 0x3ffffff, 0x3ffffff }, /* 2^130 - 1 */
		{ 0, 0, 0, 0, 0x4000000 },                                 /* 2^130 */
		{ 4, 0, 0, 0, 0x4000000 },                                 /* 2^130 + 4 */
		{ 0x3fffffa, 0x3ffffff, 0x3ffffff, 0x3ffffff, 0x7ffffff }, /* 2^131 - 6 */
		{ 0x3ffffff, 0x3ffffff, 0x3ffffff, 0x3ffffff, 0x7ffffff }, /* 2^131 - 1 */
		{ 0x1234567, 0x0abcdef, 0x3000000, 0x2ffffff, 0x1000000 },
		/* 2^130 + small: the reduction leaves h1 = 2^26, unnormalised */
		{ 0x3fffffb, 0x3ffffff, 1, 0, 0x4000000 },
		{ 0x3fffffb, 0x3ffffff, 0x3ffffff, 0x3ffffff, 0x4000000 },
	};
	struct finish_case fc[8];
	uint64_t seed = 42;
	int n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(vals); i++)
		for (int u = -1; u < 4; u++)
			for (int k = 0; k < 2; k++) {
				memcpy(fc[n].canon, vals[i], sizeof(vals[i]));
				fc[n].unnorm = u < 0 ? 9 : u;
				if (k)
					test_fill(fc[n].s, 16, &seed);
				else
					memset(fc[n].s, 0xff, 16); /* s + h carries out of 2^128 */
				if (++n == 8) {
					finish_check(fc, n);
					n = 0;
				}
			}
	finish_check(fc, n);
	for (int i = 0; i < 20000; i++) {
		for (int j = 0; j < 5; j++)
			fc[n].canon[j] = test_rand(&seed) & (j == 4 ? 2 * m + 1 : m);
		fc[n].unnorm = (int)(test_rand(&seed) % 6);
		test_fill(fc[n].s, 16, &seed);
		if (++n == 8) {
			finish_check(fc, n);
			n = 0;
		}
	}
}

/*
 * poly1305_blocks() (radix 2^64 inside, 44-bit limbs in ctx) against Horner's
 * rule spelled with poly1305_mul() (44-bit limbs throughout), from h values
 * at and above the limb widths a caller may leave, with the largest r.
 */
static void test_poly1305_radix(void)
{
	const uint64_t M44 = 0xfffffffffffull, M42 = 0x3ffffffffffull;
	const uint64_t hs[][3] = { { 0, 0, 0 }, { M44, M44, M42 }, { M44 - 4, M44, M42 },
				   { M44 + 9, M44 + 9, M42 * 2 + 1 }, { 1, 0, M44 } };
	static uint8_t m[16 * 40];
	uint64_t seed = 5;

	for (size_t k = 0; k < 2 * ARRAY_SIZE(hs); k++) {
		struct poly1305_ctx a, b;
		uint8_t key[32], ta[16], tb[16];
		size_t n = 1 + k * 3;

		if (k % 2)
			memset(key, 0xff, 32);
		else
			test_fill(key, 32, &seed);
		if (k % 4 == 1)
			memset(m, 0xff, sizeof(m));
		else
			test_fill(m, sizeof(m), &seed);
		poly1305_init(&a, key);
		memcpy(a.h, hs[k / 2], sizeof(a.h));
		b = a;
		poly1305_blocks(&a, m, n);
		for (size_t i = 0; i < n; i++) {
			uint64_t t0, t1;

			memcpy(&t0, m + 16 * i, 8);
			memcpy(&t1, m + 16 * i + 8, 8);
			b.h[0] += t0 & M44;
			b.h[1] += ((t0 >> 44) | (t1 << 20)) & M44;
			b.h[2] += (t1 >> 24) | (1ull << 40);
			poly1305_carry(b.h);
			poly1305_mul(b.h, b.h, b.r);
		}
		poly1305_final(&a, ta);
		poly1305_final(&b, tb);
		CHECK(!memcmp(ta, tb, 16), "poly1305_blocks radix 2^64 vs 44-bit Horner, case %zu", k);
	}
}

/* chacha20_avx2_first8() and chacha20_avx2_xor8() against chacha20.c. */
static void test_chacha20_wide(void)
{
	static uint8_t src[1200], want[1200], got[1200];
	uint8_t key[32], ks[512] __attribute__((aligned(32)));
	static const uint32_t starts[] = { 0, 1, 8, 0xfffffffdu }; /* last: word 12 wraps */
	uint64_t seed = 7;
	uint32_t st[16];

	for (int t = 0; t < 4; t++) {
		uint64_t ctr = t == 3 ? ~0ull : test_rand(&seed);

		test_fill(key, 32, &seed);
		chacha20_init(st, key, ctr);
		chacha20_xor(want, (const uint8_t[512]){ 0 }, 512, st);
		chacha20_avx2_first8(ks, key, ctr);
		CHECK(!memcmp(ks, want, 512), "chacha20 first8 counter %#llx",
		      (unsigned long long)ctr);
	}
	/* the row-layout blocks alone: every count, start blocks with a wrap */
	for (unsigned n = 1; n <= 8; n++)
		for (size_t b = 0; b < ARRAY_SIZE(starts); b++) {
			uint64_t ctr = test_rand(&seed);

			test_fill(key, 32, &seed);
			chacha20_init(st, key, ctr);
			st[12] = starts[b];
			chacha20_xor(want, (const uint8_t[512]){ 0 }, 64 * n, st);
			chacha20_avx2_blocks(ks, n, key, ctr, starts[b]);
			CHECK(!memcmp(ks, want, 64 * n), "chacha20 row blocks n %u block %#x", n,
			      starts[b]);
		}
	for (uint32_t len = 0; len <= sizeof(src); len += len < 130 ? 1 : 37) {
		for (size_t b = 0; b < ARRAY_SIZE(starts); b++) {
			uint64_t ctr = test_rand(&seed);

			test_fill(key, 32, &seed);
			test_fill(src, len, &seed);
			chacha20_init(st, key, ctr);
			st[12] = starts[b];
			chacha20_xor(want, src, len, st);
			chacha20_avx2_xor8(got, src, len, key, ctr, starts[b]);
			CHECK(!memcmp(got, want, len), "chacha20 xor8 len %u block %#x", len,
			      starts[b]);
			/* in place */
			chacha20_avx2_xor8(src, src, len, key, ctr, starts[b]);
			CHECK(!memcmp(src, want, len), "chacha20 xor8 in place len %u", len);
		}
	}
}

/* One wide Poly1305 check: h0 (as 44-bit limbs, may be unreduced) then
 * nblocks of m, wide and portable, then final. */
static void wide_poly_check(const uint8_t key[32], const uint64_t h0[3], const uint8_t *m,
			    size_t nblocks, const char *what)
{
	struct poly1305_ctx a, b;
	uint8_t ta[16], tb[16];

	poly1305_init(&a, key);
	memcpy(a.h, h0, sizeof(a.h));
	b = a;
	poly1305_avx2_blocks4(&a, m, nblocks);
	poly1305_blocks(&b, m, nblocks);
	poly1305_final(&a, ta);
	poly1305_final(&b, tb);
	CHECK(!memcmp(ta, tb, 16), "poly1305 wide %s: %zu blocks", what, nblocks);
}

static void test_poly1305_wide(void)
{
	static uint8_t m[300 * 16], ff[300 * 16];
	const uint64_t M44 = 0xfffffffffffull, M42 = 0x3ffffffffffull;
	/* h below p, h = p - 1, h >= p, and limbs above their width as
	 * poly1305_blocks() leaves them */
	const uint64_t hs[][3] = { { 0, 0, 0 }, { M44 - 5, M44, M42 }, { M44 - 4, M44, M42 },
				   { M44, M44, M42 }, { M44 + 7, M44 + 3, M42 } };
	uint8_t key[32], maxkey[32];
	uint64_t seed = 11, h[3];

	memset(ff, 0xff, sizeof(ff));
	memset(maxkey, 0xff, sizeof(maxkey)); /* largest r the clamp allows */
	test_fill(m, sizeof(m), &seed);
	for (size_t n = 0; n <= 300; n += 4) {
		test_fill(key, 32, &seed);
		h[0] = test_rand(&seed) & M44;
		h[1] = test_rand(&seed) & M44;
		h[2] = test_rand(&seed) & M42;
		wide_poly_check(key, h, m, n, "random");
		wide_poly_check(maxkey, hs[n / 4 % ARRAY_SIZE(hs)], ff, n, "max r, all-ones blocks");
		wide_poly_check(maxkey, hs[n / 4 % ARRAY_SIZE(hs)], m, n, "max r");
	}
	/* RFC 8439 A.3 #1: four zero blocks under the zero key, through the
	 * wide path: still the zero tag */
	memset(key, 0, 32);
	memset(m, 0, 64);
	{
		struct poly1305_ctx c;
		uint8_t tag[16];

		poly1305_init(&c, key);
		poly1305_avx2_blocks4(&c, m, 4);
		poly1305_final(&c, tag);
		CHECK(!memcmp(tag, (uint8_t[16]){ 0 }, 16), "poly1305 wide RFC 8439 A.3 #1");
	}
	/* the AEAD tag helper against the portable one for every length */
	for (uint32_t len = 0; len <= 2048; len++) {
		uint8_t ta[16], tb[16];

		test_fill(key, 32, &seed);
		aead_wide_tag(ta, key, ff + (len & 1), len);
		poly1305_aead(tb, key, ff + (len & 1), len);
		CHECK(!memcmp(ta, tb, 16), "aead_wide_tag len %u", len);
	}
}

/* chacha20_avx512_xor() against chacha20.c: every start block (one
 * wraps word 12), with and without the one-time key, in place, and the
 * keystream alone (src NULL). */
static void test_chacha20_avx512(void)
{
	static uint8_t src[2200], want[2200 + 64], got[2200 + 64], zero[2200 + 64];
	static const uint32_t starts[] = { 0, 1, 8, 0xfffffff3u };
	uint8_t key[32], otk[32];
	uint64_t seed = 13;
	uint32_t st[16];

	for (uint32_t len = 0; len <= sizeof(src); len += len < 300 ? 1 : 61) {
		for (size_t b = 0; b < ARRAY_SIZE(starts); b++) {
			uint64_t ctr = b == 3 ? ~0ull : test_rand(&seed);
			bool with_otk = (len + b) & 1;

			test_fill(key, 32, &seed);
			test_fill(src, len, &seed);
			chacha20_init(st, key, ctr);
			st[12] = starts[b];
			chacha20_xor(want, zero, 64 * with_otk, st);
			chacha20_xor(want + 64 * with_otk, src, len, st);
			memset(got, 0xa5, sizeof(got));
			chacha20_avx512_xor(got, src, len, key, ctr, starts[b], with_otk ? otk : NULL);
			CHECK(!memcmp(got, want + 64 * with_otk, len) && got[len] == 0xa5,
			      "chacha20 avx512 len %u block %#x otk %d", len, starts[b], with_otk);
			CHECK(!with_otk || !memcmp(otk, want, 32), "chacha20 avx512 otk len %u", len);
			chacha20_avx512_xor(src, src, len, key, ctr, starts[b], NULL);
			chacha20_init(st, key, ctr);
			st[12] = starts[b] + with_otk;
			chacha20_xor(want, zero, len, st);
			/* src ^ ks ^ ks' where ks' started one block later (or equal) */
			chacha20_avx512_xor(got, NULL, len, key, ctr, starts[b] + with_otk, NULL);
			CHECK(!memcmp(got, want, len), "chacha20 avx512 keystream len %u", len);
		}
	}
}

struct avx512_poly {
	const char *name;
	void (*blocks8)(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks);
	void (*finish)(const uint64_t h[3][16], const uint64_t pad[2][16], uint64_t tag[2][16]);
};

/* Eight-block steps against poly1305_blocks(), from extreme h, with the
 * largest r the clamp allows and all-ones blocks. */
static void test_poly1305_blocks8(const struct avx512_poly *e)
{
	static uint8_t m[304 * 16], ff[304 * 16];
	const uint64_t M44 = 0xfffffffffffull, M42 = 0x3ffffffffffull;
	const uint64_t hs[][3] = { { 0, 0, 0 }, { M44 - 5, M44, M42 }, { M44 - 4, M44, M42 },
				   { M44, M44, M42 }, { M44 + 7, M44 + 3, M42 } };
	uint8_t key[32], maxkey[32];
	uint64_t seed = 17;

	memset(ff, 0xff, sizeof(ff));
	memset(maxkey, 0xff, sizeof(maxkey));
	test_fill(m, sizeof(m), &seed);
	for (size_t n = 0; n <= 304; n += 8) {
		for (int v = 0; v < 3; v++) {
			struct poly1305_ctx a, b;
			uint8_t ta[16], tb[16];
			const uint8_t *msg = v == 1 ? ff : m;

			if (v == 0)
				test_fill(key, 32, &seed);
			poly1305_init(&a, v ? maxkey : key);
			memcpy(a.h, hs[(n / 8 + v) % ARRAY_SIZE(hs)], sizeof(a.h));
			b = a;
			e->blocks8(&a, msg, n);
			poly1305_blocks(&b, msg, n);
			poly1305_final(&a, ta);
			poly1305_final(&b, tb);
			CHECK(!memcmp(ta, tb, 16), "poly1305 %s blocks8: %zu blocks, case %d",
			      e->name, n, v);
		}
	}
}

/* The sixteen-lane final reduction against poly1305_final() on h around
 * p = 2^130 - 5 and 2^130, limbs above their widths, s that carries. */
static void test_poly1305_finish16(const struct avx512_poly *e)
{
	const uint64_t M44 = 0xfffffffffffull, M42 = 0x3ffffffffffull;
	const uint64_t vals[][3] = {
		{ 0, 0, 0 }, { M44 - 5, M44, M42 }, { M44 - 4, M44, M42 }, { M44 - 3, M44, M42 },
		{ M44, M44, M42 }, { 0, 0, M42 + 1 }, { 4, 0, M42 + 1 }, { M44 + 5, M44, M42 },
		{ M44 + 9, M44 + 9, M42 * 2 + 1 }, { 1, M44 + 1, M42 }, { 0x123456789ab, 0xfedcba98765, 0x1000 },
	};
	static uint64_t h[3][16] __attribute__((aligned(64)));
	static uint64_t pad[2][16] __attribute__((aligned(64))), tag[2][16] __attribute__((aligned(64)));
	struct poly1305_ctx ctx[16];
	uint64_t seed = 19;

	for (int round = 0; round < 400; round++) {
		for (int l = 0; l < 16; l++) {
			int vi = (round * 16 + l) % (int)(ARRAY_SIZE(vals) + 4);

			memset(&ctx[l], 0, sizeof(ctx[l]));
			for (int i = 0; i < 3; i++)
				ctx[l].h[i] = vi < (int)ARRAY_SIZE(vals) ? vals[vi][i] :
					test_rand(&seed) & (i == 2 ? M42 : M44);
			if (l & 1)
				memset(ctx[l].s, 0xff, 16);
			else
				test_fill(ctx[l].s, 16, &seed);
			for (int i = 0; i < 3; i++)
				h[i][l] = ctx[l].h[i];
			memcpy(&pad[0][l], ctx[l].s, 8);
			memcpy(&pad[1][l], ctx[l].s + 8, 8);
		}
		e->finish(h, pad, tag);
		for (int l = 0; l < 16; l++) {
			uint8_t want[16], got[16];

			poly1305_final(&ctx[l], want);
			memcpy(got, &tag[0][l], 8);
			memcpy(got + 8, &tag[1][l], 8);
			CHECK(!memcmp(got, want, 16), "poly1305 %s finish round %d lane %d", e->name,
			      round, l);
		}
	}
}

/* Exit 77 with the reason when the CPU lacks what a mode needs. */
static void need(unsigned features, const char *what)
{
	if ((aead_cpu_features() & features) == features)
		return;
	printf("SKIP: this CPU lacks %s\n", what);
	exit(77);
}

int main(int argc, char **argv)
{
	static const struct avx512_poly f = { "avx512f", poly1305_avx512_blocks8,
					      poly1305_avx512_finish };
	static const struct avx512_poly ifma = { "ifma", poly1305_ifma_blocks8,
						 poly1305_ifma_finish };
	const char *mode = argc > 1 ? argv[1] : "portable";

	aead_init("generic");
	if (!strcmp(mode, "avx2")) {
		need(AEAD_CPU_AVX2, "AVX2");
		test_finish_avx2();
		test_chacha20_wide();
		test_poly1305_wide();
	} else if (!strcmp(mode, "avx512")) {
		need(AEAD_CPU_AVX512F, "AVX-512 F/VL/BW/DQ");
		test_chacha20_avx512();
		test_poly1305_blocks8(&f);
		test_poly1305_finish16(&f);
	} else if (!strcmp(mode, "ifma")) {
		need(AEAD_CPU_AVX512F | AEAD_CPU_AVX512IFMA, "AVX-512 IFMA");
		test_poly1305_blocks8(&ifma);
		test_poly1305_finish16(&ifma);
	} else {
		test_chacha20_block();
		test_poly1305_keygen();
		test_poly1305();
		test_poly1305_radix();
	}
	printf("# %s checks\n", mode);
	return test_exit("primitives");
}
