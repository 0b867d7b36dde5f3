// SPDX-License-Identifier: GPL-2.0-only
/*
 * aead_pending.c - backends named in aead.h but not built: aead_init()
 * answers -ENOTSUP for them instead of -EINVAL, as for a CPU without them.
 *
 * avx512: ChaCha20 over 16 lanes and Poly1305 with IFMA would follow the
 * avx2 engine (chacha20_lanes.h, poly1305_lanes.h, aead_lanes.c), but no
 * machine with AVX-512 was at hand to run the differential tests on, and
 * an engine is not shipped untested. Checked 2026-11-25 on the AMD EPYC
 * build machine (no AVX-512 in /proc/cpuinfo): Debian 12's qemu-user 7.2
 * lists AVX-512 CPU models (-cpu max, Icelake-Server) but its TCG raises
 * SIGILL on the first EVEX instruction (vpbroadcastd/vpaddd on zmm), so
 * there is no way to run AVX-512 code here. aead_init("avx512") answers
 * -ENOTSUP and aead_strerror() says which features are missing.
 */
#include "aead_backend.h"

const struct aead_backend aead_avx512_backend = { .name = "avx512" };
