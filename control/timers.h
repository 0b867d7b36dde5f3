/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * timers.h - the WireGuard timers, scanned per peer from the control tick (timers.c).
 */
#ifndef MG_TIMERS_H
#define MG_TIMERS_H

#include <stdint.h>

struct mg_ctl;

void timers_tick(struct mg_ctl *dev, uint64_t now);

#endif
