// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_pending.c - backends not built yet: they exist by name so that
 * aead_init() answers -ENOTSUP for them instead of -EINVAL.
 */
#include "aead_backend.h"

const struct aead_backend aead_avx512_backend = { .name = "avx512" };
