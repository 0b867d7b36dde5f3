/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netcheck_report.h - what `meshgate netcheck` concludes from its probes, kept apart from the
 * probing so the rules can be tested on made-up answers:
 *   - UDP works if any STUN server answered;
 *   - the public IPv4 (IPv6) address is the mapped address of the first answer over that family;
 *   - the mapping varies by destination when two different STUN servers (address and port) saw
 *     two different IPv4 addresses or ports; with fewer than two servers answering it is unknown;
 *   - a region's latency is its best STUN round trip over either family, or, when no STUN answer
 *     came, the TCP connect time to its DERP server; the preferred (nearest) region is the one
 *     with the lowest latency that may be home (not NoMeasureNoHome), the lower id on a tie,
 *     among the regions that answered STUN (as the daemon chooses its home), or, when UDP is
 *     blocked everywhere, among those a TCP connection reached.
 */
#ifndef MG_CLI_NETCHECK_REPORT_H
#define MG_CLI_NETCHECK_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "derpmap.h"
#include "devconf.h"

#define NC_REGIONS_MAX  64          /* regions measured; a larger map is cut, and says so */
#define NC_SEEN_MAX     64          /* distinct STUN servers remembered for the mapping test */

struct nc_region {
	uint64_t v4_ns, v6_ns;           /* best STUN round trip per family; 0 = no answer */
	uint64_t tcp_ns;                 /* TCP connect to its DERP server; 0 = none */
};

struct nc_seen {                     /* one IPv4 STUN server that answered */
	struct mg_endpoint server, mapped;
};

struct nc_report {
	const struct derp_region *regions;   /* the map, borrowed */
	size_t n_regions;
	struct nc_region res[NC_REGIONS_MAX];
	bool udp;
	bool os_has_ipv6;                    /* an IPv6 UDP socket could be opened */
	bool ipv6_tried;                     /* a STUN request left over IPv6 */
	size_t ipv6_targets;                 /* IPv6 STUN addresses the map gave (and -4 allowed) */
	struct mg_endpoint global_v4, global_v6;   /* family 0 = none */
	int mapping_varies;                  /* -1 unknown, 0 no, 1 yes */
	int preferred;                       /* region id; 0 = none answered */
	struct nc_seen seen[NC_SEEN_MAX];
	size_t n_seen;
};

void nc_report_init(struct nc_report *r, const struct derp_region *regions, size_t n);
/* A STUN answer from @server of region index @ri: we were seen at @mapped after @rtt_ns. */
void nc_note_stun(struct nc_report *r, size_t ri, const struct mg_endpoint *server,
		  const struct mg_endpoint *mapped, uint64_t rtt_ns);
/* A TCP connection to region index @ri's DERP server completed in @rtt_ns. */
void nc_note_tcp(struct nc_report *r, size_t ri, uint64_t rtt_ns);
/* The region's latency as the report shows it (STUN, else TCP); 0 = unreachable. */
uint64_t nc_latency(const struct nc_report *r, size_t ri, bool *by_tcp);
/* Sets preferred (and leaves the rest as the notes made it). */
void nc_report_finish(struct nc_report *r);
/* Region indexes in the order the report lists them: measured ones by latency, then the rest by
 * id. @order has room for r->n_regions. */
void nc_report_order(const struct nc_report *r, size_t *order);

#endif
