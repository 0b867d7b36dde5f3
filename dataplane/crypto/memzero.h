/* SPDX-License-Identifier: GPL-2.0-only */
/* memzero.h - wipe secrets so the compiler cannot drop the stores. */
#ifndef MG_CRYPTO_MEMZERO_H
#define MG_CRYPTO_MEMZERO_H

#include <stddef.h>
#include <string.h>

/*
 * Like the kernel's memzero_explicit(): a plain memset, which the compiler
 * inlines for small constant sizes (explicit_bzero() is always a call),
 * followed by a barrier that makes the buffer "used", so the stores are
 * not eliminated as dead.
 */
static inline void memzero_explicit(void *p, size_t n)
{
	if (__builtin_constant_p(n) && n < 256) {
		memset(p, 0, n);
		__asm__ volatile("" : : "r"(p) : "memory");
		return;
	}
	/* Larger: gcc inlines a constant-size memset as rep stos, and glibc's
	 * memset uses rep stosb from 2 KiB; both take hundreds of cycles to
	 * start on the AMD build machine. glibc's explicit_bzero() cannot be
	 * elided and, called for at most 1 KiB, runs its vector loop. */
	for (size_t off = 0; off < n; off += 1024)
		explicit_bzero((char *)p + off, n - off < 1024 ? n - off : 1024);
}

#endif
