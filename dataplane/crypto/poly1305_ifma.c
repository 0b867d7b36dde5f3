// SPDX-License-Identifier: GPL-2.0-only
/*
 * poly1305_ifma.c - Poly1305 over 16 lanes (two groups of eight 64-bit
 * lanes), one message per lane, and one message eight blocks per step;
 * radix 2^44 (limbs of 44/44/42 bits, as poly1305.c) so that IFMA's
 * vpmadd52luq/vpmadd52huq take every limb product whole: nine
 * multiply-adds for the low halves and nine for the high halves per block,
 * where radix 2^26 needs 25 vpmuludq.
 *
 * Built twice (meson): with -mavx512ifma as the poly1305_ifma_* engine,
 * and with POLY1305_MADD52_F defined as the poly1305_avx512_* engine for
 * AVX-512F CPUs without IFMA, where each 52x52-bit product is four
 * vpmuludq on 26-bit halves (mul52() below). The emulated test build
 * compiles it against SIMDe (MG_SIMD_EMULATED).
 *
 * Product bounds: h limbs stay below 2^45 (carried after every block, plus
 * one message block), r limbs below 2^44 and 20r below 2^49, so every
 * product is below 2^94: the low halves of three products sum below 2^54,
 * the high halves below 2^44.
 */
#ifndef MG_SIMD_EMULATED
#include <immintrin.h>
#endif
#include <stdbool.h>
#include <string.h>

#include "memzero.h"
#include "poly1305.h"
#include "poly1305_ifma.h"
#include "poly1305_lanes.h"

#ifdef POLY1305_MADD52_F
#define ENGINE(x) poly1305_avx512_##x
#else
#define ENGINE(x) poly1305_ifma_##x
#endif

#define LANES 16
#define M44 0xfffffffffffull
#define M42 0x3ffffffffffull

#define ADD(a, b) _mm512_add_epi64(a, b)
#define AND(a, b) _mm512_and_si512(a, b)
#define OR(a, b) _mm512_or_si512(a, b)
#define SHR(a, n) _mm512_srli_epi64(a, n)
#define SHL(a, n) _mm512_slli_epi64(a, n)
#define SET1(v) _mm512_set1_epi64((long long)(v))

/* lo += bits 0..51 of a * b, hi += bits 52..103 (a, b < 2^52). */
static inline __attribute__((always_inline)) void mul52(__m512i *lo, __m512i *hi, __m512i a,
							 __m512i b)
{
#ifdef POLY1305_MADD52_F
	const __m512i m26 = SET1(0x3ffffff), m52 = SET1(0xfffffffffffffull);
	/* vpmuludq reads the low 32 bits: 26-bit halves of a and b */
	__m512i a0 = AND(a, m26), a1 = AND(SHR(a, 26), m26);
	__m512i b0 = AND(b, m26), b1 = AND(SHR(b, 26), m26);
	__m512i p0 = _mm512_mul_epu32(a0, b0), p1 = _mm512_mul_epu32(a1, b1);
	__m512i pm = ADD(_mm512_mul_epu32(a1, b0), _mm512_mul_epu32(a0, b1));
	__m512i t;

	t = ADD(p0, SHL(AND(pm, m26), 26));
	*lo = ADD(*lo, AND(t, m52));
	*hi = ADD(*hi, ADD(ADD(p1, SHR(pm, 26)), SHR(t, 52)));
#else
	*lo = _mm512_madd52lo_epu64(*lo, a, b);
	*hi = _mm512_madd52hi_epu64(*hi, a, b);
#endif
}

/* h = h * r mod 2^130 - 5, carried: h0, h1 < 2^44 + 2^13, h2 < 2^42.
 * s1 = 20 r1, s2 = 20 r2 (limb products past 2^130 come back times 5, and
 * 2^132 = 4 * 2^130). */
static inline __attribute__((always_inline)) void
mul_r(__m512i h[3], __m512i r0, __m512i r1, __m512i r2, __m512i s1, __m512i s2)
{
	__m512i l0 = _mm512_setzero_si512(), l1 = l0, l2 = l0, u0 = l0, u1 = l0, u2 = l0, c, x;

	mul52(&l0, &u0, h[0], r0); mul52(&l1, &u1, h[0], r1); mul52(&l2, &u2, h[0], r2);
	mul52(&l0, &u0, h[1], s2); mul52(&l1, &u1, h[1], r0); mul52(&l2, &u2, h[1], r1);
	mul52(&l0, &u0, h[2], s1); mul52(&l1, &u1, h[2], s2); mul52(&l2, &u2, h[2], r0);
	/* high halves weigh 2^52 = 2^44 << 8 in their limb; u2 weighs 2^140 */
	l1 = ADD(l1, SHL(u0, 8));
	l2 = ADD(l2, SHL(u1, 8));
	c = SHR(l0, 44); l0 = AND(l0, SET1(M44)); l1 = ADD(l1, c);
	c = SHR(l1, 44); l1 = AND(l1, SET1(M44)); l2 = ADD(l2, c);
	c = SHR(l2, 42); l2 = AND(l2, SET1(M42));
	x = ADD(c, SHL(u2, 10));
	l0 = ADD(l0, ADD(x, SHL(x, 2)));
	c = SHR(l0, 44); l0 = AND(l0, SET1(M44)); l1 = ADD(l1, c);
	h[0] = l0;
	h[1] = l1;
	h[2] = l2;
}

/* h += the block (lo, hi as le64 words of eight lanes), 2^128 bit set. */
static inline __attribute__((always_inline)) void add_block(__m512i h[3], __m512i lo, __m512i hi)
{
	h[0] = ADD(h[0], AND(lo, SET1(M44)));
	h[1] = ADD(h[1], AND(OR(SHR(lo, 44), SHL(hi, 20)), SET1(M44)));
	h[2] = ADD(h[2], OR(SHR(hi, 24), SET1(1ull << 40)));
}

/* 16 bytes from each of p[0..7] as (low words, high words). */
static inline __attribute__((always_inline)) void load8(__m512i *lo, __m512i *hi,
							 const uint8_t *const p[8])
{
	__m128i a[8];

	for (int i = 0; i < 8; i++)
		a[i] = _mm_loadu_si128((const __m128i *)p[i]);
	*lo = _mm512_inserti64x4(_mm512_castsi256_si512(
		_mm256_set_m128i(_mm_unpacklo_epi64(a[2], a[3]), _mm_unpacklo_epi64(a[0], a[1]))),
		_mm256_set_m128i(_mm_unpacklo_epi64(a[6], a[7]), _mm_unpacklo_epi64(a[4], a[5])), 1);
	*hi = _mm512_inserti64x4(_mm512_castsi256_si512(
		_mm256_set_m128i(_mm_unpackhi_epi64(a[2], a[3]), _mm_unpackhi_epi64(a[0], a[1]))),
		_mm256_set_m128i(_mm_unpackhi_epi64(a[6], a[7]), _mm_unpackhi_epi64(a[4], a[5])), 1);
}

#define LD(row, base) _mm512_load_si512((const void *)&(row)[base])
#define ST(row, base, v) _mm512_store_si512((void *)&(row)[base], v)

/*
 * Tags of eight lanes: h fully reduced mod 2^130 - 5 (RFC 8439 2.5.1) in
 * constant time, then (h + s) mod 2^128, as two le64 words per lane.
 */
static inline void finish8(const uint64_t hs[3][LANES], const uint64_t pad[2][LANES],
			   uint64_t tag[2][LANES], int base)
{
	const __m512i m44 = SET1(M44), m42 = SET1(M42);
	__m512i h0 = LD(hs[0], base), h1 = LD(hs[1], base), h2 = LD(hs[2], base);
	__m512i g0, g1, g2, c, lo, hi, s;
	__mmask8 borrow;

	/* two carry passes: canonical limbs, h < 2^130 + 2^44 */
	for (int i = 0; i < 2; i++) {
		c = SHR(h0, 44); h0 = AND(h0, m44); h1 = ADD(h1, c);
		c = SHR(h1, 44); h1 = AND(h1, m44); h2 = ADD(h2, c);
		c = SHR(h2, 42); h2 = AND(h2, m42); h0 = ADD(h0, ADD(c, SHL(c, 2)));
	}
	c = SHR(h0, 44); h0 = AND(h0, m44); h1 = ADD(h1, c);
	c = SHR(h1, 44); h1 = AND(h1, m44); h2 = ADD(h2, c);
	/* g = h + 5 - 2^130; keep h where that borrowed */
	g0 = ADD(h0, SET1(5)); c = SHR(g0, 44); g0 = AND(g0, m44);
	g1 = ADD(h1, c); c = SHR(g1, 44); g1 = AND(g1, m44);
	g2 = _mm512_sub_epi64(ADD(h2, c), SET1(1ull << 42));
	borrow = _mm512_cmpgt_epi64_mask(_mm512_setzero_si512(), g2);
	h0 = _mm512_mask_blend_epi64(borrow, g0, h0);
	h1 = _mm512_mask_blend_epi64(borrow, g1, h1);
	h2 = _mm512_mask_blend_epi64(borrow, AND(g2, m42), h2);

	g0 = OR(h0, SHL(h1, 44));
	hi = OR(SHR(h1, 20), SHL(h2, 24));
	s = LD(pad[0], base);
	lo = ADD(g0, s);
	/* the carry out of g0 + s: top bit of (g0 & s) | ((g0 | s) & ~lo) */
	c = SHR(OR(AND(g0, s), _mm512_andnot_si512(lo, OR(g0, s))), 63);
	hi = ADD(ADD(hi, LD(pad[1], base)), c);
	ST(tag[0], base, lo);
	ST(tag[1], base, hi);
}

void ENGINE(finish)(const uint64_t h[3][16], const uint64_t pad[2][16], uint64_t tag[2][16])
{
	finish8(h, pad, tag, 0);
	finish8(h, pad, tag, 8);
}

struct vstate {
	uint64_t h[3][LANES] __attribute__((aligned(64)));
	uint64_t r[3][LANES] __attribute__((aligned(64)));
	uint64_t s[3][LANES] __attribute__((aligned(64)));   /* 20 r; s[0] unused */
	uint64_t pad[2][LANES] __attribute__((aligned(64))); /* s of the key: otk[16..31] */
	uint64_t tag[2][LANES] __attribute__((aligned(64)));
	const uint8_t *p[LANES];      /* next block of each lane */
	const uint8_t *end[LANES];    /* where p jumps to tail[LANES] */
	const uint8_t *tail[LANES];
	uint32_t inc[LANES];          /* 16 for a busy lane, 0 for an idle one */
	struct poly1305_lane lane[LANES];
};

static const uint8_t idle_block[16];

/* k blocks on every lane, h, r and 20r of both groups in registers. */
static __attribute__((noinline)) void run_steps(struct vstate *v, uint32_t k)
{
	__m512i ha[3], hb[3], lo, hi;
	const __m512i ra0 = LD(v->r[0], 0), ra1 = LD(v->r[1], 0), ra2 = LD(v->r[2], 0);
	const __m512i rb0 = LD(v->r[0], 8), rb1 = LD(v->r[1], 8), rb2 = LD(v->r[2], 8);
	const __m512i sa1 = LD(v->s[1], 0), sa2 = LD(v->s[2], 0);
	const __m512i sb1 = LD(v->s[1], 8), sb2 = LD(v->s[2], 8);
	const uint8_t *p[LANES];

	memcpy(p, v->p, sizeof(p));
	for (int i = 0; i < 3; i++) {
		ha[i] = LD(v->h[i], 0);
		hb[i] = LD(v->h[i], 8);
	}
	while (k--) {
		load8(&lo, &hi, p);
		add_block(ha, lo, hi);
		mul_r(ha, ra0, ra1, ra2, sa1, sa2);
		load8(&lo, &hi, p + 8);
		add_block(hb, lo, hi);
		mul_r(hb, rb0, rb1, rb2, sb1, sb2);
		for (int l = 0; l < LANES; l++) {
			p[l] += v->inc[l];
			p[l] = p[l] == v->end[l] ? v->tail[l] : p[l];
		}
	}
	for (int i = 0; i < 3; i++) {
		ST(v->h[i], 0, ha[i]);
		ST(v->h[i], 8, hb[i]);
	}
	memcpy(v->p, p, sizeof(p));
}

/* Lane l idle: it reads one zero block forever and its results are unused. */
static void lane_idle(struct vstate *v, int l)
{
	v->lane[l].job = -1;
	v->p[l] = idle_block;
	v->end[l] = v->tail[l] = NULL;
	v->inc[l] = 0;
	v->pad[0][l] = v->pad[1][l] = 0;
	for (int i = 0; i < 3; i++)
		v->r[i][l] = v->s[i][l] = v->h[i][l] = 0;
}

static void lane_begin(struct vstate *v, int l, const struct poly1305_job *jobs, int ji)
{
	uint64_t r[2];

	if (ji < 0) {
		lane_idle(v, l);
		return;
	}
	poly1305_lane_start(&v->lane[l], &jobs[ji], ji);
	v->p[l] = v->lane[l].p;
	v->end[l] = v->lane[l].end;
	v->tail[l] = v->lane[l].tail;
	v->inc[l] = 16;
	poly1305_clamp(r, jobs[ji].otk);
	memcpy(&v->pad[0][l], jobs[ji].otk + 16, 8);
	memcpy(&v->pad[1][l], jobs[ji].otk + 24, 8);
	v->r[0][l] = r[0] & M44;
	v->r[1][l] = (r[0] >> 44 | r[1] << 20) & M44;
	v->r[2][l] = r[1] >> 24;
	for (int i = 0; i < 3; i++) {
		v->s[i][l] = v->r[i][l] * 20;
		v->h[i][l] = 0;
	}
	memzero_explicit(r, sizeof(r));
}

/* All sixteen lanes start jobs first..first+15: the keys with vector code
 * (and vector stores, which the next run_steps() loads without a
 * store-forwarding stall). */
static void lanes_begin16(struct vstate *v, const struct poly1305_job *jobs, int first)
{
	const __m512i zero = _mm512_setzero_si512();

	for (int l = 0; l < LANES; l++) {
		poly1305_lane_start(&v->lane[l], &jobs[first + l], first + l);
		v->p[l] = v->lane[l].p;
		v->end[l] = v->lane[l].end;
		v->tail[l] = v->lane[l].tail;
		v->inc[l] = 16;
	}
	for (int g = 0; g < LANES; g += 8) {
		const uint8_t *k[8], *ks[8];
		__m512i lo, hi, r1, r2;

		for (int l = 0; l < 8; l++) {
			k[l] = jobs[first + g + l].otk;
			ks[l] = k[l] + 16;
		}
		/* the clamp of RFC 8439 2.5, then 44/44/42-bit limbs */
		load8(&lo, &hi, k);
		lo = AND(lo, SET1(0x0ffffffc0fffffffull));
		hi = AND(hi, SET1(0x0ffffffc0ffffffcull));
		r1 = AND(OR(SHR(lo, 44), SHL(hi, 20)), SET1(M44));
		r2 = SHR(hi, 24);
		ST(v->r[0], g, AND(lo, SET1(M44)));
		ST(v->r[1], g, r1);
		ST(v->r[2], g, r2);
		ST(v->s[1], g, ADD(SHL(r1, 4), SHL(r1, 2)));
		ST(v->s[2], g, ADD(SHL(r2, 4), SHL(r2, 2)));
		for (int i = 0; i < 3; i++)
			ST(v->h[i], g, zero);
		load8(&lo, &hi, ks);
		ST(v->pad[0], g, lo);
		ST(v->pad[1], g, hi);
	}
}

static void lane_end(struct vstate *v, int l, const struct poly1305_job *jobs)
{
	uint8_t *tag = jobs[v->lane[l].job].tag;

	memcpy(tag, &v->tag[0][l], 8);
	memcpy(tag + 8, &v->tag[1][l], 8);
}

void ENGINE(jobs)(const struct poly1305_job *jobs, unsigned n)
{
	struct vstate v;
	unsigned next = 0, busy = 0, ending;

	if (n >= LANES) {
		lanes_begin16(&v, jobs, 0);
		next = busy = LANES;
	} else {
		for (int l = 0; l < LANES; l++) {
			lane_begin(&v, l, jobs, next < n ? (int)next++ : -1);
			busy += v.lane[l].job >= 0;
		}
	}
	while (busy) {
		uint32_t k = UINT32_MAX;

		for (int l = 0; l < LANES; l++)
			if (v.lane[l].job >= 0 && v.lane[l].left < k)
				k = v.lane[l].left;
		run_steps(&v, k);
		ending = 0;
		for (int l = 0; l < LANES; l++) {
			struct poly1305_lane *ln = &v.lane[l];

			if (ln->job < 0)
				continue;
			ln->left -= k;
			if (!ln->left)
				ending |= 1u << l;
		}
		if (!ending)
			continue;
		ENGINE(finish)(v.h, v.pad, v.tag);
		if (ending == (1u << LANES) - 1 && n - next >= LANES) {
			for (int l = 0; l < LANES; l++)
				lane_end(&v, l, jobs);
			lanes_begin16(&v, jobs, (int)next);
			next += LANES;
			continue;
		}
		for (int l = 0; l < LANES; l++) {
			if (!(ending & 1u << l))
				continue;
			lane_end(&v, l, jobs);
			busy--;
			lane_begin(&v, l, jobs, next < n ? (int)next++ : -1);
			busy += v.lane[l].job >= 0;
		}
	}
	memzero_explicit(&v, sizeof(v));
}

/*
 * The within-message wide path: lane j accumulates blocks j, j + 8, ... by
 * Horner's rule with r^8; the last step multiplies lane j by r^(8 - j)
 * instead, so block i ends up times r^(n - i) and the lanes summed are the
 * one-lane result (RFC 8439 2.5: h = sum m_i r^(n - i)). ctx->h enters
 * lane 0 with block 0. The limbs are poly1305.c's, so ctx needs no
 * conversion.
 */
struct wide_keys {
	uint64_t pw[4][3];                                 /* r^1..r^4 */
	uint64_t v[3][8] __attribute__((aligned(64)));     /* r^4..r^1 twice */
	uint64_t hv[3][8] __attribute__((aligned(64)));
};

/*
 * Lane j of rl: r^(8 - j). r^2..r^4 by scalar multiplications (a chain two
 * deep), then r^8..r^5 as r^4..r^1 times r^4 in one vector step (lanes
 * 4..7 times 1); r8: r^8 in every lane.
 */
static inline __attribute__((always_inline)) void
wide_powers(struct wide_keys *k, const struct poly1305_ctx *ctx, __m512i rl[3], __m512i r8[3])
{
	const __m512i lane0 = _mm512_setzero_si512();
	const __mmask8 lo4 = 0x0f;
	__m512i m[3];

	memcpy(k->pw[0], ctx->r, sizeof(k->pw[0]));
	poly1305_mul(k->pw[1], k->pw[0], k->pw[0]);
	poly1305_mul(k->pw[2], k->pw[1], k->pw[0]);
	poly1305_mul(k->pw[3], k->pw[1], k->pw[1]);
	for (int i = 0; i < 3; i++) {
		for (int j = 0; j < 8; j++)
			k->v[i][j] = k->pw[3 - (j & 3)][i];
		rl[i] = LD(k->v[i], 0);
		/* multiplier: r^4 in lanes 0..3, 1 in lanes 4..7 */
		m[i] = _mm512_mask_blend_epi64(lo4, SET1(i == 0), SET1(k->pw[3][i]));
	}
	mul_r(rl, m[0], m[1], m[2], ADD(SHL(m[1], 4), SHL(m[1], 2)), ADD(SHL(m[2], 4), SHL(m[2], 2)));
	for (int i = 0; i < 3; i++)
		r8[i] = _mm512_permutexvar_epi64(lane0, rl[i]);
}

void ENGINE(blocks8)(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks)
{
	struct wide_keys k;
	__m512i h[3], lo, hi, r8[3], s8[3], rl[3], sl[3];
	const __m512i idx_lo = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
	const __m512i idx_hi = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);

	wide_powers(&k, ctx, rl, r8);
	for (int i = 0; i < 3; i++) {
		sl[i] = ADD(SHL(rl[i], 4), SHL(rl[i], 2)); /* 20 r, without DQ */
		s8[i] = ADD(SHL(r8[i], 4), SHL(r8[i], 2));
	}
	poly1305_carry(ctx->h);
	for (int i = 0; i < 3; i++)
		h[i] = _mm512_maskz_set1_epi64(1, (long long)ctx->h[i]);
	for (size_t t = nblocks / 8; t; t--, m += 128) {
		__m512i a = _mm512_loadu_si512((const void *)m);
		__m512i b = _mm512_loadu_si512((const void *)(m + 64));

		lo = _mm512_permutex2var_epi64(a, idx_lo, b);
		hi = _mm512_permutex2var_epi64(a, idx_hi, b);
		add_block(h, lo, hi);
		if (t == 1)
			mul_r(h, rl[0], rl[1], rl[2], sl[1], sl[2]);
		else
			mul_r(h, r8[0], r8[1], r8[2], s8[1], s8[2]);
	}
	/* lanes summed: each limb below 2^45 + 2^13, eight of them below 2^49 */
	for (int i = 0; i < 3; i++) {
		ST(k.hv[i], 0, h[i]);
		ctx->h[i] = 0;
		for (int j = 0; j < 8; j++)
			ctx->h[i] += k.hv[i][j];
	}
	poly1305_carry(ctx->h);
	memzero_explicit(&k, sizeof(k));
}
