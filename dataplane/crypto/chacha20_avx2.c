// SPDX-License-Identifier: GPL-2.0-only
/*
 * chacha20_avx2.c - ChaCha20 over 8 lanes, one job per lane (see
 * chacha20_lanes.h). Built with -mavx2; called only when CPUID has AVX2.
 *
 * The lane state is kept transposed in memory (row w = word w of all eight
 * lanes) so that a lane is refilled with a new job by plain stores while the
 * other lanes carry on: mixed lengths never fall back to one at a time.
 */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "chacha20.h"
#include "chacha20_avx2.h"
#include "memzero.h"

#define LANES 8

struct lane {
	const uint8_t *src;
	uint8_t *dst;
	uint8_t *otk;
	uint32_t left;  /* data bytes still to xor */
	bool busy;
};

struct lanes {
	uint32_t st[16][LANES] __attribute__((aligned(32))); /* rows 4..15 used */
	uint8_t ks[LANES][64] __attribute__((aligned(32)));
	struct lane lane[LANES];
};

static inline __m256i rotl(__m256i v, int n)
{
	return _mm256_or_si256(_mm256_slli_epi32(v, n), _mm256_srli_epi32(v, 32 - n));
}

static inline __m256i rotl16(__m256i v)
{
	const __m256i m = _mm256_set_epi8(13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2,
					  13, 12, 15, 14, 9, 8, 11, 10, 5, 4, 7, 6, 1, 0, 3, 2);
	return _mm256_shuffle_epi8(v, m);
}

static inline __m256i rotl8(__m256i v)
{
	const __m256i m = _mm256_set_epi8(14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3,
					  14, 13, 12, 15, 10, 9, 8, 11, 6, 5, 4, 7, 2, 1, 0, 3);
	return _mm256_shuffle_epi8(v, m);
}

#define QR(a, b, c, d) do {						\
	a = _mm256_add_epi32(a, b); d = rotl16(_mm256_xor_si256(d, a));	\
	c = _mm256_add_epi32(c, d); b = rotl(_mm256_xor_si256(b, c), 12);	\
	a = _mm256_add_epi32(a, b); d = rotl8(_mm256_xor_si256(d, a));	\
	c = _mm256_add_epi32(c, d); b = rotl(_mm256_xor_si256(b, c), 7);	\
} while (0)

/*
 * Eight rows (word-major: row w = word w of every lane) to lanes: words
 * 0..7 of lane l go to out[l] + 32 * half, either as keystream (in ==
 * NULL) or xored with in[l] + 32 * half. Spelled out, not looped, so the
 * compiler keeps it in registers; always inlined with a constant `in`, so
 * each use compiles to one of the two forms.
 */
static inline __attribute__((always_inline)) void
transpose8(__m256i x0, __m256i x1, __m256i x2, __m256i x3, __m256i x4, __m256i x5,
	   __m256i x6, __m256i x7, uint8_t *const out[LANES], const uint8_t *const in[LANES],
	   int half)
{
	__m256i t0 = _mm256_unpacklo_epi32(x0, x1), t1 = _mm256_unpackhi_epi32(x0, x1);
	__m256i t2 = _mm256_unpacklo_epi32(x2, x3), t3 = _mm256_unpackhi_epi32(x2, x3);
	__m256i t4 = _mm256_unpacklo_epi32(x4, x5), t5 = _mm256_unpackhi_epi32(x4, x5);
	__m256i t6 = _mm256_unpacklo_epi32(x6, x7), t7 = _mm256_unpackhi_epi32(x6, x7);
	/* u_l: words 0..3 of lane l in the low half, of lane l + 4 in the high */
	__m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
	__m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
	/* v_l: the same for words 4..7 */
	__m256i v0 = _mm256_unpacklo_epi64(t4, t6), v1 = _mm256_unpackhi_epi64(t4, t6);
	__m256i v2 = _mm256_unpacklo_epi64(t5, t7), v3 = _mm256_unpackhi_epi64(t5, t7);

#define ST(l, v) do {							\
	__m256i *o_ = (__m256i *)(out[l] + 32 * half);			\
	if (in)								\
		_mm256_storeu_si256(o_, _mm256_xor_si256(v,		\
			_mm256_loadu_si256((const __m256i *)(in[l] + 32 * half)))); \
	else								\
		_mm256_store_si256(o_, v);				\
} while (0)
	ST(0, _mm256_permute2x128_si256(u0, v0, 0x20));
	ST(4, _mm256_permute2x128_si256(u0, v0, 0x31));
	ST(1, _mm256_permute2x128_si256(u1, v1, 0x20));
	ST(5, _mm256_permute2x128_si256(u1, v1, 0x31));
	ST(2, _mm256_permute2x128_si256(u2, v2, 0x20));
	ST(6, _mm256_permute2x128_si256(u2, v2, 0x31));
	ST(3, _mm256_permute2x128_si256(u3, v3, 0x20));
	ST(7, _mm256_permute2x128_si256(u3, v3, 0x31));
#undef ST
}

/* In-place 8x8 transpose of 32-bit words: x[i] word j <-> x[j] word i.
 * Turns eight lanes' keys into state rows and state rows into lanes. */
static inline __attribute__((always_inline)) void transpose8x8(__m256i x[8])
{
	__m256i t[8], u[8];

	for (int i = 0; i < 8; i += 2) {
		t[i] = _mm256_unpacklo_epi32(x[i], x[i + 1]);
		t[i + 1] = _mm256_unpackhi_epi32(x[i], x[i + 1]);
	}
	for (int i = 0; i < 8; i += 4) {
		u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
		u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
		u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
		u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
	}
	for (int i = 0; i < 4; i++) {
		x[i] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x20);
		x[i + 4] = _mm256_permute2x128_si256(u[i], u[i + 4], 0x31);
	}
}

#define ROW(i) _mm256_load_si256((const __m256i *)L->st[i])

/* One keystream block for every lane, to out[] or xored from in[] into
 * out[] (see transpose8); advances the counters by inc (1 across packets,
 * 8 for one message over eight consecutive blocks). The input words are
 * reloaded from L->st for the final addition instead of being kept in
 * registers: 16 state registers already fill AVX2's 16. */
static inline __attribute__((always_inline)) void
lanes_block(struct lanes *L, uint8_t *const out[LANES], const uint8_t *const in[LANES], int inc)
{
	const __m256i c0 = _mm256_set1_epi32(CHACHA20_C0), c1 = _mm256_set1_epi32(CHACHA20_C1);
	const __m256i c2 = _mm256_set1_epi32(CHACHA20_C2), c3 = _mm256_set1_epi32(CHACHA20_C3);
	/* named variables, not an array: lets the compiler keep them in
	 * registers instead of block-copying an array on the stack */
	__m256i x0 = c0, x1 = c1, x2 = c2, x3 = c3;
	__m256i x4 = ROW(4), x5 = ROW(5), x6 = ROW(6), x7 = ROW(7);
	__m256i x8 = ROW(8), x9 = ROW(9), x10 = ROW(10), x11 = ROW(11);
	__m256i x12 = ROW(12), x13 = ROW(13), x14 = ROW(14), x15 = ROW(15);

	for (int i = 0; i < 10; i++) {
		QR(x0, x4, x8, x12);
		QR(x1, x5, x9, x13);
		QR(x2, x6, x10, x14);
		QR(x3, x7, x11, x15);
		QR(x0, x5, x10, x15);
		QR(x1, x6, x11, x12);
		QR(x2, x7, x8, x13);
		QR(x3, x4, x9, x14);
	}
	transpose8(_mm256_add_epi32(x0, c0), _mm256_add_epi32(x1, c1),
		   _mm256_add_epi32(x2, c2), _mm256_add_epi32(x3, c3),
		   _mm256_add_epi32(x4, ROW(4)), _mm256_add_epi32(x5, ROW(5)),
		   _mm256_add_epi32(x6, ROW(6)), _mm256_add_epi32(x7, ROW(7)), out, in, 0);
	transpose8(_mm256_add_epi32(x8, ROW(8)), _mm256_add_epi32(x9, ROW(9)),
		   _mm256_add_epi32(x10, ROW(10)), _mm256_add_epi32(x11, ROW(11)),
		   _mm256_add_epi32(x12, ROW(12)), _mm256_add_epi32(x13, ROW(13)),
		   _mm256_add_epi32(x14, ROW(14)), _mm256_add_epi32(x15, ROW(15)), out, in, 1);
	_mm256_store_si256((__m256i *)L->st[12], _mm256_add_epi32(ROW(12), _mm256_set1_epi32(inc)));
}

/* Rows 4..15 of eight lanes at once from eight jobs: keys by transposing,
 * so the rows are written with vector stores (scalar stores into a row that
 * is then loaded whole would stall store forwarding). */
static void lanes_load8(struct lanes *L, const struct chacha20_job *j)
{
	__m256i k[8];

	for (int l = 0; l < LANES; l++)
		k[l] = _mm256_loadu_si256((const __m256i *)j[l].key);
	transpose8x8(k);
	for (int i = 0; i < 8; i++)
		_mm256_store_si256((__m256i *)L->st[4 + i], k[i]);
	_mm256_store_si256((__m256i *)L->st[12],
			   _mm256_setr_epi32((int)j[0].block, (int)j[1].block, (int)j[2].block,
					     (int)j[3].block, (int)j[4].block, (int)j[5].block,
					     (int)j[6].block, (int)j[7].block));
	_mm256_store_si256((__m256i *)L->st[13], _mm256_setzero_si256());
	for (int l = 0; l < LANES; l++) {
		struct lane *ln = &L->lane[l];

		L->st[14][l] = (uint32_t)j[l].counter;
		L->st[15][l] = (uint32_t)(j[l].counter >> 32);
		ln->src = j[l].src;
		ln->dst = j[l].dst;
		ln->otk = j[l].otk;
		ln->left = j[l].len;
		ln->busy = true;
	}
	memzero_explicit(k, sizeof(k));
}

static void lane_load(struct lanes *L, int l, const struct chacha20_job *j)
{
	struct lane *ln = &L->lane[l];
	uint32_t k[8];

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

static inline void xor_block(uint8_t *dst, const uint8_t *src, const uint8_t *ks, uint32_t n)
{
	if (n == 64) {
		for (int i = 0; i < 64; i += 32) {
			__m256i m = _mm256_loadu_si256((const __m256i *)(src + i));
			__m256i k = _mm256_load_si256((const __m256i *)(ks + i));

			_mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(m, k));
		}
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		dst[i] = src[i] ^ ks[i];
}

/* Consume this step's keystream block for one lane. */
static inline void lane_consume(struct lane *ln, const uint8_t *ks)
{
	uint32_t n;

	if (ln->otk) {
		memcpy(ln->otk, ks, 32);
		ln->otk = NULL;
		return;
	}
	n = ln->left < 64 ? ln->left : 64;
	xor_block(ln->dst, ln->src, ks, n);
	ln->src += n;
	ln->dst += n;
	ln->left -= n;
}

/* One step of every lane through L->ks: any mix of one-time keys, partial
 * blocks and idle lanes; the caller consumes L->ks lane by lane. */
static __attribute__((noinline)) void lanes_step(struct lanes *L)
{
	uint8_t *const ks[LANES] = { L->ks[0], L->ks[1], L->ks[2], L->ks[3],
				     L->ks[4], L->ks[5], L->ks[6], L->ks[7] };

	lanes_block(L, ks, NULL, 1);
}

/*
 * The common case: every lane busy with at least k more full data blocks.
 * The keystream is xored straight from registers, with no per-lane work
 * besides moving the pointers.
 */
static __attribute__((noinline)) void lanes_full(struct lanes *L, uint32_t k)
{
	uint8_t *out[LANES];
	const uint8_t *in[LANES];

	for (int l = 0; l < LANES; l++) {
		out[l] = L->lane[l].dst;
		in[l] = L->lane[l].src;
	}
	while (k--) {
		lanes_block(L, out, in, 1);
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

/* Next job with something to do: jobs without otk or data never take a lane. */
static unsigned next_job(const struct chacha20_job *jobs, unsigned n, unsigned next)
{
	while (next < n && !jobs[next].len && !jobs[next].otk)
		next++;
	return next;
}

/* The next eight jobs all have work (so lanes_load8() may take them). */
static bool jobs_useful(const struct chacha20_job *j)
{
	for (int l = 0; l < LANES; l++)
		if (!j[l].len && !j[l].otk)
			return false;
	return true;
}

/* Give every idle lane the next job with work; returns the busy lanes. */
static unsigned lanes_refill(struct lanes *L, const struct chacha20_job *jobs, unsigned n,
			     unsigned *next, unsigned busy)
{
	if (!busy && n - *next >= LANES && jobs_useful(jobs + *next)) {
		lanes_load8(L, jobs + *next);
		*next += LANES;
		return LANES;
	}
	for (int l = 0; l < LANES && *next < n; l++) {
		if (L->lane[l].busy)
			continue;
		*next = next_job(jobs, n, *next);
		if (*next < n) {
			lane_load(L, l, &jobs[(*next)++]);
			busy++;
		}
	}
	return busy;
}

void chacha20_avx2_jobs(const struct chacha20_job *jobs, unsigned n)
{
	struct lanes L;
	unsigned next = 0, busy = 0;
	uint32_t k;

	memzero_explicit(&L, sizeof(L)); /* a call: an inlined rep stos is slow to start */
	while ((busy = lanes_refill(&L, jobs, n, &next, busy))) {
		k = lanes_full_blocks(&L);
		if (k) {
			lanes_full(&L, k);
		} else {
			lanes_step(&L);
			for (int l = 0; l < LANES; l++)
				if (L.lane[l].busy)
					lane_consume(&L.lane[l], L.ks[l]);
		}
		/* free the lanes whose job is done; lanes_refill() reuses them */
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
 * The within-message wide path (aead_wide.h): one message, one key, and
 * the eight lanes hold eight consecutive block counters, so a step makes
 * 512 contiguous bytes of keystream. Rows 4..11 and 13..15 are the same in
 * every lane; row 12 is block + lane and steps by 8.
 */
static void wide_load(struct lanes *L, const uint8_t key[32], uint64_t counter, uint32_t block)
{
	uint32_t k[8];

	memcpy(k, key, 32); /* little-endian host: words are le32 */
	for (int i = 0; i < 8; i++)
		_mm256_store_si256((__m256i *)L->st[4 + i], _mm256_set1_epi32((int)k[i]));
	_mm256_store_si256((__m256i *)L->st[12],
			   _mm256_add_epi32(_mm256_set1_epi32((int)block),
					    _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)));
	_mm256_store_si256((__m256i *)L->st[13], _mm256_setzero_si256());
	_mm256_store_si256((__m256i *)L->st[14], _mm256_set1_epi32((int)(uint32_t)counter));
	_mm256_store_si256((__m256i *)L->st[15], _mm256_set1_epi32((int)(uint32_t)(counter >> 32)));
	memzero_explicit(k, sizeof(k));
}

void chacha20_avx2_first8(uint8_t ks[512], const uint8_t key[32], uint64_t counter)
{
	struct lanes L;
	uint8_t *const out[LANES] = { ks, ks + 64, ks + 128, ks + 192,
				      ks + 256, ks + 320, ks + 384, ks + 448 };

	wide_load(&L, key, counter, 0);
	lanes_block(&L, out, NULL, 8);
	memzero_explicit(L.st, sizeof(L.st));
}

static inline void xor_bytes(uint8_t *dst, const uint8_t *src, const uint8_t *ks, size_t n)
{
	size_t i = 0;

	for (; i + 32 <= n; i += 32)
		_mm256_storeu_si256((__m256i *)(dst + i),
				    _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(src + i)),
						     _mm256_loadu_si256((const __m256i *)(ks + i))));
	for (; i < n; i++)
		dst[i] = src[i] ^ ks[i];
}

void chacha20_avx2_xor(uint8_t *dst, const uint8_t *src, size_t n, const uint8_t *ks)
{
	xor_bytes(dst, src, ks, n);
}

/*
 * Short keystreams in the row layout: one ymm per state row, block b in
 * the low 128 bits and b + 1 in the high, the diagonal round by rotating
 * rows 1..3 within each half. One such two-block state is one long chain
 * of dependent operations (latency-bound, about half the per-block speed of
 * the eight-lane step), so up to three states run side by side: six blocks
 * cost about what two do. A message's last few blocks and whole short
 * messages then do not pay for eight blocks.
 */
static inline __attribute__((always_inline)) void
rows(uint8_t *out, int n, __m256i a0, __m256i b0, __m256i c0, __m256i d0)
{
	const __m256i two = _mm256_setr_epi32(2, 0, 0, 0, 2, 0, 0, 0);
	__m256i a[3], b[3], c[3], d[3], dn[3];

	for (int s = 0; s < n; s++) {
		dn[s] = s ? _mm256_add_epi32(dn[s - 1], two) : d0;
		a[s] = a0;
		b[s] = b0;
		c[s] = c0;
		d[s] = dn[s];
	}
	for (int i = 0; i < 10; i++) {
		for (int s = 0; s < n; s++) {
			QR(a[s], b[s], c[s], d[s]);
			b[s] = _mm256_shuffle_epi32(b[s], _MM_SHUFFLE(0, 3, 2, 1));
			c[s] = _mm256_shuffle_epi32(c[s], _MM_SHUFFLE(1, 0, 3, 2));
			d[s] = _mm256_shuffle_epi32(d[s], _MM_SHUFFLE(2, 1, 0, 3));
		}
		for (int s = 0; s < n; s++) {
			QR(a[s], b[s], c[s], d[s]);
			b[s] = _mm256_shuffle_epi32(b[s], _MM_SHUFFLE(2, 1, 0, 3));
			c[s] = _mm256_shuffle_epi32(c[s], _MM_SHUFFLE(1, 0, 3, 2));
			d[s] = _mm256_shuffle_epi32(d[s], _MM_SHUFFLE(0, 3, 2, 1));
		}
	}
	for (int s = 0; s < n; s++) {
		uint8_t *o = out + 128 * s;
		__m256i x = _mm256_add_epi32(a[s], a0), y = _mm256_add_epi32(b[s], b0);
		__m256i z = _mm256_add_epi32(c[s], c0), w = _mm256_add_epi32(d[s], dn[s]);

		_mm256_storeu_si256((__m256i *)o, _mm256_permute2x128_si256(x, y, 0x20));
		_mm256_storeu_si256((__m256i *)(o + 32), _mm256_permute2x128_si256(z, w, 0x20));
		_mm256_storeu_si256((__m256i *)(o + 64), _mm256_permute2x128_si256(x, y, 0x31));
		_mm256_storeu_si256((__m256i *)(o + 96), _mm256_permute2x128_si256(z, w, 0x31));
	}
}

void chacha20_avx2_blocks(uint8_t *ks, unsigned nblocks, const uint8_t key[32], uint64_t counter,
			  uint32_t block)
{
	const __m256i a = _mm256_setr_epi32(CHACHA20_C0, CHACHA20_C1, CHACHA20_C2, CHACHA20_C3,
					    CHACHA20_C0, CHACHA20_C1, CHACHA20_C2, CHACHA20_C3);
	__m256i b = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)key));
	__m256i c = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(key + 16)));
	__m256i d = _mm256_setr_epi32(0, 0, (int)(uint32_t)counter, (int)(uint32_t)(counter >> 32),
				      1, 0, (int)(uint32_t)counter, (int)(uint32_t)(counter >> 32));

	d = _mm256_add_epi32(d, _mm256_setr_epi32((int)block, 0, 0, 0, (int)block, 0, 0, 0));
	while (nblocks) {
		/* constant state counts, so each call of rows() is unrolled */
		int n = nblocks > 4 ? 3 : nblocks > 2 ? 2 : 1;

		if (n == 3)
			rows(ks, 3, a, b, c, d);
		else if (n == 2)
			rows(ks, 2, a, b, c, d);
		else
			rows(ks, 1, a, b, c, d);
		d = _mm256_add_epi32(d, _mm256_setr_epi32(2 * n, 0, 0, 0, 2 * n, 0, 0, 0));
		ks += 128 * n;
		nblocks -= nblocks < 2u * n ? nblocks : 2u * n;
	}
	/* b, c, d hold the key and counter: registers only, nothing to wipe
	 * here; spills are scrubbed by the caller's aead_stack_scrub() */
}

void chacha20_avx2_xor8(uint8_t *dst, const uint8_t *src, size_t len, const uint8_t key[32],
			uint64_t counter, uint32_t block)
{
	struct lanes L;

	wide_load(&L, key, counter, block);
	for (; len >= 8 * 64; len -= 8 * 64, src += 8 * 64, dst += 8 * 64) {
		uint8_t *const out[LANES] = { dst, dst + 64, dst + 128, dst + 192,
					      dst + 256, dst + 320, dst + 384, dst + 448 };
		const uint8_t *const in[LANES] = { src, src + 64, src + 128, src + 192,
						   src + 256, src + 320, src + 384, src + 448 };

		lanes_block(&L, out, in, 8);
	}
	if (len > WIDE_TAIL_MAX * 64) {
		uint8_t *const out[LANES] = { L.ks[0], L.ks[1], L.ks[2], L.ks[3],
					      L.ks[4], L.ks[5], L.ks[6], L.ks[7] };

		lanes_block(&L, out, NULL, 8);
		xor_bytes(dst, src, L.ks[0], len); /* ks rows are contiguous */
		memzero_explicit(L.ks, sizeof(L.ks));
	} else if (len) {
		/* the block counter of this step is block + 8 * steps taken */
		chacha20_avx2_blocks(L.ks[0], (unsigned)((len + 63) / 64), key, counter,
				     (uint32_t)L.st[12][0]);
		xor_bytes(dst, src, L.ks[0], len);
		memzero_explicit(L.ks, sizeof(L.ks));
	}
	memzero_explicit(L.st, sizeof(L.st));
}
