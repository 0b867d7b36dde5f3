/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * simd_emulated.h - the AVX-512 intrinsics of the emulated test build:
 * force-included (-include) into dataplane/crypto's AVX-512 sources when
 * they are compiled a second time without -mavx512*, with
 * MG_SIMD_EMULATED defined. SIMDe (libsimde-dev) maps the intrinsics to
 * portable code; the few it lacks (SIMDe 0.7.4: IFMA, byte-masked loads
 * and stores, vpshufd on zmm) are spelled out here lane by lane, exactly
 * as the instruction reference defines them. Test build only.
 */
#ifndef MG_TEST_SIMD_EMULATED_H
#define MG_TEST_SIMD_EMULATED_H

#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
#include <stdint.h>
#include <string.h>

typedef simde__mmask8 __mmask8;
typedef simde__mmask64 __mmask64;

/* vpmadd52luq / vpmadd52huq: acc + bits 0..51 / 52..103 of the product of
 * the low 52 bits of a and b, per 64-bit lane */
static inline simde__m512i mg_emu_madd52(simde__m512i acc, simde__m512i a, simde__m512i b, int high)
{
	const uint64_t m52 = (1ull << 52) - 1;
	uint64_t x[8], y[8], z[8];

	simde_mm512_storeu_si512(x, a);
	simde_mm512_storeu_si512(y, b);
	simde_mm512_storeu_si512(z, acc);
	for (int i = 0; i < 8; i++) {
		unsigned __int128 p = (unsigned __int128)(x[i] & m52) * (y[i] & m52);

		z[i] += (uint64_t)(high ? p >> 52 : p) & m52;
	}
	return simde_mm512_loadu_si512(z);
}
#define _mm512_madd52lo_epu64(acc, a, b) mg_emu_madd52(acc, a, b, 0)
#define _mm512_madd52hi_epu64(acc, a, b) mg_emu_madd52(acc, a, b, 1)

/* vmovdqu8 with a mask: zero (load) or leave (store) the bytes outside k;
 * masked-off bytes are never touched in memory */
static inline simde__m512i mg_emu_maskz_loadu_epi8(uint64_t k, const void *p)
{
	uint8_t v[64] = { 0 };

	for (int i = 0; i < 64; i++)
		if (k >> i & 1)
			v[i] = ((const uint8_t *)p)[i];
	return simde_mm512_loadu_si512(v);
}

static inline void mg_emu_mask_storeu_epi8(void *p, uint64_t k, simde__m512i a)
{
	uint8_t v[64];

	simde_mm512_storeu_si512(v, a);
	for (int i = 0; i < 64; i++)
		if (k >> i & 1)
			((uint8_t *)p)[i] = v[i];
}
#define _mm512_maskz_loadu_epi8(k, p) mg_emu_maskz_loadu_epi8(k, p)
#define _mm512_mask_storeu_epi8(p, k, a) mg_emu_mask_storeu_epi8(p, k, a)

/* vpshufd on each 128-bit chunk */
static inline simde__m512i mg_emu_shuffle_epi32(simde__m512i a, int imm)
{
	uint32_t x[16], y[16];

	simde_mm512_storeu_si512(x, a);
	for (int i = 0; i < 16; i++)
		y[i] = x[(i & ~3) + ((imm >> (2 * (i & 3))) & 3)];
	return simde_mm512_loadu_si512(y);
}
#define _mm512_shuffle_epi32(a, imm) mg_emu_shuffle_epi32(a, imm)

#endif
