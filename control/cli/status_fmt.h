/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * status_fmt.h - `meshgate status` output: what status.c gathered (the UAPI reply, this host,
 * /metrics) printed as the table or as JSON. No I/O besides writing to the given stream, so the
 * exact text can be checked.
 *
 * Each node is named twice: by its tailnet name (the short form, up to the first dot, as
 * `tailscale status` shows it; "-" when Headscale gave none or the peer is a static [Peer]) and
 * by what identifies it without Headscale: the host name for this node, the first 8 characters
 * of the base64 public key for a peer. JSON carries the full name as "DNSName".
 */
#ifndef MG_CONTROL_CLI_STATUS_FMT_H
#define MG_CONTROL_CLI_STATUS_FMT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "cli.h"
#include "peerstate.h"

#define STATUS_HEALTH_MAX 8

struct status_health {
	unsigned n;
	char msg[STATUS_HEALTH_MAX][160];
};

/* The control server as /metrics describes it (only with LoginServer). */
struct status_ctl {
	bool present, connected;
	double last_map, last_lite, lite_maps, derp;
	unsigned n_ep;
	char ep[16][64], ep_type[16][24];   /* published endpoints: "addr:port", type name */
};

/* This node: host name, the daemon's interface name, its TUN addresses ("a,b", "" = none). */
struct status_self {
	const char *host;
	const char *device;
	const char *ips;
};

enum peerstate status_peer_state(const struct cli_peer *p, uint64_t now);
void status_print_table(FILE *f, const struct status_self *self, const struct cli_device *d,
			const struct status_health *h, const struct status_ctl *ci, uint64_t now, bool header);
void status_print_json(FILE *f, const struct status_self *self, const struct cli_device *d,
		       const struct status_health *h, const struct status_ctl *ci, uint64_t now);

#endif
