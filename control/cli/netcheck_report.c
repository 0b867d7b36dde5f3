// SPDX-License-Identifier: GPL-2.0-only
/*
 * netcheck_report.c - the conclusions of `meshgate netcheck` from its STUN answers and TCP connect
 * times (the rules are in netcheck_report.h).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "netcheck_report.h"

void nc_report_init(struct nc_report *r, const struct derp_region *regions, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->regions = regions;
	r->n_regions = n < NC_REGIONS_MAX ? n : NC_REGIONS_MAX;
	r->mapping_varies = -1;
}

static void keep_min(uint64_t *slot, uint64_t v)
{
	if (!v)
		v = 1;                       /* an answer within the clock's resolution still counts */
	if (!*slot || v < *slot)
		*slot = v;
}

/* IPv4 only, as the NAT question is about IPv4: each server once, compared with the others. */
static void note_mapping(struct nc_report *r, const struct mg_endpoint *server, const struct mg_endpoint *mapped)
{
	for (size_t i = 0; i < r->n_seen; i++) {
		if (!mg_endpoint_equal(&r->seen[i].server, server))
			continue;
		/* The same server again (a resend): a different answer means a new mapping. */
		if (!mg_endpoint_equal(&r->seen[i].mapped, mapped))
			r->mapping_varies = 1;
		return;
	}
	for (size_t i = 0; i < r->n_seen && r->mapping_varies != 1; i++)
		r->mapping_varies = !mg_endpoint_equal(&r->seen[i].mapped, mapped);
	if (r->n_seen < NC_SEEN_MAX) {
		r->seen[r->n_seen].server = *server;
		r->seen[r->n_seen++].mapped = *mapped;
	}
}

void nc_note_stun(struct nc_report *r, size_t ri, const struct mg_endpoint *server,
		  const struct mg_endpoint *mapped, uint64_t rtt_ns)
{
	if (ri >= r->n_regions)
		return;
	r->udp = true;
	if (server->family == AF_INET6) {
		keep_min(&r->res[ri].v6_ns, rtt_ns);
		if (!r->global_v6.family && mapped->family == AF_INET6)
			r->global_v6 = *mapped;
		return;
	}
	keep_min(&r->res[ri].v4_ns, rtt_ns);
	if (mapped->family != AF_INET)
		return;
	if (!r->global_v4.family)
		r->global_v4 = *mapped;
	note_mapping(r, server, mapped);
}

void nc_note_tcp(struct nc_report *r, size_t ri, uint64_t rtt_ns)
{
	if (ri < r->n_regions)
		keep_min(&r->res[ri].tcp_ns, rtt_ns);
}

uint64_t nc_latency(const struct nc_report *r, size_t ri, bool *by_tcp)
{
	const struct nc_region *g = &r->res[ri];
	uint64_t best = g->v4_ns;

	if (g->v6_ns && (!best || g->v6_ns < best))
		best = g->v6_ns;
	if (by_tcp)
		*by_tcp = !best && g->tcp_ns;
	return best ? best : g->tcp_ns;
}

void nc_report_finish(struct nc_report *r)
{
	uint64_t best = 0;

	r->preferred = 0;
	for (size_t i = 0; i < r->n_regions; i++) {
		bool tcp;
		uint64_t l = nc_latency(r, i, &tcp);

		/* The daemon homes by STUN; TCP times decide only when no STUN answer came at all. */
		if (!l || r->regions[i].no_home || (tcp && r->udp))
			continue;
		if (!best || l < best || (l == best && r->regions[i].id < r->preferred)) {
			best = l;
			r->preferred = r->regions[i].id;
		}
	}
}

static const struct nc_report *sort_report;   /* qsort has no context argument */

static int by_latency(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	uint64_t lx = nc_latency(sort_report, x, NULL), ly = nc_latency(sort_report, y, NULL);

	if (!lx != !ly)
		return lx ? -1 : 1;          /* measured first */
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return (sort_report->regions[x].id > sort_report->regions[y].id) -
	       (sort_report->regions[x].id < sort_report->regions[y].id);
}

void nc_report_order(const struct nc_report *r, size_t *order)
{
	for (size_t i = 0; i < r->n_regions; i++)
		order[i] = i;
	sort_report = r;
	qsort(order, r->n_regions, sizeof(*order), by_latency);
	sort_report = NULL;
}
