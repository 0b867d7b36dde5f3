// SPDX-License-Identifier: GPL-2.0-only
/*
 * derp_homing.c - the DERP client's home region in practice: derp_home_rule.c's choice applied
 * to the connections (NotePreferred(0) to the old home, (1) to the new), and the fail-over watch
 * on the home connection. derp_home() is what hsglue publishes as PreferredDERP. Control thread
 * only.
 */
#include <stdio.h>
#include "derp_homing.h"

bool derp_region_may_be_home(const struct derp_region *r)
{
	for (size_t i = 0; i < r->n_nodes; i++)
		if (!r->nodes[i].stun_only)
			return !r->no_home;
	return false;
}

/*
 * The home is "down" once it has not been READY for DERP_FAILOVER_NS with at least one failed
 * attempt, and not while a Restarting frame's try-for time runs. Peers cannot reach us through
 * a dead home at all, so waiting longer than a few reconnects only stretches the outage; a
 * restarting server that says so is given the time it asked for.
 */
void derp_homing_watch(struct derp_conn *c, uint64_t now)
{
	if (c->state == ST_READY) {
		c->unready_since = 0;
		return;
	}
	if (!c->unready_since)
		c->unready_since = now;
	if (c->down || !c->fails || now - c->unready_since < DERP_FAILOVER_NS || now < c->grace_until)
		return;
	c->down = true;
	fprintf(stderr, "meshgate: derp: home region %d unreachable for %llu ms (%u failed attempts)\n",
		c->region.id, (unsigned long long)((now - c->unready_since) / 1000000), c->fails);
}

static void note_preferred(struct derp_conn *c, bool home)
{
	uint8_t np[DERP_HDR_LEN + 1];

	if (c && c->state == ST_READY) {
		derp_conn_put(c, np, (size_t)derp_build_note_preferred(np, home));
		derp_conn_set_events(c);
	}
}

/* Moves home: NotePreferred(0) to the old server (tailscaled tells every live connection), (1)
 * to the new one now or on connect. The old region is then an on-demand one, closed when idle. */
static void home_set(struct derp *d, int home, uint64_t now)
{
	struct derp_conn *o = derp_conn_find(d, d->home), *c = derp_conn_find(d, home);

	uint64_t lat = c ? derp_lat_current(&c->lat, now) : 0;

	fprintf(stderr, "meshgate: derp: home region %d -> %d (%s; latency %.1f ms, before %.1f ms)\n",
		d->home, home, o && o->down ? "old home unreachable" : lat ? "STUN latency" : "no STUN answer: lowest id",
		lat / 1e6, o ? derp_lat_current(&o->lat, now) / 1e6 : 0.0);
	note_preferred(o, false);
	if (o)
		o->last_used = now;
	if (c) {
		c->unready_since = 0;
		c->wanted = true;
		note_preferred(c, true);
	}
	d->home = home;
	d->home_changes++;
}

void derp_homing_update(struct derp *d, uint64_t now)
{
	struct derp_home_cand cand[DERP_REGIONS_MAX] = { 0 };
	bool any = false;
	int home;

	for (size_t i = 0; i < d->n; i++) {
		const struct derp_conn *c = d->conns[i];

		cand[i] = (struct derp_home_cand){
			.id = c->region.id, .eligible = derp_region_may_be_home(&c->region), .down = c->down,
			.best_ns = derp_lat_best(&c->lat, now), .cur_ns = derp_lat_current(&c->lat, now),
		};
		any |= cand[i].eligible;
	}
	home = derp_home_pick(cand, d->n, d->home);
	if (!home && any)
		return;                  /* every candidate is down: keep trying the one we have */
	if (home != d->home)
		home_set(d, home, now);
}
