// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead.c - the one place where the AEAD backend is chosen (STYLE: ISA
 * variants chosen once, at startup). The data path calls through a copy of
 * the chosen backend's function pointers; nothing changes after init.
 */
#include <errno.h>
#include <string.h>

#include "aead.h"
#include "aead_backend.h"
#include "mg.h"
#include "mg_config.h"

/* Best first: "auto" takes the first one whose setup succeeds. */
static const struct aead_backend *const backends[] = {
	&aead_avx512_backend,
	&aead_avx2_backend,
	&aead_ipsecmb_backend,
	&aead_generic_backend,
	&aead_sodium_backend,
};

const char *const aead_backend_names[] = {
	"avx512", "avx2", "ipsecmb", "generic", "sodium", NULL,
};

/* Written by aead_init() before workers start; read-only afterwards. */
static struct aead_backend active = {
	.name = "none",
};

unsigned aead_cpu_features(void)
{
	unsigned f = 0;

	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		f |= AEAD_CPU_AVX2;
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
		f |= AEAD_CPU_AVX512F;
	if ((f & AEAD_CPU_AVX512F) && __builtin_cpu_supports("avx512ifma"))
		f |= AEAD_CPU_AVX512IFMA;
#ifdef MG_SIMD_EMULATED
	/* the test build whose AVX-512 engines are SIMDe code: every CPU
	 * "has" both of their variants */
	f |= AEAD_CPU_AVX512F | AEAD_CPU_AVX512IFMA;
#endif
	return f;
}

static int backend_try(const struct aead_backend *b, unsigned features)
{
	int ret;

	if (!b->seal || (b->needs & ~features))
		return -ENOTSUP;
	if (b->setup) {
		ret = b->setup(features);
		if (ret)
			return ret;
	}
	active = *b;
	return 0;
}

int aead_init_features(const char *backend, unsigned mask)
{
	unsigned features = mask & aead_cpu_features();
	bool any = !backend || !strcmp(backend, "auto");

	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		if (any) {
			if (!backend_try(backends[i], features))
				return 0;
		} else if (!strcmp(backend, backends[i]->name)) {
			return backend_try(backends[i], features);
		}
	}
	return any ? -ENOTSUP : -EINVAL;
}

int aead_init(const char *backend)
{
	return aead_init_features(backend, ~0u);
}

const char *aead_strerror(const char *backend, int err)
{
	unsigned have = aead_cpu_features();

	if (err == -EINVAL)
		return "not a crypto backend (auto, avx512, avx2, ipsecmb, generic, sodium)";
	if (err != -ENOTSUP)
		return strerror(-err);
	if (!backend || !strcmp(backend, "auto"))
		return "no crypto backend can run here";
	if (!strcmp(backend, "avx512"))
		return (have & AEAD_CPU_AVX512F) ? strerror(ENOTSUP) :
			"this CPU lacks AVX-512 (F, VL, BW, DQ); use avx2 or auto";
	if (!strcmp(backend, "avx2"))
		return "this CPU lacks AVX2; use generic, sodium or auto";
	if (!strcmp(backend, "ipsecmb"))
		return "meshgate was built without Intel ipsec-mb (libipsec-mb-dev)";
	return strerror(ENOTSUP);
}

const char *aead_backend_name(void)
{
	return active.name;
}

void aead_seal_burst(struct aead_op *ops, unsigned n)
{
	active.seal(ops, n);
}

uint64_t aead_open_burst(struct aead_op *ops, unsigned n)
{
	return active.open(ops, n);
}
