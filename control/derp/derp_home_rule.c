// SPDX-License-Identifier: GPL-2.0-only
/*
 * derp_home_rule.c - the home-region rule (see derp_home_rule.h). Pure functions of their arguments.
 */
#include "derp_home_rule.h"

void derp_lat_add(struct derp_lat *l, uint64_t rtt_ns, uint64_t now)
{
	unsigned i = l->next++ % DERP_LAT_SAMPLES;

	l->at[i] = now ? now : 1;        /* at 0 marks an empty slot */
	l->rtt[i] = rtt_ns ? rtt_ns : 1; /* a round trip below the clock's grain still counts */
}

uint64_t derp_lat_best(const struct derp_lat *l, uint64_t now)
{
	uint64_t best = 0;

	for (unsigned i = 0; i < DERP_LAT_SAMPLES; i++)
		if (l->at[i] && now - l->at[i] <= DERP_LAT_MAX_AGE_NS && (!best || l->rtt[i] < best))
			best = l->rtt[i];
	return best;
}

uint64_t derp_lat_current(const struct derp_lat *l, uint64_t now)
{
	unsigned i = (l->next + DERP_LAT_SAMPLES - 1) % DERP_LAT_SAMPLES;

	if (!l->next || !l->at[i] || now - l->at[i] > DERP_LAT_FRESH_NS)
		return 0;
	return l->rtt[i];
}

static bool counts(const struct derp_home_cand *c)
{
	return c->eligible && !c->down;
}

int derp_home_pick(const struct derp_home_cand *c, size_t n, int cur)
{
	const struct derp_home_cand *best = NULL, *old = NULL, *lowest = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!counts(&c[i]))
			continue;
		if (c[i].id == cur)
			old = &c[i];
		if (!lowest || c[i].id < lowest->id)
			lowest = &c[i];
		if (!c[i].cur_ns || !c[i].best_ns)
			continue;
		if (!best || c[i].best_ns < best->best_ns ||
		    (c[i].best_ns == best->best_ns && c[i].id < best->id))
			best = &c[i];
	}
	if (!best)
		return old ? old->id : lowest ? lowest->id : 0;
	/* Hysteresis: the new region must beat the old one's current round trip by a third. */
	if (old && old != best && old->cur_ns && best->best_ns > old->cur_ns / 3 * 2)
		return old->id;
	return best->id;
}
