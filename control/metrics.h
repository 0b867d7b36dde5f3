/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics.h - the Prometheus exposition text (format 0.0.4) of one device, apart from the HTTP
 * server that serves it, so tests can render a hand-built device and check every number.
 */
#ifndef MG_CONTROL_METRICS_H
#define MG_CONTROL_METRICS_H

#include <stddef.h>

#include <stdbool.h>
#include <stdint.h>

struct mg_ctl;
struct metrics;

/* The /metrics HTTP listener on the control loop's epoll @epfd. */
int metrics_init(struct metrics **out, struct mg_ctl *dev, const char *listen, int epfd);
void metrics_uninit(struct metrics *m);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Opt-in per-peer series under mdlayher/wireguard_exporter's names (wireguard_peer_*). Off by
 * default: a label per public key is unbounded cardinality. */
#define METRICS_PEERS 1u

/* The control-server client's state, read at scrape time (e.g. from hsglue_get_status()). */
struct metrics_control {
	bool connected;                   /* map stream up */
	uint64_t last_map_update_real_ns; /* UNIX ns of the last map message; 0 = none yet */
	uint64_t map_updates, errors;
	uint64_t approved_routes;         /* subnet routes the control server approved */
	uint64_t lite_maps;               /* lite MapRequests (endpoint/Hostinfo updates) accepted */
	uint64_t last_lite_map_real_ns;   /* UNIX ns of the last one; 0 = none yet */
	uint64_t key_rotations;           /* node-key rotations completed */
	uint64_t malformed_names;         /* nodes received with a malformed Name (shown unnamed) */
	int preferred_derp;               /* NetInfo.PreferredDERP we publish; 0 = none */
	unsigned n_endpoints;             /* the endpoints we publish, as "addr:port" and type name */
	char endpoint[16][64];
	const char *endpoint_type[16];
	unsigned n_derp;                  /* the DERP map's regions (derp_get_status) */
	struct metrics_derp {
		int region;
		bool up;
		uint64_t latency_ns;      /* current STUN round trip; 0 = not measured */
		uint64_t connects, tx_packets, rx_packets;
		uint64_t tx_dropped;      /* queue full or not connected in time */
		uint64_t rate_limited;    /* over the server's ServerInfo token bucket */
	} derp[32];                       /* DERP_REGIONS_MAX */
	struct metrics_paths {
		/* disco messages by type (ping, pong, call-me-maybe) */
		uint64_t rx[3], tx[3];
		/* not taken: unknown key, bad box, bad message, ignored type, send failed, unmatched pong */
		uint64_t dropped[6];
		uint64_t to_direct, to_relay;     /* path changes of disco peers */
		uint64_t peers_direct, peers_relay;
	} paths;
};
typedef void metrics_control_fn(void *ctx, struct metrics_control *out);

/* Control thread: where /metrics reads the control-plane series from (get = NULL: none, as with
 * a static config). Call after metrics_init() once the client exists; @m may be NULL. */
void metrics_set_control(struct metrics *m, metrics_control_fn *get, void *ctx);

/*
 * Control thread only (walks dev->peers). @ctl = NULL when no control server is configured. Sums the workers' single-writer counters without
 * stopping them: a torn read of a u64 cannot happen on x86-64/arm64 aligned loads, and a sum may
 * mix values from slightly different instants, which Prometheus tolerates. Returns a malloc'd,
 * NUL-terminated text and its length, or NULL when out of memory.
 */
char *metrics_render(struct mg_ctl *dev, const struct metrics_control *ctl, unsigned flags, size_t *len);

#endif
