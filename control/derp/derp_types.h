/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_types.h - the DERP client's plain data, below every file of the client: its timing bounds,
 * its configuration and the per-region status it reports (the map's regions and nodes are
 * conf/derpmap.h's, shared with `meshgate netcheck`). No functions: derp.h is the client's API.
 */
#ifndef MG_DERP_TYPES_H
#define MG_DERP_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "derpmap.h"                 /* struct derp_region, derp_node (control/conf) */

#define DERP_NS(ms)           ((uint64_t)(ms) * 1000000ull)
#define DERP_IDLE_NS          DERP_NS(60000)     /* non-home region closed after this idle */
#define DERP_READ_DEADLINE_NS DERP_NS(120000)    /* server KeepAlive is 60-65 s */
#define DERP_SETUP_NS         DERP_NS(10000)     /* connect + TLS + upgrade + handshake */
#define DERP_BACKOFF_MIN_NS   DERP_NS(1000)
#define DERP_BACKOFF_MAX_NS   DERP_NS(30000)
#define DERP_FAILOVER_NS      DERP_NS(10000)     /* home unreachable this long -> next-best region */
/*
 * The home connection is pinged after this long without a frame, and dropped if nothing comes
 * back within half of it: a server host that vanished without a reset is noticed in 15 s rather
 * than at the 120 s read deadline, so fail-over does not wait two minutes.
 */
#define DERP_PROBE_NS         DERP_NS(10000)

/* A packet arrived: WireGuard or disco (the caller classifies), from node key @src. */
typedef void (*derp_recv_fn)(void *arg, int region, const uint8_t src[32], const uint8_t *pkt, size_t len);

struct derp_cfg {
	int epfd;                        /* the control loop */
	const char *ca_file;             /* extra trust anchor (PEM), NULL = system store only */
	derp_recv_fn recv;
	void *arg;
	uint64_t idle_ns;                /* 0 = DERP_IDLE_NS (tests shorten it) */
	uint64_t probe_ns;               /* 0 = DERP_PROBE_NS (tests shorten it) */
};

struct derp_region_status {
	int id;
	bool home, up;
	const char *state;
	uint64_t connects, tx_packets, rx_packets, tx_drops, peer_gone;
	uint64_t rate_limited;           /* SendPackets dropped by the server's token bucket */
	uint64_t rate_limit, rate_burst; /* ServerInfo's TokenBucketBytesPerSecond/Burst; 0 = none */
	bool down;                       /* failed over from; probed until it connects */
	uint64_t latency_ns;             /* current STUN round trip; 0 = none */
	uint64_t best_latency_ns;        /* best of the last 5 minutes; 0 = none */
};

#endif
