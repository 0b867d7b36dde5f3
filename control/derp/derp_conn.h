/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_conn.h - one DERP connection and the client that holds them (struct derp), private to the
 * client's files, with the connection's primitives (derp_conn.c). The files above it: dialing
 * (derp_dial.h), the home choice applied (derp_homing.h), the API (derp.h, derp.c). Everything
 * outside the client uses derp.h. Control thread only.
 */
#ifndef MG_DERP_CONN_H
#define MG_DERP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/ssl.h>
#include "derp_bucket.h"
#include "derp_frame.h"
#include "derp_home_rule.h"
#include "derp_types.h"
#include "evsource.h"

#define IN_CAP     (DERP_MAX_PACKET + 4096)      /* any relayed packet fits whole */
#define OUT_CAP    (512u * 1024u)                /* queued frames; past this packets are dropped */
#define PEND_CAP   (64u * 1024u)                 /* frames waiting for the handshake */

enum conn_state { ST_IDLE, ST_RESOLVE, ST_TCP, ST_TLS, ST_HTTP, ST_KEY, ST_INFO, ST_READY };

struct derp_conn {
	struct derp *d;
	struct evsource src;
	struct derp_region region;       /* copy: the map may change under us */
	enum conn_state state;
	int fd;
	SSL *ssl;
	struct hs_resolve_batch *res;    /* ST_RESOLVE */
	uint32_t ep_events;              /* what epoll watches now */
	bool tls_wants_write;
	unsigned node_idx;
	uint8_t server_pub[32];
	uint8_t *in;
	size_t in_len;
	uint32_t skip;                   /* bytes of an oversized frame still to discard */
	uint8_t *out;
	size_t out_off, out_len;
	uint8_t *pend;
	size_t pend_len;
	uint64_t state_since, last_rx, last_used, next_try, backoff;
	bool wanted;                     /* home, down (probed until back), or used in the last 60 s */
	bool down;                       /* was home and unreachable for DERP_FAILOVER_NS */
	unsigned fails;                  /* failed attempts since the last READY */
	uint64_t unready_since;          /* home: when it was first seen not READY; 0 = READY */
	uint64_t restart_at, grace_until; /* from a Restarting frame */
	uint64_t probe_at;               /* home: when our liveness Ping went out; 0 = none pending */
	struct derp_lat lat;             /* STUN round trips to this region's node */
	struct derp_bucket bucket;       /* ServerInfo's send limit; rate 0 = none */
	uint64_t limited_logged, limited_log_at;   /* rate_limited in the log at most every 5 s */
	struct derp_region_status st;
};

struct derp {
	struct derp_cfg cfg;
	SSL_CTX *ctx;
	uint8_t priv[32], pub[32];
	bool has_key;
	int home;
	uint64_t home_changes;
	size_t n;
	struct derp_conn *conns[DERP_REGIONS_MAX];
};

/* The region's connection, NULL if the map has none. */
struct derp_conn *derp_conn_find(const struct derp *d, int region);
const struct derp_node *derp_conn_node(const struct derp_conn *c);
void derp_conn_set_state(struct derp_conn *c, enum conn_state s, uint64_t now);
void derp_conn_set_events(struct derp_conn *c);
/* Appends to the output queue; false if it does not fit (the caller counts a drop). */
bool derp_conn_put(struct derp_conn *c, const void *p, size_t len);
/* TLS read/write until both would block (HTTP state and later). */
void derp_conn_io(struct derp_conn *c, uint64_t now);
/* Closes and schedules a retry with backoff on the region's next node. */
void derp_conn_fail(struct derp_conn *c, const char *why, uint64_t now);

/* Closes the socket and TLS, drops queued bytes; the state is IDLE again. */
void derp_conn_close(struct derp_conn *c);

#endif
