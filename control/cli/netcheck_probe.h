/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netcheck_probe.h - the probes of `meshgate netcheck`: STUN binding requests (conf/stun.c's
 * client) from one IPv4 and one IPv6 kernel UDP socket to the STUN servers of every region of the
 * DERP map (up to two nodes a region, each address family it has), resent to the silent ones, and
 * a TCP connect to each region's DERP server, timed. The results go into a struct nc_report.
 *
 * The sockets are ordinary ones on an ephemeral port, not meshgate's WireGuard port (which belongs
 * to AF_XDP while the daemon runs): the mapped address is what a NAT gives a new flow from this
 * host, which is what the question "does the NAT map per destination" is about.
 */
#ifndef MG_CLI_NETCHECK_PROBE_H
#define MG_CLI_NETCHECK_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include "netcheck_report.h"

#define NC_TARGETS_MAX  48          /* STUN targets (fits the STUN client's pending table) */
#define NC_NODES_PER_REGION 2

struct nc_probe_opts {
	uint64_t timeout_ns;             /* the whole probe; it ends earlier once all have answered */
	bool no_ipv4, no_ipv6;           /* -4 / -6 */
	bool no_tcp;
};

/* Fills @r. 0, or -errno when not one socket could be opened. Names in the map (a HostName
 * where IPv4 or IPv6 is empty) are looked up with getaddrinfo before any probe starts, each
 * name and family once; a name that does not resolve is a target that never answers. */
int nc_probe(struct nc_report *r, const struct nc_probe_opts *o);

#endif
