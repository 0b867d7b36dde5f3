/* SPDX-License-Identifier: GPL-2.0-only */
/* mg.h - small helpers every meshgate file may use. */
#ifndef MG_H
#define MG_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define MG_CACHELINE 64
#define __mg_aligned __attribute__((aligned(MG_CACHELINE)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

#define NSEC_PER_SEC 1000000000ULL
#define NSEC_PER_MSEC 1000000ULL

#endif
