// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead.c - the one place where the AEAD backend is chosen (STYLE: ISA
 * variants chosen once, at startup). The data path calls through a copy of
 * the chosen backend's function pointers; nothing changes after init.
 *
 * Crypto = auto sets up every backend the CPU and build allow, times them
 * on every burst shape (aead_auto.c) and then sends each burst to the
 * fastest for its shape: a table lookup by burst size and mean length.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aead.h"
#include "aead_auto.h"
#include "aead_backend.h"
#include "mg.h"
#include "mg_config.h"

/* Every backend; "auto" times those that can run (generic only when
 * nothing else can) and keeps the fastest per burst shape. */
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

/* Crypto = auto: the candidates (set up) and the fastest per shape.
 * Written by aead_init() before workers start; read-only afterwards. */
static struct {
	struct aead_backend cand[ARRAY_SIZE(backends)];
	unsigned ncand;
	uint8_t choice[AEAD_BURST_CLASSES][AEAD_SIZE_CLASSES];
	bool on;             /* auto is the active backend */
	int features;        /* what the table was calibrated with; -1: none */
} autosel = { .features = -1 };

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

static const struct aead_backend *auto_pick(const struct aead_op *ops, unsigned n)
{
	uint64_t bytes = 0;

	for (unsigned i = 0; i < n; i++)
		bytes += ops[i].len;
	return &autosel.cand[autosel.choice[aead_burst_class(n)][aead_size_class(
		n ? (uint32_t)(bytes / n) : 0)]];
}

static void auto_seal(struct aead_op *ops, unsigned n)
{
	auto_pick(ops, n)->seal(ops, n);
}

static uint64_t auto_open(struct aead_op *ops, unsigned n)
{
	return auto_pick(ops, n)->open(ops, n);
}

/* One line for the operator: the choice per shape, bursts 1/2/3-15/16-64. */
static void auto_log(double ms)
{
	fprintf(stderr, "meshgate: crypto auto (calibrated in %.0f ms; bursts 1/2/3-15/16-64):", ms);
	for (unsigned s = 0; s < AEAD_SIZE_CLASSES; s++) {
		fprintf(stderr, " %uB", aead_auto_size[s]);
		for (unsigned b = 0; b < AEAD_BURST_CLASSES; b++)
			fprintf(stderr, "%c%s", b ? '/' : '=',
				autosel.cand[autosel.choice[b][s]].name);
	}
	fputc('\n', stderr);
}

/*
 * Every backend that can run with these features becomes a candidate
 * (generic only when nothing else can run: libsodium is the same portable
 * algorithm, tuned), then the calibration fills the table.
 */
static int auto_init(unsigned features)
{
	struct aead_backend got[ARRAY_SIZE(backends)];
	unsigned n = 0;
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
		if (backends[i] == &aead_generic_backend)
			continue;
		if (!backend_try(backends[i], features))
			got[n++] = active;
	}
	if (!n)
		return backend_try(&aead_generic_backend, features);
	/* a second aead_init("auto") with the same features (benchmarks that
	 * switch backends) keeps the first calibration: setups are redone
	 * above, the table stays */
	if (autosel.features != (int)features || autosel.ncand != n) {
		memcpy(autosel.cand, got, sizeof(got));
		autosel.ncand = n;
		struct timespec t0, t1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		ret = aead_auto_calibrate(autosel.cand, n, autosel.choice);
		if (ret)
			return ret;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		autosel.features = (int)features;
		auto_log((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	}
	active = (struct aead_backend){ .name = "auto", .seal = auto_seal, .open = auto_open };
	autosel.on = true;
	return 0;
}

int aead_init_features(const char *backend, unsigned mask)
{
	unsigned features = mask & aead_cpu_features();

	autosel.on = false;
	if (!backend || !strcmp(backend, "auto"))
		return auto_init(features);
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (!strcmp(backend, backends[i]->name))
			return backend_try(backends[i], features);
	return -EINVAL;
}

const char *aead_auto_choice_burst(unsigned size_class, unsigned burst_class)
{
	if (size_class >= AEAD_SIZE_CLASSES || burst_class >= AEAD_BURST_CLASSES)
		return NULL;
	if (!autosel.on)
		return active.name;
	return autosel.cand[autosel.choice[burst_class][size_class]].name;
}

const char *aead_auto_choice(unsigned size_class)
{
	return aead_auto_choice_burst(size_class, AEAD_BURST_CLASSES - 1);
}

unsigned aead_size_class_bytes(unsigned size_class)
{
	return size_class < AEAD_SIZE_CLASSES ? aead_auto_size[size_class] : 0;
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
