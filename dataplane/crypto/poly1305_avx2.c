// SPDX-License-Identifier: GPL-2.0-only
/*
 * poly1305_avx2.c - Poly1305 over 8 lanes (two groups of four 64-bit
 * lanes), one message per lane, radix 2^26 so that vpmuludq's 32x32->64
 * products and their five-term sums fit. Built with -mavx2.
 *
 * Invariant between blocks: every limb of h is below 2^26 + 2^14 after the
 * carry pass, so h + m < 2^28 and each five-term sum of products with
 * 5r < 2^29 stays below 2^60.
 */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "memzero.h"
#include "poly1305.h"
#include "poly1305_avx2.h"
#include "poly1305_lanes.h"

#define LANES 8
#define M26 0x3ffffffu

struct vstate {
	uint64_t h[5][LANES] __attribute__((aligned(32)));
	uint64_t r[5][LANES] __attribute__((aligned(32)));
	uint64_t s[5][LANES] __attribute__((aligned(32)));   /* 5 * r */
	uint64_t pad[2][LANES] __attribute__((aligned(32))); /* s of the key: otk[16..31] */
	uint64_t tag[2][LANES] __attribute__((aligned(32)));
	const uint8_t *p[LANES];      /* next block of each lane */
	const uint8_t *end[LANES];    /* where p jumps to tail[LANES] */
	const uint8_t *tail[LANES];
	uint32_t inc[LANES];          /* 16 for a busy lane, 0 for an idle one */
	struct poly1305_lane lane[LANES];
};

static const uint8_t idle_block[16];

/* h of four lanes lives in registers; r and 5r are read from memory as
 * vpmuludq operands, which keeps two groups within AVX2's 16 registers. */
struct group {
	__m256i h[5];
	const uint64_t (*r)[LANES], (*s)[LANES];
	int base;
};

/* Two 16-byte values of four lanes as (low words, high words). */
static inline __attribute__((always_inline)) void load_pairs(__m256i *lo, __m256i *hi, const uint8_t *const p[4])
{
	__m128i a = _mm_loadu_si128((const __m128i *)p[0]);
	__m128i b = _mm_loadu_si128((const __m128i *)p[1]);
	__m128i c = _mm_loadu_si128((const __m128i *)p[2]);
	__m128i d = _mm_loadu_si128((const __m128i *)p[3]);

	*lo = _mm256_set_m128i(_mm_unpacklo_epi64(c, d), _mm_unpacklo_epi64(a, b));
	*hi = _mm256_set_m128i(_mm_unpackhi_epi64(c, d), _mm_unpackhi_epi64(a, b));
}

/* Block limbs of four lanes: 16 bytes each from p[0..3], 2^128 bit set. */
static inline __attribute__((always_inline)) void load_m(__m256i m[5], const uint8_t *const p[4])
{
	const __m256i mask = _mm256_set1_epi64x(M26);
	__m256i lo, hi;

	load_pairs(&lo, &hi, p);

	m[0] = _mm256_and_si256(lo, mask);
	m[1] = _mm256_and_si256(_mm256_srli_epi64(lo, 26), mask);
	m[2] = _mm256_and_si256(_mm256_or_si256(_mm256_srli_epi64(lo, 52),
						_mm256_slli_epi64(hi, 12)), mask);
	m[3] = _mm256_and_si256(_mm256_srli_epi64(hi, 14), mask);
	m[4] = _mm256_or_si256(_mm256_srli_epi64(hi, 40), _mm256_set1_epi64x(1 << 24));
}

#define MUL(a, b) _mm256_mul_epu32(a, _mm256_load_si256((const __m256i *)&g->b[g->base]))
#define ADD(a, b) _mm256_add_epi64(a, b)

/* h = (h + m) * r mod 2^130 - 5, partially reduced. */
static inline __attribute__((always_inline)) void group_block(struct group *g, const uint8_t *const p[4])
{
	const __m256i mask = _mm256_set1_epi64x(M26);
	__m256i m[5], h[5], d[5], c;

	load_m(m, p);
	for (int i = 0; i < 5; i++)
		h[i] = ADD(g->h[i], m[i]);
	/* limb products wrapping past 2^130 come back times 5 (s = 5r) */
	d[0] = ADD(ADD(ADD(MUL(h[0], r[0]), MUL(h[1], s[4])), ADD(MUL(h[2], s[3]),
		   MUL(h[3], s[2]))), MUL(h[4], s[1]));
	d[1] = ADD(ADD(ADD(MUL(h[0], r[1]), MUL(h[1], r[0])), ADD(MUL(h[2], s[4]),
		   MUL(h[3], s[3]))), MUL(h[4], s[2]));
	d[2] = ADD(ADD(ADD(MUL(h[0], r[2]), MUL(h[1], r[1])), ADD(MUL(h[2], r[0]),
		   MUL(h[3], s[4]))), MUL(h[4], s[3]));
	d[3] = ADD(ADD(ADD(MUL(h[0], r[3]), MUL(h[1], r[2])), ADD(MUL(h[2], r[1]),
		   MUL(h[3], r[0]))), MUL(h[4], s[4]));
	d[4] = ADD(ADD(ADD(MUL(h[0], r[4]), MUL(h[1], r[3])), ADD(MUL(h[2], r[2]),
		   MUL(h[3], r[1]))), MUL(h[4], r[0]));

	/* two interleaved carry chains (0->1->2, 3->4->0->1) keep latency short */
	c = _mm256_srli_epi64(d[0], 26); d[0] = _mm256_and_si256(d[0], mask); d[1] = ADD(d[1], c);
	c = _mm256_srli_epi64(d[3], 26); d[3] = _mm256_and_si256(d[3], mask); d[4] = ADD(d[4], c);
	c = _mm256_srli_epi64(d[1], 26); d[1] = _mm256_and_si256(d[1], mask); d[2] = ADD(d[2], c);
	c = _mm256_srli_epi64(d[4], 26); d[4] = _mm256_and_si256(d[4], mask);
	d[0] = ADD(d[0], ADD(c, _mm256_slli_epi64(c, 2)));
	c = _mm256_srli_epi64(d[2], 26); d[2] = _mm256_and_si256(d[2], mask); d[3] = ADD(d[3], c);
	c = _mm256_srli_epi64(d[0], 26); d[0] = _mm256_and_si256(d[0], mask); d[1] = ADD(d[1], c);
	c = _mm256_srli_epi64(d[3], 26); d[3] = _mm256_and_si256(d[3], mask); d[4] = ADD(d[4], c);
	for (int i = 0; i < 5; i++)
		g->h[i] = d[i];
}

static inline void group_load(struct group *g, const struct vstate *v, int base)
{
	g->r = v->r;
	g->s = v->s;
	g->base = base;
	for (int i = 0; i < 5; i++)
		g->h[i] = _mm256_load_si256((const __m256i *)&v->h[i][base]);
}

static inline void group_store(const struct group *g, struct vstate *v, int base)
{
	for (int i = 0; i < 5; i++)
		_mm256_store_si256((__m256i *)&v->h[i][base], g->h[i]);
}

/* k blocks on every lane, h kept in registers. */
static void run_steps(struct vstate *v, uint32_t k)
{
	struct group a, b;
	const uint8_t *p[LANES];

	memcpy(p, v->p, sizeof(p));
	group_load(&a, v, 0);
	group_load(&b, v, 4);
	while (k--) {
		group_block(&a, p);
		group_block(&b, p + 4);
		for (int l = 0; l < LANES; l++) {
			p[l] += v->inc[l];
			p[l] = p[l] == v->end[l] ? v->tail[l] : p[l];
		}
	}
	group_store(&a, v, 0);
	group_store(&b, v, 4);
	memcpy(v->p, p, sizeof(p));
	/* no wipe of a and b here: they live in registers, and whatever the
	 * compiler spilled is scrubbed by aead_stack_scrub() after the burst */
}

/* a >= 2^63 ? all ones : 0, for 64-bit lanes (AVX2 has no unsigned compare) */
static inline __m256i carry_of(__m256i sum, __m256i addend)
{
	const __m256i sign = _mm256_set1_epi64x(INT64_MIN);

	return _mm256_cmpgt_epi64(_mm256_xor_si256(addend, sign), _mm256_xor_si256(sum, sign));
}

#define SHR(x, n) _mm256_srli_epi64(x, n)
#define SHL(x, n) _mm256_slli_epi64(x, n)
#define AND(x, y) _mm256_and_si256(x, y)
#define OR(x, y) _mm256_or_si256(x, y)

/*
 * Tags of four lanes at once: full reduction of h mod 2^130 - 5 (RFC 8439
 * 2.5.1) in constant time, then (h + s) mod 2^128. Cheaper than one scalar
 * finish, so it runs for all lanes whenever any lane ends.
 */
static inline void group_finish(uint64_t hs[5][LANES], const uint64_t pad[2][LANES],
				uint64_t tag[2][LANES], int base)
{
	const __m256i m = _mm256_set1_epi64x(M26);
	__m256i h[5], g[5], c, sel, lo, hi, s;

	for (int i = 0; i < 5; i++)
		h[i] = _mm256_loadu_si256((const __m256i *)&hs[i][base]);
	/* one carry pass: limbs < 2^26 except h1 <= 2^26 */
	for (int i = 0; i < 4; i++) {
		c = SHR(h[i], 26); h[i] = AND(h[i], m); h[i + 1] = ADD(h[i + 1], c);
	}
	c = SHR(h[4], 26); h[4] = AND(h[4], m); h[0] = ADD(h[0], ADD(c, SHL(c, 2)));
	c = SHR(h[0], 26); h[0] = AND(h[0], m); h[1] = ADD(h[1], c);

	/* g = h + 5 - 2^130; keep g where that did not borrow */
	c = _mm256_set1_epi64x(5);
	for (int i = 0; i < 4; i++) {
		g[i] = ADD(h[i], c); c = SHR(g[i], 26); g[i] = AND(g[i], m);
	}
	g[4] = _mm256_sub_epi64(ADD(h[4], c), _mm256_set1_epi64x(1 << 26));
	sel = _mm256_sub_epi64(SHR(g[4], 63), _mm256_set1_epi64x(1)); /* ~0: no borrow */
	for (int i = 0; i < 5; i++)
		h[i] = _mm256_blendv_epi8(h[i], g[i], sel);
	/* h < p now, so carrying h1 = 2^26 upwards cannot overflow h4 */
	for (int i = 1; i < 4; i++) {
		c = SHR(h[i], 26); h[i] = AND(h[i], m); h[i + 1] = ADD(h[i + 1], c);
	}

	lo = OR(OR(h[0], SHL(h[1], 26)), SHL(h[2], 52));
	hi = OR(OR(SHR(h[2], 12), SHL(h[3], 14)), SHL(h[4], 40));
	s = _mm256_loadu_si256((const __m256i *)&pad[0][base]);
	lo = ADD(lo, s);
	hi = _mm256_sub_epi64(hi, carry_of(lo, s)); /* carry is -1 */
	hi = ADD(hi, _mm256_loadu_si256((const __m256i *)&pad[1][base]));
	_mm256_storeu_si256((__m256i *)&tag[0][base], lo);
	_mm256_storeu_si256((__m256i *)&tag[1][base], hi);
}

void poly1305_avx2_finish(uint64_t h[5][8], const uint64_t pad[2][8], uint64_t tag[2][8])
{
	group_finish(h, pad, tag, 0);
	group_finish(h, pad, tag, 4);
}

/* Lane l idle: it reads one zero block forever and its results are unused. */
static void lane_idle(struct vstate *v, int l)
{
	v->lane[l].job = -1;
	v->p[l] = idle_block;
	v->end[l] = v->tail[l] = NULL;
	v->inc[l] = 0;
	v->pad[0][l] = v->pad[1][l] = 0;
	for (int i = 0; i < 5; i++)
		v->r[i][l] = v->s[i][l] = v->h[i][l] = 0;
}

/* Block pointers of lane l for job ji; the key is set by the caller. */
static void lane_start(struct vstate *v, int l, const struct poly1305_job *jobs, int ji)
{
	poly1305_lane_start(&v->lane[l], &jobs[ji], ji);
	v->p[l] = v->lane[l].p;
	v->end[l] = v->lane[l].end;
	v->tail[l] = v->lane[l].tail;
	v->inc[l] = 16;
}

static void lane_begin(struct vstate *v, int l, const struct poly1305_job *jobs, int ji)
{
	uint64_t r[2];

	if (ji < 0) {
		lane_idle(v, l);
		return;
	}
	lane_start(v, l, jobs, ji);
	poly1305_clamp(r, jobs[ji].otk);
	memcpy(&v->pad[0][l], jobs[ji].otk + 16, 8);
	memcpy(&v->pad[1][l], jobs[ji].otk + 24, 8);
	v->r[0][l] = r[0] & M26;
	v->r[1][l] = (r[0] >> 26) & M26;
	v->r[2][l] = ((r[0] >> 52) | (r[1] << 12)) & M26;
	v->r[3][l] = (r[1] >> 14) & M26;
	v->r[4][l] = r[1] >> 40;
	for (int i = 0; i < 5; i++) {
		v->s[i][l] = v->r[i][l] * 5;
		v->h[i][l] = 0;
	}
	memzero_explicit(r, sizeof(r));
}

/* Keys of the four busy lanes from base: clamped r in radix 2^26, 5r, s. */
static void group_keys(struct vstate *v, const struct poly1305_job *jobs, int base)
{
	const __m256i m = _mm256_set1_epi64x(M26);
	const uint8_t *k[4], *ks[4];
	__m256i lo, hi, r[5];

	for (int l = 0; l < 4; l++) {
		k[l] = jobs[v->lane[base + l].job].otk;
		ks[l] = k[l] + 16;
	}
	load_pairs(&lo, &hi, k);
	lo = AND(lo, _mm256_set1_epi64x(0x0ffffffc0fffffffll));
	hi = AND(hi, _mm256_set1_epi64x(0x0ffffffc0ffffffcll));
	r[0] = AND(lo, m);
	r[1] = AND(SHR(lo, 26), m);
	r[2] = AND(OR(SHR(lo, 52), SHL(hi, 12)), m);
	r[3] = AND(SHR(hi, 14), m);
	r[4] = SHR(hi, 40);
	for (int i = 0; i < 5; i++) {
		_mm256_store_si256((__m256i *)&v->r[i][base], r[i]);
		_mm256_store_si256((__m256i *)&v->s[i][base], ADD(r[i], SHL(r[i], 2)));
		_mm256_store_si256((__m256i *)&v->h[i][base], _mm256_setzero_si256());
	}
	load_pairs(&lo, &hi, ks);
	_mm256_store_si256((__m256i *)&v->pad[0][base], lo);
	_mm256_store_si256((__m256i *)&v->pad[1][base], hi);
}

/* All eight lanes start jobs first..first+7: keys with vector code. */
static void lanes_begin8(struct vstate *v, const struct poly1305_job *jobs, int first)
{
	for (int l = 0; l < LANES; l++)
		lane_start(v, l, jobs, first + l);
	group_keys(v, jobs, 0);
	group_keys(v, jobs, 4);
}

static void lane_end(struct vstate *v, int l, const struct poly1305_job *jobs)
{
	uint8_t *tag = jobs[v->lane[l].job].tag;

	memcpy(tag, &v->tag[0][l], 8);
	memcpy(tag + 8, &v->tag[1][l], 8);
}

void poly1305_avx2_jobs(const struct poly1305_job *jobs, unsigned n)
{
	struct vstate v;
	unsigned next = 0, busy = 0, ending;

	if (n >= LANES) {
		lanes_begin8(&v, jobs, 0);
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
		poly1305_avx2_finish(v.h, v.pad, v.tag);
		for (int l = 0; l < LANES; l++)
			if (ending & 1u << l)
				lane_end(&v, l, jobs);
		if (ending == (1u << LANES) - 1 && n - next >= LANES) {
			lanes_begin8(&v, jobs, (int)next);
			next += LANES;
			continue;
		}
		for (int l = 0; l < LANES; l++) {
			if (!(ending & 1u << l))
				continue;
			busy--;
			lane_begin(&v, l, jobs, next < n ? (int)next++ : -1);
			busy += v.lane[l].job >= 0;
		}
	}
	memzero_explicit(&v, sizeof(v));
}

/*
 * The within-message wide path (aead_wide.h): one message, four blocks per
 * group step. Lane j of a group accumulates blocks j, j + 4, j + 8, ... by
 * Horner's rule with r^4; the last step multiplies lane j by r^(4 - j)
 * instead, so that block i ends up times r^(n - i) and the four lanes
 * summed are the one-lane result (RFC 8439 2.5: h = sum m_i r^(n - i)).
 * The running h of ctx enters lane 0 with block 0.
 * Two groups run side by side (eight blocks per step, r^8, and r^8..r^1
 * at the end) so that two independent multiply chains hide each other's
 * latency, as the two groups of the cross-packet engine do; an odd four
 * blocks go first through one group alone.
 */

/* Carried 44/44/42-bit limbs (poly1305_carry()) to radix 2^26, each limb
 * < 2^26 except the top one <= 2^26: within group_block()'s bounds. */
static void limbs26(uint64_t l[5], const uint64_t h[3])
{
	l[0] = h[0] & M26;
	l[1] = ((h[0] >> 26) | (h[1] << 18)) & M26;
	l[2] = (h[1] >> 8) & M26;
	l[3] = ((h[1] >> 34) | (h[2] << 10)) & M26;
	l[4] = h[2] >> 16;
}

/* Radix 2^26 limbs of any size below 2^62 back to 44/44/42 bits. */
static void limbs44(uint64_t h[3], uint64_t l[5])
{
	unsigned __int128 lo, hi;

	for (int i = 0; i < 4; i++) {
		l[i + 1] += l[i] >> 26;
		l[i] &= M26;
	}
	l[0] += (l[4] >> 26) * 5;
	l[4] &= M26;
	lo = l[0] + ((unsigned __int128)l[1] << 26) + ((unsigned __int128)l[2] << 52);
	hi = (lo >> 44) + ((unsigned __int128)l[3] << 34) + ((unsigned __int128)l[4] << 60);
	h[0] = (uint64_t)lo & 0xfffffffffffull;
	h[1] = (uint64_t)hi & 0xfffffffffffull;
	h[2] = (uint64_t)(hi >> 44);
}

struct wide_keys {
	uint64_t r[5][LANES] __attribute__((aligned(32)));  /* r^8 in every lane */
	uint64_t s[5][LANES] __attribute__((aligned(32)));
	uint64_t rl[5][LANES] __attribute__((aligned(32))); /* lane j: r^(8 - j) */
	uint64_t sl[5][LANES] __attribute__((aligned(32)));
	uint64_t pw[8][3];                                  /* r^1..r^8, 44-bit limbs */
	uint64_t pl[8][5];                                  /* r^8..r^1, 26-bit limbs */
	uint64_t l[5];
	uint64_t hv[5][LANES] __attribute__((aligned(32)));
};

/*
 * Rows of r^8 (every lane) and of r^(8 - j) (lane j), with 5 times each.
 * Written with whole-vector stores: group_block() reads them as vectors,
 * and a vector load from four scalar stores would stall store forwarding
 * on every first use.
 */
static void wide_keys(struct wide_keys *k, const struct poly1305_ctx *ctx)
{
	uint64_t (*l)[5] = k->pl;

	/* a chain three multiplications deep rather than seven */
	memcpy(k->pw[0], ctx->r, sizeof(k->pw[0]));
	poly1305_mul(k->pw[1], k->pw[0], k->pw[0]);
	poly1305_mul(k->pw[2], k->pw[1], k->pw[0]);
	poly1305_mul(k->pw[3], k->pw[1], k->pw[1]);
	for (int i = 4; i < 8; i++)
		poly1305_mul(k->pw[i], k->pw[3], k->pw[i - 4]);
	for (int j = 0; j < 8; j++)
		limbs26(l[j], k->pw[7 - j]);
	for (int i = 0; i < 5; i++) {
		__m256i a = _mm256_set_epi64x((long long)l[3][i], (long long)l[2][i],
					      (long long)l[1][i], (long long)l[0][i]);
		__m256i b = _mm256_set_epi64x((long long)l[7][i], (long long)l[6][i],
					      (long long)l[5][i], (long long)l[4][i]);
		__m256i r8 = _mm256_set1_epi64x((long long)l[0][i]);

		_mm256_store_si256((__m256i *)&k->rl[i][0], a);
		_mm256_store_si256((__m256i *)&k->rl[i][4], b);
		_mm256_store_si256((__m256i *)&k->sl[i][0], ADD(a, SHL(a, 2)));
		_mm256_store_si256((__m256i *)&k->sl[i][4], ADD(b, SHL(b, 2)));
		_mm256_store_si256((__m256i *)&k->r[i][0], r8);
		_mm256_store_si256((__m256i *)&k->r[i][4], r8);
		_mm256_store_si256((__m256i *)&k->s[i][0], ADD(r8, SHL(r8, 2)));
		_mm256_store_si256((__m256i *)&k->s[i][4], ADD(r8, SHL(r8, 2)));
	}
}

/* ctx->h into lane 0 of g, zero in the other lanes. */
static void wide_enter(struct group *g, struct wide_keys *k, struct poly1305_ctx *ctx)
{
	poly1305_carry(ctx->h);
	limbs26(k->l, ctx->h);
	for (int i = 0; i < 5; i++)
		g->h[i] = _mm256_set_epi64x(0, 0, 0, (long long)k->l[i]);
}

/* The sum of the lanes of ngroups groups back into ctx->h. */
static void wide_leave(struct poly1305_ctx *ctx, struct wide_keys *k, const struct group *g,
		       int ngroups)
{
	for (int i = 0; i < 5; i++) {
		k->l[i] = 0;
		for (int n = 0; n < ngroups; n++) {
			_mm256_store_si256((__m256i *)k->hv[i], g[n].h[i]);
			k->l[i] += k->hv[i][0] + k->hv[i][1] + k->hv[i][2] + k->hv[i][3];
		}
	}
	limbs44(ctx->h, k->l);
}

void poly1305_avx2_blocks4(struct poly1305_ctx *ctx, const uint8_t *m, size_t nblocks)
{
	struct wide_keys k;
	struct group g[2];

	wide_keys(&k, ctx);
	if (nblocks % 8) {
		/* four blocks times r^4..r^1: lanes 4..7 of rl */
		const uint8_t *p[4] = { m, m + 16, m + 32, m + 48 };

		/* fields one by one: a compound literal would zero h first,
		 * with an inlined rep stos (slow to start on AMD) */
		g[0].r = k.rl;
		g[0].s = k.sl;
		g[0].base = 4;
		wide_enter(&g[0], &k, ctx);
		group_block(&g[0], p);
		wide_leave(ctx, &k, g, 1);
		m += 64;
		nblocks -= 4;
	}
	if (nblocks) {
		const uint8_t *pa[4] = { m, m + 16, m + 32, m + 48 };
		const uint8_t *pb[4] = { m + 64, m + 80, m + 96, m + 112 };

		g[0].r = g[1].r = k.r;
		g[0].s = g[1].s = k.s;
		g[0].base = 0;
		g[1].base = 4;
		wide_enter(&g[0], &k, ctx);
		for (int i = 0; i < 5; i++)
			g[1].h[i] = _mm256_setzero_si256();
		for (size_t t = nblocks / 8; t; t--) {
			if (t == 1) {
				g[0].r = g[1].r = k.rl;
				g[0].s = g[1].s = k.sl;
			}
			group_block(&g[0], pa);
			group_block(&g[1], pb);
			for (int j = 0; j < 4; j++) {
				pa[j] += 128;
				pb[j] += 128;
			}
		}
		wide_leave(ctx, &k, g, 2);
	}
	memzero_explicit(&k, sizeof(k));
}
