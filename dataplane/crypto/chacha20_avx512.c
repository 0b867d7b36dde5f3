// SPDX-License-Identifier: GPL-2.0-only
/*
 * chacha20_avx512.c - ChaCha20 over 16 lanes, one job per lane (see
 * chacha20_lanes.h), and one message over 16 consecutive blocks (the wide
 * path). Built with -mavx512f -mavx512vl -mavx512bw; called only when
 * CPUID has them. The same source builds against SIMDe for the emulated
 * test build (MG_SIMD_EMULATED: the test build supplies the intrinsics).
 *
 * Against the eight-lane AVX2 engine: a rotate is one instruction
 * (vprold), the 32 registers hold the state and its input copy, and a
 * lane's 64-byte block is one register, so partial blocks are one masked
 * load and store.
 *
 * The lane state is kept transposed in memory (row w = word w of all
 * sixteen lanes) so that a lane is refilled with a new job by plain stores
 * while the other lanes carry on.
 */
#ifndef MG_SIMD_EMULATED
#include <immintrin.h>
#endif
#include <stdbool.h>
#include <string.h>

#include "chacha20.h"
#include "chacha20_avx512.h"
#include "memzero.h"

#define LANES 16

struct lane {
	const uint8_t *src;
	uint8_t *dst;
	uint8_t *otk;
	uint32_t left;  /* data bytes still to xor */
	bool busy;
};

struct lanes {
	uint32_t st[16][LANES] __attribute__((aligned(64))); /* rows 4..15 used */
	uint8_t ks[LANES][64] __attribute__((aligned(64)));
	struct lane lane[LANES];
};

#define ROTL(v, n) _mm512_rol_epi32(v, n)

#define QR(a, b, c, d) do {						\
	a = _mm512_add_epi32(a, b); d = ROTL(_mm512_xor_si512(d, a), 16);	\
	c = _mm512_add_epi32(c, d); b = ROTL(_mm512_xor_si512(b, c), 12);	\
	a = _mm512_add_epi32(a, b); d = ROTL(_mm512_xor_si512(d, a), 8);	\
	c = _mm512_add_epi32(c, d); b = ROTL(_mm512_xor_si512(b, c), 7);	\
} while (0)

/* 64 bytes of keystream k to out, or xored with in (in == NULL: store k). */
static inline __attribute__((always_inline)) void put64(uint8_t *out, const uint8_t *in, __m512i k)
{
	if (in)
		k = _mm512_xor_si512(k, _mm512_loadu_si512((const void *)in));
	_mm512_storeu_si512((void *)out, k);
}

/*
 * Sixteen rows (row w = word w of every lane) to lanes, as a 16x16
 * transpose of 32-bit words: lane 4k + j ends up in (u_j, v_j, w_j, y_j)
 * chunk k after the two unpack steps, and one 4x4 transpose of 128-bit
 * chunks puts it together. Always inlined with a constant `in`.
 */
static inline __attribute__((always_inline)) void
transpose16(__m512i x[16], uint8_t *const out[LANES], const uint8_t *const in[LANES])
{
	__m512i t[16], u[16];

	for (int i = 0; i < 16; i += 2) {
		t[i] = _mm512_unpacklo_epi32(x[i], x[i + 1]);
		t[i + 1] = _mm512_unpackhi_epi32(x[i], x[i + 1]);
	}
	/* u[4q + j]: words 4q..4q+3 of lanes j, 4 + j, 8 + j, 12 + j */
	for (int q = 0; q < 16; q += 4) {
		u[q] = _mm512_unpacklo_epi64(t[q], t[q + 2]);
		u[q + 1] = _mm512_unpackhi_epi64(t[q], t[q + 2]);
		u[q + 2] = _mm512_unpacklo_epi64(t[q + 1], t[q + 3]);
		u[q + 3] = _mm512_unpackhi_epi64(t[q + 1], t[q + 3]);
	}
	for (int j = 0; j < 4; j++) {
		__m512i a = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x88);
		__m512i b = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xdd);
		__m512i c = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0x88);
		__m512i d = _mm512_shuffle_i32x4(u[8 + j], u[12 + j], 0xdd);

		put64(out[j], in ? in[j] : NULL, _mm512_shuffle_i32x4(a, c, 0x88));
		put64(out[8 + j], in ? in[8 + j] : NULL, _mm512_shuffle_i32x4(a, c, 0xdd));
		put64(out[4 + j], in ? in[4 + j] : NULL, _mm512_shuffle_i32x4(b, d, 0x88));
		put64(out[12 + j], in ? in[12 + j] : NULL, _mm512_shuffle_i32x4(b, d, 0xdd));
	}
}

#define ROW(i) _mm512_load_si512((const void *)L->st[i])

/* One keystream block for every lane, to out[] or xored from in[] into
 * out[]; advances the block counters by one. */
static inline __attribute__((always_inline)) void
lanes_block(struct lanes *L, uint8_t *const out[LANES], const uint8_t *const in[LANES])
{
	__m512i x[16], s[16];

	s[0] = _mm512_set1_epi32((int)CHACHA20_C0);
	s[1] = _mm512_set1_epi32((int)CHACHA20_C1);
	s[2] = _mm512_set1_epi32((int)CHACHA20_C2);
	s[3] = _mm512_set1_epi32((int)CHACHA20_C3);
	for (int i = 4; i < 16; i++)
		s[i] = ROW(i);
	for (int i = 0; i < 16; i++)
		x[i] = s[i];
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 16; i++)
		x[i] = _mm512_add_epi32(x[i], s[i]);
	transpose16(x, out, in);
	_mm512_store_si512((void *)L->st[12], _mm512_add_epi32(s[12], _mm512_set1_epi32(1)));
}

static void lane_load(struct lanes *L, int l, const struct chacha20_job *j)
{
	struct lane *ln = &L->lane[l];
	uint32_t k[8];

	/* scalar stores into the rows: the next vector load of a row waits
	 * for them once per refill, a few dozen cycles per sixteen jobs */
	memcpy(k, j->key, 32); /* little-endian host: words are le32 */
	for (int i = 0; i < 8; i++)
		L->st[4 + i][l] = k[i];
	L->st[12][l] = j->block;
	L->st[13][l] = 0;
	L->st[14][l] = (uint32_t)j->counter;
	L->st[15][l] = (uint32_t)(j->counter >> 32);
	ln->src = j->src;
	ln->dst = j->dst;
	ln->otk = j->otk;
	ln->left = j->len;
	ln->busy = true;
	memzero_explicit(k, sizeof(k));
}

/* Consume this step's keystream block for one lane: a partial block is one
 * masked load and store. */
static inline void lane_consume(struct lane *ln, const uint8_t *ks)
{
	__m512i k = _mm512_load_si512((const void *)ks);
	uint32_t n;

	if (ln->otk) {
		memcpy(ln->otk, ks, 32);
		ln->otk = NULL;
		return;
	}
	n = ln->left < 64 ? ln->left : 64;
	if (n == 64) {
		put64(ln->dst, ln->src, k);
	} else {
		__mmask64 m = (1ull << n) - 1;

		k = _mm512_xor_si512(k, _mm512_maskz_loadu_epi8(m, (const void *)ln->src));
		_mm512_mask_storeu_epi8((void *)ln->dst, m, k);
	}
	ln->src += n;
	ln->dst += n;
	ln->left -= n;
}

/* One step of every lane through L->ks; the caller consumes L->ks. */
static __attribute__((noinline)) void lanes_step(struct lanes *L)
{
	uint8_t *out[LANES];

	for (int l = 0; l < LANES; l++)
		out[l] = L->ks[l];
	lanes_block(L, out, NULL);
}

/*
 * Every lane busy with its one-time key next (a fresh full burst): only
 * words 0..7 of each lane's block are wanted, so half of the transpose
 * and of the final additions is skipped and the 32 bytes go straight to
 * the lanes' otk buffers.
 */
static __attribute__((noinline)) void lanes_otk(struct lanes *L)
{
	__m512i x[16], s[16], t[8], u[8];

	s[0] = _mm512_set1_epi32((int)CHACHA20_C0);
	s[1] = _mm512_set1_epi32((int)CHACHA20_C1);
	s[2] = _mm512_set1_epi32((int)CHACHA20_C2);
	s[3] = _mm512_set1_epi32((int)CHACHA20_C3);
	for (int i = 4; i < 16; i++)
		s[i] = ROW(i);
	for (int i = 0; i < 16; i++)
		x[i] = s[i];
	for (int i = 0; i < 10; i++) {
		QR(x[0], x[4], x[8], x[12]);
		QR(x[1], x[5], x[9], x[13]);
		QR(x[2], x[6], x[10], x[14]);
		QR(x[3], x[7], x[11], x[15]);
		QR(x[0], x[5], x[10], x[15]);
		QR(x[1], x[6], x[11], x[12]);
		QR(x[2], x[7], x[8], x[13]);
		QR(x[3], x[4], x[9], x[14]);
	}
	for (int i = 0; i < 8; i++)
		x[i] = _mm512_add_epi32(x[i], s[i]);
	for (int i = 0; i < 8; i += 2) {
		t[i] = _mm512_unpacklo_epi32(x[i], x[i + 1]);
		t[i + 1] = _mm512_unpackhi_epi32(x[i], x[i + 1]);
	}
	for (int q = 0; q < 8; q += 4) {
		u[q] = _mm512_unpacklo_epi64(t[q], t[q + 2]);
		u[q + 1] = _mm512_unpackhi_epi64(t[q], t[q + 2]);
		u[q + 2] = _mm512_unpacklo_epi64(t[q + 1], t[q + 3]);
		u[q + 3] = _mm512_unpackhi_epi64(t[q + 1], t[q + 3]);
	}
	/* lane 4k + j: chunk k of u[j] (words 0..3) and of u[4 + j] (4..7) */
	for (int j = 0; j < 4; j++) {
		__m512i a = _mm512_shuffle_i32x4(u[j], u[4 + j], 0x88);
		__m512i b = _mm512_shuffle_i32x4(u[j], u[4 + j], 0xdd);

#define OTK(l, v, imm) _mm256_storeu_si256((__m256i *)L->lane[l].otk,			\
					   _mm512_castsi512_si256(_mm512_shuffle_i32x4(v, v, imm)))
		OTK(j, a, 0x08);
		OTK(8 + j, a, 0x0d);
		OTK(4 + j, b, 0x08);
		OTK(12 + j, b, 0x0d);
#undef OTK
	}
	for (int l = 0; l < LANES; l++)
		L->lane[l].otk = NULL;
	_mm512_store_si512((void *)L->st[12], _mm512_add_epi32(s[12], _mm512_set1_epi32(1)));
}

/* Every lane busy with at least k more full data blocks: the keystream is
 * xored straight from registers. */
static __attribute__((noinline)) void lanes_full(struct lanes *L, uint32_t k)
{
	uint8_t *out[LANES];
	const uint8_t *in[LANES];

	for (int l = 0; l < LANES; l++) {
		out[l] = L->lane[l].dst;
		in[l] = L->lane[l].src;
	}
	while (k--) {
		lanes_block(L, out, in);
		for (int l = 0; l < LANES; l++) {
			out[l] += 64;
			in[l] += 64;
		}
	}
	for (int l = 0; l < LANES; l++) {
		L->lane[l].left -= (uint32_t)(out[l] - L->lane[l].dst);
		L->lane[l].dst = out[l];
		L->lane[l].src = in[l];
	}
}

/* Full data blocks every lane still has before anything special, or 0. */
static uint32_t lanes_full_blocks(const struct lanes *L)
{
	uint32_t k = UINT32_MAX;

	for (int l = 0; l < LANES; l++) {
		const struct lane *ln = &L->lane[l];

		if (!ln->busy || ln->otk)
			return 0;
		if (ln->left / 64 < k)
			k = ln->left / 64;
	}
	return k;
}

/*
 * Rows 4..15 of all sixteen lanes at once from sixteen jobs: the keys by a
 * transpose (keys l and l + 8 in the two halves of register l, an 8x8
 * word transpose within each half), so the rows are written with vector
 * stores: a full burst's refills cause no store-forwarding stalls.
 */
static void lanes_load16(struct lanes *L, const struct chacha20_job *j)
{
	const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
	const __m512i hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
	__m512i x[8], t[8], u[8];
	uint32_t blk[LANES], c0[LANES], c1[LANES];

	for (int i = 0; i < 8; i++)
		x[i] = _mm512_inserti64x4(_mm512_castsi256_si512(
			_mm256_loadu_si256((const __m256i *)j[i].key)),
			_mm256_loadu_si256((const __m256i *)j[i + 8].key), 1);
	for (int i = 0; i < 8; i += 2) {
		t[i] = _mm512_unpacklo_epi32(x[i], x[i + 1]);
		t[i + 1] = _mm512_unpackhi_epi32(x[i], x[i + 1]);
	}
	for (int i = 0; i < 8; i += 4) {
		u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
		u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
		u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
		u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
	}
	for (int i = 0; i < 4; i++) {
		_mm512_store_si512((void *)L->st[4 + i], _mm512_permutex2var_epi64(u[i], lo, u[i + 4]));
		_mm512_store_si512((void *)L->st[8 + i], _mm512_permutex2var_epi64(u[i], hi, u[i + 4]));
	}
	for (int l = 0; l < LANES; l++) {
		struct lane *ln = &L->lane[l];

		blk[l] = j[l].block;
		c0[l] = (uint32_t)j[l].counter;
		c1[l] = (uint32_t)(j[l].counter >> 32);
		ln->src = j[l].src;
		ln->dst = j[l].dst;
		ln->otk = j[l].otk;
		ln->left = j[l].len;
		ln->busy = true;
	}
	_mm512_store_si512((void *)L->st[12], _mm512_loadu_si512((const void *)blk));
	_mm512_store_si512((void *)L->st[13], _mm512_setzero_si512());
	_mm512_store_si512((void *)L->st[14], _mm512_loadu_si512((const void *)c0));
	_mm512_store_si512((void *)L->st[15], _mm512_loadu_si512((const void *)c1));
	/* x, t, u live in registers: what the compiler spills is scrubbed by
	 * aead_stack_scrub() after the burst (wiping them here would force
	 * them to memory first) */
}

/* The next sixteen jobs all have work (so lanes_load16() may take them). */
static bool jobs_useful(const struct chacha20_job *j)
{
	for (int l = 0; l < LANES; l++)
		if (!j[l].len && !j[l].otk)
			return false;
	return true;
}

static bool lanes_all_otk(const struct lanes *L)
{
	for (int l = 0; l < LANES; l++)
		if (!L->lane[l].busy || !L->lane[l].otk)
			return false;
	return true;
}

/* Give every idle lane the next job with work (jobs without a one-time key
 * or data never take a lane); returns the busy lanes. */
static unsigned lanes_refill(struct lanes *L, const struct chacha20_job *jobs, unsigned n,
			     unsigned *next, unsigned busy)
{
	if (!busy && n - *next >= LANES && jobs_useful(jobs + *next)) {
		lanes_load16(L, jobs + *next);
		*next += LANES;
		return LANES;
	}
	for (int l = 0; l < LANES && *next < n; l++) {
		if (L->lane[l].busy)
			continue;
		while (*next < n && !jobs[*next].len && !jobs[*next].otk)
			(*next)++;
		if (*next < n) {
			lane_load(L, l, &jobs[(*next)++]);
			busy++;
		}
	}
	return busy;
}

void chacha20_avx512_jobs(const struct chacha20_job *jobs, unsigned n)
{
	struct lanes L;
	unsigned next = 0, busy = 0;
	uint32_t k;

	memzero_explicit(&L, sizeof(L));
	while ((busy = lanes_refill(&L, jobs, n, &next, busy))) {
		k = lanes_full_blocks(&L);
		if (k) {
			lanes_full(&L, k);
		} else if (lanes_all_otk(&L)) {
			lanes_otk(&L);
		} else {
			lanes_step(&L);
			for (int l = 0; l < LANES; l++)
				if (L.lane[l].busy)
					lane_consume(&L.lane[l], L.ks[l]);
		}
		for (int l = 0; l < LANES; l++) {
			struct lane *ln = &L.lane[l];

			if (ln->busy && !ln->otk && !ln->left) {
				ln->busy = false;
				busy--;
			}
		}
	}
	memzero_explicit(&L, sizeof(L));
}

/*
 * The wide path: the row layout, one register per state row with four
 * blocks in its four 128-bit chunks, the diagonal round by rotating rows
 * 1..3 within each chunk. One such state is a long dependency chain, so up
 * to four run side by side: sixteen blocks a step, and a short message
 * pays only for the states it needs.
 */
struct cursor {
	uint8_t *dst;
	const uint8_t *src;   /* NULL: write the keystream */
	size_t left;
	uint8_t *otk;         /* the next block goes here first */
};

static inline __attribute__((always_inline)) void emit(struct cursor *c, __m512i k)
{
	if (c->otk) {
		_mm256_storeu_si256((__m256i *)c->otk, _mm512_castsi512_si256(k));
		c->otk = NULL;
		return;
	}
	if (c->left >= 64) {
		put64(c->dst, c->src, k);
		c->dst += 64;
		if (c->src)
			c->src += 64;
		c->left -= 64;
	} else if (c->left) {
		__mmask64 m = (1ull << c->left) - 1;

		if (c->src)
			k = _mm512_xor_si512(k, _mm512_maskz_loadu_epi8(m, (const void *)c->src));
		_mm512_mask_storeu_epi8((void *)c->dst, m, k);
		c->left = 0;
	}
}

static inline __attribute__((always_inline)) void
rows(struct cursor *cur, int n, __m512i a0, __m512i b0, __m512i c0, __m512i d0)
{
	const __m512i four = _mm512_setr_epi32(4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0);
	__m512i a[4], b[4], c[4], d[4], dn[4];

	for (int s = 0; s < n; s++) {
		dn[s] = s ? _mm512_add_epi32(dn[s - 1], four) : d0;
		a[s] = a0;
		b[s] = b0;
		c[s] = c0;
		d[s] = dn[s];
	}
	for (int i = 0; i < 10; i++) {
		for (int s = 0; s < n; s++) {
			QR(a[s], b[s], c[s], d[s]);
			b[s] = _mm512_shuffle_epi32(b[s], _MM_SHUFFLE(0, 3, 2, 1));
			c[s] = _mm512_shuffle_epi32(c[s], _MM_SHUFFLE(1, 0, 3, 2));
			d[s] = _mm512_shuffle_epi32(d[s], _MM_SHUFFLE(2, 1, 0, 3));
		}
		for (int s = 0; s < n; s++) {
			QR(a[s], b[s], c[s], d[s]);
			b[s] = _mm512_shuffle_epi32(b[s], _MM_SHUFFLE(2, 1, 0, 3));
			c[s] = _mm512_shuffle_epi32(c[s], _MM_SHUFFLE(1, 0, 3, 2));
			d[s] = _mm512_shuffle_epi32(d[s], _MM_SHUFFLE(0, 3, 2, 1));
		}
	}
	for (int s = 0; s < n; s++) {
		__m512i x = _mm512_add_epi32(a[s], a0), y = _mm512_add_epi32(b[s], b0);
		__m512i z = _mm512_add_epi32(c[s], c0), w = _mm512_add_epi32(d[s], dn[s]);
		/* 4x4 transpose of 128-bit chunks: block j = chunk j of x, y, z, w */
		__m512i p = _mm512_shuffle_i32x4(x, y, 0x44), q = _mm512_shuffle_i32x4(z, w, 0x44);
		__m512i r = _mm512_shuffle_i32x4(x, y, 0xee), t = _mm512_shuffle_i32x4(z, w, 0xee);

		emit(cur, _mm512_shuffle_i32x4(p, q, 0x88));
		emit(cur, _mm512_shuffle_i32x4(p, q, 0xdd));
		emit(cur, _mm512_shuffle_i32x4(r, t, 0x88));
		emit(cur, _mm512_shuffle_i32x4(r, t, 0xdd));
	}
}

void chacha20_avx512_xor(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[32],
			 uint64_t counter, uint32_t block, uint8_t *otk)
{
	struct cursor cur = { .dst = dst, .src = src, .left = len, .otk = otk };
	const __m512i a = _mm512_setr_epi32(CHACHA20_C0, CHACHA20_C1, CHACHA20_C2, CHACHA20_C3,
					    CHACHA20_C0, CHACHA20_C1, CHACHA20_C2, CHACHA20_C3,
					    CHACHA20_C0, CHACHA20_C1, CHACHA20_C2, CHACHA20_C3,
					    CHACHA20_C0, CHACHA20_C1, CHACHA20_C2, CHACHA20_C3);
	__m512i b = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)key));
	__m512i c = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(key + 16)));
	__m512i d = _mm512_setr_epi32(0, 0, (int)(uint32_t)counter, (int)(uint32_t)(counter >> 32),
				      1, 0, (int)(uint32_t)counter, (int)(uint32_t)(counter >> 32),
				      2, 0, (int)(uint32_t)counter, (int)(uint32_t)(counter >> 32),
				      3, 0, (int)(uint32_t)counter, (int)(uint32_t)(counter >> 32));
	size_t blocks = (len + 63) / 64 + (otk ? 1 : 0);

	d = _mm512_add_epi32(d, _mm512_setr_epi32((int)block, 0, 0, 0, (int)block, 0, 0, 0,
						  (int)block, 0, 0, 0, (int)block, 0, 0, 0));
	while (blocks) {
		/* constant state counts, so each call of rows() is unrolled */
		int n = blocks > 12 ? 4 : blocks > 8 ? 3 : blocks > 4 ? 2 : 1;

		if (n == 4)
			rows(&cur, 4, a, b, c, d);
		else if (n == 3)
			rows(&cur, 3, a, b, c, d);
		else if (n == 2)
			rows(&cur, 2, a, b, c, d);
		else
			rows(&cur, 1, a, b, c, d);
		d = _mm512_add_epi32(d, _mm512_setr_epi32(4 * n, 0, 0, 0, 4 * n, 0, 0, 0,
							  4 * n, 0, 0, 0, 4 * n, 0, 0, 0));
		blocks -= blocks < 4u * n ? blocks : 4u * n;
	}
	/* b, c, d hold the key and counter: registers only; spills are
	 * scrubbed by the caller's aead_stack_scrub() */
}

void chacha20_avx512_xor_ks(uint8_t *dst, const uint8_t *src, const uint8_t *ks, size_t n)
{
	for (; n >= 64; n -= 64, dst += 64, src += 64, ks += 64)
		put64(dst, src, _mm512_loadu_si512((const void *)ks));
	if (n) {
		__mmask64 m = (1ull << n) - 1;
		__m512i k = _mm512_maskz_loadu_epi8(m, (const void *)ks);

		k = _mm512_xor_si512(k, _mm512_maskz_loadu_epi8(m, (const void *)src));
		_mm512_mask_storeu_epi8((void *)dst, m, k);
	}
}
