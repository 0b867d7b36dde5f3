// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_pending.c - backends named in aead.h but not built: aead_init()
 * answers -ENOTSUP for them instead of -EINVAL, as for a CPU without them.
 *
 * avx512: ChaCha20 over 16 lanes and Poly1305 with IFMA would follow the
 * avx2 engine (chacha20_lanes.h, poly1305_lanes.h, aead_lanes.c), but no
 * machine with AVX-512 was at hand to run the differential tests on, and
 * an engine is not shipped untested.
 */
#include "aead_backend.h"

const struct aead_backend aead_avx512_backend = { .name = "avx512" };
