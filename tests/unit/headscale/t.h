/* SPDX-License-Identifier: GPL-2.0-only */
/* t.h - assertion helpers for the headscale unit tests. */
#ifndef HS_TEST_T_H
#define HS_TEST_T_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_failures, t_checks;

#define CHECK(cond) do {                                                  \
		++t_checks;                                               \
		if (!(cond)) {                                            \
			++t_failures;                                     \
			fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__,    \
				__LINE__, #cond);                         \
		}                                                         \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

static inline void t_unhex(uint8_t *out, const char *hex, size_t n)
{
	size_t i;
	unsigned int v;

	for (i = 0; i < n; ++i) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (uint8_t)v;
	}
}

static inline int t_done(const char *name)
{
	printf("%s: %d checks, %d failures\n", name, t_checks, t_failures);
	return t_failures ? 1 : 0;
}

#endif
