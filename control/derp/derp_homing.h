/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_homing.h - the home region in practice (derp_homing.c): derp_home_rule.h's choice applied
 * to the connections, with NotePreferred and the fail-over watch. Above derp_conn.h; derp.c
 * calls it from the tick, on a new map and on each STUN answer.
 */
#ifndef MG_DERP_HOMING_H
#define MG_DERP_HOMING_H

#include <stdbool.h>
#include <stdint.h>
#include "derp_conn.h"

bool derp_region_may_be_home(const struct derp_region *r);
/* The home connection, from every tick: marks it down after DERP_FAILOVER_NS (see there). */
void derp_homing_watch(struct derp_conn *c, uint64_t now);
/* Applies derp_home_pick to the regions; a change is announced with NotePreferred. */
void derp_homing_update(struct derp *d, uint64_t now);

#endif
