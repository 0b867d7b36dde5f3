// SPDX-License-Identifier: GPL-2.0-only
/* aead_scrub.c - aead_stack_scrub() (aead_scrub.h). */
#include <stdint.h>

#include "aead_scrub.h"
#include "memzero.h"

void __attribute__((noinline)) aead_stack_scrub(size_t n)
{
	uint8_t area[AEAD_SCRUB_MAX] __attribute__((aligned(32)));

	/* the top of area lies right below the caller's frame */
	if (n > sizeof(area))
		n = sizeof(area);
	memzero_explicit(area + sizeof(area) - n, n);
	__asm__ volatile("" : : "r"(area) : "memory");
}
