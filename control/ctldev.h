/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ctldev.h - the device as the control thread owns it: the dataplane device the workers read
 * (struct mg_device, published under the rules of dataplane.h) and, beside it, the state no
 * worker ever reads - our identity and the handshake machinery, the peer list, the steering
 * program, the routes installed in the kernel and the handshake counters. Everything outside
 * @dp is written and read by the control thread only, so none of it needs a lock or RCU.
 */
#ifndef MG_CTLDEV_H
#define MG_CTLDEV_H

#include <stddef.h>
#include <stdint.h>
#include <urcu/list.h>
#include "dataplane.h"
#include "wireguard/cookie.h"
#include "wireguard/noise.h"
#include "wireguard/ratelimiter.h"

/* Allowed IPs installed in the steering program and on the TUN device (a sorted set). */
struct mg_prefix_set {
	size_t n, cap;
	struct mg_ipprefix *v;
};

struct mg_ctl {
	struct mg_device dp;                     /* what workers read: see dataplane.h */

	/* Control thread only. */
	struct noise_static_identity identity;
	struct cookie_checker cookie;
	struct ratelimiter ratelimiter;
	struct cds_list_head peers;              /* struct peer.node, creation order */
	size_t npeers;
	uint32_t fwmark;
	uint64_t under_load_until_ns;
	struct steer_prog steer;
	uint64_t handshakes[4][2];               /* [message type][0=rx,1=tx] */
	struct mg_prefix_set routes_installed;
	uint64_t handshake_drops[MG_HS_DROP_MAX];   /* enum mg_hs_drop */
};

#endif
