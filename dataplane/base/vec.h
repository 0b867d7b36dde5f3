/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * vec.h - the growable array every table builder here needs: a malloc'd array with a length and
 * a capacity that doubles (16 first), so appending n elements costs O(n) copies in all.
 */
#ifndef MG_VEC_H
#define MG_VEC_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Makes room for element @n of @*v (@elem bytes each, @*cap allocated): 0 or -ENOMEM, when @*v
 * and @*cap are unchanged. */
static inline int mg_vec_grow(void **v, size_t *cap, size_t n, size_t elem)
{
	size_t ncap = *cap ? *cap * 2 : 16;
	void *nv;

	if (n < *cap)
		return 0;
	if (ncap > SIZE_MAX / elem)
		return -ENOMEM;
	nv = realloc(*v, ncap * elem);
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

#endif
