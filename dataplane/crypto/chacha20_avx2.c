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
#include "chacha20_lanes.h"

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

/* Rows x[0..7] (word-major) to lanes: out[l] = words 0..7 of lane l. */
static inline void transpose8(__m256i x[8], uint8_t ks[LANES][64], int half)
{
	__m256i t[8], u[8];

	for (int i = 0; i < 4; i++) {
		t[2 * i] = _mm256_unpacklo_epi32(x[2 * i], x[2 * i + 1]);
		t[2 * i + 1] = _mm256_unpackhi_epi32(x[2 * i], x[2 * i + 1]);
	}
	for (int i = 0; i < 2; i++) {
		u[4 * i + 0] = _mm256_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
		u[4 * i + 1] = _mm256_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
		u[4 * i + 2] = _mm256_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
		u[4 * i + 3] = _mm256_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
	}
	for (int l = 0; l < 4; l++) {
		_mm256_store_si256((__m256i *)(ks[l] + 32 * half),
				   _mm256_permute2x128_si256(u[l], u[l + 4], 0x20));
		_mm256_store_si256((__m256i *)(ks[l + 4] + 32 * half),
				   _mm256_permute2x128_si256(u[l], u[l + 4], 0x31));
	}
}

/* One keystream block for every lane into L->ks; advances the counters. */
static void lanes_block(struct lanes *L)
{
	__m256i x[16], in[16];

	in[0] = _mm256_set1_epi32(CHACHA20_C0);
	in[1] = _mm256_set1_epi32(CHACHA20_C1);
	in[2] = _mm256_set1_epi32(CHACHA20_C2);
	in[3] = _mm256_set1_epi32(CHACHA20_C3);
	for (int i = 4; i < 16; i++)
		in[i] = _mm256_load_si256((const __m256i *)L->st[i]);
	for (int i = 0; i < 16; i++)
		x[i] = in[i];
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
		x[i] = _mm256_add_epi32(x[i], in[i]);
	transpose8(x, L->ks, 0);
	transpose8(x + 8, L->ks, 1);
	_mm256_store_si256((__m256i *)L->st[12],
			   _mm256_add_epi32(in[12], _mm256_set1_epi32(1)));
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
	explicit_bzero(k, sizeof(k));
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

/* Consume this step's keystream block of lane l; true when the job is done. */
static inline bool lane_step(struct lane *ln, const uint8_t *ks)
{
	uint32_t n;

	if (ln->otk) {
		memcpy(ln->otk, ks, 32);
		ln->otk = NULL;
		return ln->left == 0;
	}
	n = ln->left < 64 ? ln->left : 64;
	xor_block(ln->dst, ln->src, ks, n);
	ln->src += n;
	ln->dst += n;
	ln->left -= n;
	return ln->left == 0;
}

void chacha20_avx2_jobs(const struct chacha20_job *jobs, unsigned n)
{
	struct lanes L;
	unsigned next = 0, busy = 0;

	memset(&L, 0, sizeof(L));
	for (int l = 0; l < LANES; l++) {
		/* jobs with nothing to do (no otk, no data) never take a lane */
		while (next < n && !jobs[next].len && !jobs[next].otk)
			next++;
		if (next < n) {
			lane_load(&L, l, &jobs[next++]);
			busy++;
		}
	}
	while (busy) {
		lanes_block(&L);
		for (int l = 0; l < LANES; l++) {
			struct lane *ln = &L.lane[l];

			if (!ln->busy || !lane_step(ln, L.ks[l]))
				continue;
			ln->busy = false;
			busy--;
			while (next < n && !jobs[next].len && !jobs[next].otk)
				next++;
			if (next < n) {
				lane_load(&L, l, &jobs[next++]);
				busy++;
			}
		}
	}
	explicit_bzero(&L, sizeof(L));
}
