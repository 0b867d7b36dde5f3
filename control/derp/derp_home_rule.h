/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_home_rule.h - which DERP region is home (NetInfo.PreferredDERP): per-region
 * STUN round trips and the choice with tailscaled's hysteresis, apart from any socket so the
 * rule is tested on tables. derp.c feeds it; derp_homing.c acts on the answer.
 */
#ifndef MG_DERP_HOME_RULE_H
#define MG_DERP_HOME_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DERP_LAT_SAMPLES    16                            /* > 5 min of rounds every 20-26 s */
#define DERP_LAT_MAX_AGE_NS (300ull * 1000000000ull)      /* netcheck's maxAge: best of 5 min */
/*
 * A sample counts as "current" (tailscaled: in this report) for two re-STUN rounds plus the STUN
 * timeout (2 * 26 s + 5 s, rounded up): one lost answer does not drop a region from the choice,
 * two in a row do.
 */
#define DERP_LAT_FRESH_NS   (60ull * 1000000000ull)

/* One region's STUN round trips: a small ring of (when, rtt). Zeroed = no sample. */
struct derp_lat {
	uint64_t at[DERP_LAT_SAMPLES];
	uint64_t rtt[DERP_LAT_SAMPLES];
	unsigned next;
};

void derp_lat_add(struct derp_lat *l, uint64_t rtt_ns, uint64_t now);
/* The lowest round trip of the last 5 minutes; 0 = none. */
uint64_t derp_lat_best(const struct derp_lat *l, uint64_t now);
/* The latest round trip if it is current (DERP_LAT_FRESH_NS); 0 = none. */
uint64_t derp_lat_current(const struct derp_lat *l, uint64_t now);

/* What the choice needs to know about one region. */
struct derp_home_cand {
	int id;
	bool eligible;                   /* has a DERP (not STUN-only) node, not NoMeasureNoHome */
	bool down;                       /* home that failed for the fail-over bound, not back yet */
	uint64_t best_ns;                /* derp_lat_best */
	uint64_t cur_ns;                 /* derp_lat_current */
};

/*
 * The home region given the current one (@cur, 0 = none). Only eligible regions that are not
 * down count. With no current STUN answer from any of them: keep @cur if it still counts, else
 * the lowest id (the rule before latencies, and the fail-over order without them). Otherwise the
 * region with the lowest 5-minute best among those answering now - a region without a current
 * answer is never preferred over one with - unless @cur answers now and the winner is not
 * clearly better: tailscaled keeps the old home while best > 2/3 of the old home's current round
 * trip (tailscale/tailscale net/netcheck/netcheck.go, addReportHistoryAndSetPreferredDERP).
 * Returns 0 when no region counts.
 */
int derp_home_pick(const struct derp_home_cand *c, size_t n, int cur);

#endif
