/* SPDX-License-Identifier: GPL-2.0-only */
/* aead_test.h - helpers shared by the AEAD tests: failure reporting, hex,
 * a libsodium reference, and a loop over (backend, CPU feature subset). */
#ifndef MG_TEST_AEAD_H
#define MG_TEST_AEAD_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "aead.h"
#include "mg.h"

static int test_failures;
static unsigned long test_checks;

#define CHECK(cond, ...) do {						\
	test_checks++;							\
	if (!(cond)) {							\
		test_failures++;					\
		fprintf(stderr, "FAIL %s:%d [%s]: ", __FILE__, __LINE__,	\
			aead_backend_name());				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		if (test_failures > 20)					\
			exit(1);					\
	}								\
} while (0)

static inline size_t hex_decode(uint8_t *out, const char *hex)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		while (*hex == ' ' || *hex == '\n')
			hex++;
		if (sscanf(hex, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
	}
	return n;
}

/* The reference: libsodium called directly, not through the dispatcher. */
static inline void ref_seal(uint8_t *ct, const uint8_t *pt, uint32_t len,
			    const uint8_t key[32], uint64_t counter)
{
	uint8_t nonce[12] = { 0 };

	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(ct, ct + len, NULL, pt, len,
							   NULL, 0, NULL, nonce, key);
}

/* xorshift64*: deterministic test data, seedable from the command line. */
static inline uint64_t test_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static inline void test_fill(uint8_t *p, size_t n, uint64_t *s)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(test_rand(s) >> 56);
}

/*
 * Run fn once for every backend and every subset of the CPU features this
 * machine has. A backend that reports -ENOTSUP for a subset is skipped for
 * that subset only; sodium and generic must always be available.
 */
/* --backend NAME: run that backend only; exit 77 (a counted skip) when it
 * cannot run on this CPU or build, saying why. */
static const char *test_only;

static inline int test_args(int argc, char **argv)
{
	int i = 1;

	if (argc > 2 && !strcmp(argv[1], "--backend")) {
		test_only = argv[2];
		i = 3;
		int ret = aead_init(test_only);

		if (ret == -ENOTSUP) {
			printf("SKIP: %s backend%s: %s\n", test_only,
#ifdef MG_SIMD_EMULATED
			       " (emulated build)",
#else
			       " (native build)",
#endif
			       aead_strerror(test_only, ret));
			exit(77);
		}
	}
	return i;
}

static inline int for_each_backend(void (*fn)(void))
{
	unsigned all = aead_cpu_features();
	int runs = 0;

	for (const char *const *name = aead_backend_names; *name; name++) {
		if (test_only && strcmp(*name, test_only))
			continue;
		for (unsigned mask = 0; mask <= all; mask++) {
			if (mask & ~all)
				continue;
			int ret = aead_init_features(*name, mask);

			if (ret == -ENOTSUP) {
				CHECK(strcmp(*name, "sodium") && strcmp(*name, "generic"),
				      "%s must always be available", *name);
				continue;
			}
			CHECK(ret == 0, "init %s mask %#x: %d", *name, mask, ret);
			if (ret)
				continue;
			printf("# backend %s, cpu features %#x\n", *name, mask);
			fn();
			runs++;
		}
	}
	return runs;
}

static inline int test_exit(const char *name)
{
	if (test_failures) {
		printf("%s: %d failures in %lu checks\n", name, test_failures, test_checks);
		return 1;
	}
	printf("%s: ok, %lu checks\n", name, test_checks);
	return 0;
}

#endif
