/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp.h - the DERP relay client (brief §6) on the control thread's epoll loop: one TLS
 * connection per region in use, never blocking the loop. The home region stays connected (and
 * is told NotePreferred); other regions connect when a packet is sent there and close after 60 s
 * without one. Frames are derp_frame.h's; the map comes from derp_map.h.
 */
#ifndef MG_DERP_H
#define MG_DERP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DERP_REGIONS_MAX      32
#define DERP_NODES_MAX        4
#define DERP_HOST_MAX         256

#define DERP_NS(ms)           ((uint64_t)(ms) * 1000000ull)
#define DERP_IDLE_NS          DERP_NS(60000)     /* non-home region closed after this idle */
#define DERP_READ_DEADLINE_NS DERP_NS(120000)    /* server KeepAlive is 60-65 s (brief §6.4) */
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

/* One DERPNode / DERPRegion (brief §3.6), as far as a client uses them. */
struct derp_node {
	char name[64];
	char host[DERP_HOST_MAX];        /* HostName: TLS SNI and name check; dialled when no IP */
	char ipv4[64], ipv6[64];         /* forced addresses; "" = none given, "none" = disabled */
	char cert_name[DERP_HOST_MAX];   /* CertName: expected name, or "sha256-raw:<hex>" pin */
	uint16_t derp_port;              /* 0 in JSON -> 443 */
	int stun_port;                   /* 0 in JSON -> 3478, -1 = none */
	bool stun_only;
	bool insecure;                   /* InsecureForTests: no certificate check at all */
};

struct derp_region {
	int id;
	char code[32];
	bool no_home;                    /* NoMeasureNoHome */
	size_t n_nodes;
	struct derp_node nodes[DERP_NODES_MAX];
};

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

struct derp;

int derp_init(struct derp **out, const struct derp_cfg *cfg);
void derp_uninit(struct derp *d);
/* Our node key (the DERP client identity). A change reconnects every region. */
void derp_set_key(struct derp *d, const uint8_t node_priv[32]);
/*
 * Replaces the DERP map; connections (and latencies) of regions whose first node is unchanged
 * are kept. The home region is chosen by derp_home.h's rule among the regions that may be home
 * (a non-STUN-only node, not NoMeasureNoHome): by STUN latency with tailscaled's hysteresis, the
 * lowest id before any answer. A home not READY for DERP_FAILOVER_NS (after a failed attempt;
 * longer if a Restarting frame asked for it) is "down": the next-best region becomes home, the
 * down one is probed with the usual backoff and counts again once connected. A home change
 * sends NotePreferred(0)/(1) and shows in derp_home() (the caller publishes PreferredDERP).
 */
void derp_set_map(struct derp *d, const struct derp_region *regions, size_t n, uint64_t now);
/* A STUN answer from @server after @rtt_ns: recorded for the region whose node it is (matched by
 * the node's numeric IPv4/IPv6/HostName and STUNPort); false if no region has that node. */
struct mg_endpoint;
bool derp_note_stun(struct derp *d, const struct mg_endpoint *server, uint64_t rtt_ns, uint64_t now);
int derp_home(const struct derp *d);                     /* 0 = no map */
bool derp_region_known(const struct derp *d, int region);
bool derp_region_up(const struct derp *d, int region);   /* handshake done */
/*
 * SendPacket @pkt to node key @dst on @region: queued (TLS writes happen when the socket is
 * writable, so a burst becomes few records); a region not connected is dialled and the packet
 * waits (bounded) until the handshake is done. 0, -ENOENT (no such region), -ENOBUFS (queue full).
 */
int derp_send(struct derp *d, int region, const uint8_t dst[32], const void *pkt, size_t len, uint64_t now);
/* (-EDQUOT: dropped by the server's ServerInfo token bucket, counted as rate_limited.) */
/* Reconnects with backoff, deadlines, idle close: from the control tick. */
void derp_tick(struct derp *d, uint64_t now);

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
/* Per region of the map (connected or not); returns how many were written. */
size_t derp_get_status(const struct derp *d, struct derp_region_status *out, size_t max);

#endif
