/* SPDX-License-Identifier: GPL-2.0-only */
/* fuzz_smoke.h - what a target gives tests/unit/fuzz_smoke.c: its name and its seeds in hex. */
#ifndef MG_FUZZ_SMOKE_H
#define MG_FUZZ_SMOKE_H

#include <stddef.h>

extern const char fuzz_smoke_name[];
extern const char *const fuzz_smoke_seeds[];
extern const size_t fuzz_smoke_nseeds;

#endif
