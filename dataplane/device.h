/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * device.h - the meshgate device as the workers read it: published tables and settings that are
 * immutable while workers run. The control thread's own state (identity, peer list, handshake
 * machinery) lives in its struct mg_ctl, which contains this one. control/ reaches this header
 * through dataplane.h, where the sharing rule of each field is written out.
 */
#ifndef MG_DEVICE_H
#define MG_DEVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <urcu/list.h>
#include "mg.h"
#include "addr.h"
#include "peer.h"
#include "ring.h"
#include "counters.h"
#include "io/port.h"
#include "io/xsk_prog.h"
#include "nat.h"
#include "filter.h"
#include "flowtrack.h"
#include "wireguard/allowedips.h"
#include "wireguard/cookie.h"
#include "wireguard/ratelimiter.h"

struct nlmirror;
struct mg_config;

/* The router's own tailnet addresses: from the config, or from Headscale's map. Immutable. */
struct mg_addrset {
	size_t n;
	struct mg_ipprefix a[];
};

/*
 * The advertised routes (AdvertiseRoutes, plus 0.0.0.0/0 and ::/0 for AdvertiseExitNode): the
 * LAN destinations a packet out of the tunnel may be forwarded to. Immutable once published;
 * control swaps the whole set on SIGHUP and frees the old one after a grace period.
 */
struct mg_routeset {
	size_t n;
	struct mg_ipprefix r[];
};

/* A new set from the config's routes (copied; host bits as given) and the exit-node flag.
 * NULL on ENOMEM. */
static inline struct mg_routeset *mg_routeset_new(const struct mg_ipprefix *r, size_t n, bool exit_node)
{
	size_t total = n + (exit_node ? 2 : 0);
	struct mg_routeset *s = calloc(1, sizeof(*s) + total * sizeof(s->r[0]));

	if (!s)
		return NULL;
	if (n)
		memcpy(s->r, r, n * sizeof(*r));
	if (exit_node) {                /* /0 of each family: everything */
		s->r[n].family = AF_INET;
		s->r[n + 1].family = AF_INET6;
	}
	s->n = total;
	return s;
}

/* Worker -> control: handshake messages and neighbour-resolution requests. */
enum punt_kind { PUNT_HANDSHAKE = 1, PUNT_RESOLVE, PUNT_DISCO, PUNT_STUN, PUNT_DERP_TX };
#define PUNT_DATA_MAX 1472          /* a whole UDP payload on a 1500-byte link */
struct punt_msg {
	uint8_t kind;
	uint16_t len;
	struct mg_endpoint src;          /* outer source (handshake) or address to resolve;
					  * PUNT_DERP_TX: the destination, 127.3.3.40:<region> */
	uint8_t peer_key[32];            /* PUNT_DERP_TX: destination node key; zero = find by index */
	uint8_t data[PUNT_DATA_MAX];
};

/* Tailscale's pseudo-endpoint "via DERP region N" is 127.3.3.40:N: a peer whose
 * endpoint is this is reached through the DERP relay, never by UDP. */
#define MG_DERP_MAGIC_IP4 0x7f030328u
static inline bool mg_endpoint_is_derp(const struct mg_endpoint *ep)
{
	uint32_t a;

	memcpy(&a, ep->addr, 4);         /* one compare: every sealed packet asks, twice */
	return ep->family == AF_INET && a == htonl(MG_DERP_MAGIC_IP4);
}

/* Control -> worker: a WireGuard message to send to an endpoint, or a plaintext IP packet (from the
 * TUN device) to route into the tunnel. */
enum txreq_kind { TXREQ_UDP = 1, TXREQ_PLAIN, TXREQ_RELAYED };   /* RELAYED: a WireGuard message that
							    * came through DERP from dst */
#define TXREQ_DATA_MAX 2048
struct txreq {
	uint8_t kind;
	uint16_t len;
	struct mg_endpoint dst;
	uint8_t data[TXREQ_DATA_MAX];
};

#define PUNT_RING_SLOTS 1024u
#define PUNT_UNDER_LOAD  (PUNT_RING_SLOTS / 8)   /* queue depth that means "under load" */
#define TXREQ_RING_SLOTS 256u

struct worker {
	struct mg_device *dev;
	unsigned id;
	int cpu;                         /* the CPU it runs on (set before worker_start); -1 = any */
	pthread_t thread;
	struct io_port port;
	struct ring punt;                /* producer: this worker; consumer: control */
	struct ring txq;                 /* producer: control; consumer: this worker */
	struct mg_counters ctr;          /* written by this worker only */
	_Atomic bool stop;
	bool started;
};

struct mg_device {
	/* Immutable after start. */
	char name[16];
	char ifname[64];
	int ifindex;
	uint32_t mtu;                            /* tunnel MTU (inner) */
	int tun_fd;
	bool snat;                               /* translate tailnet -> LAN sources */
	uint64_t poll_spin_ns;                   /* idle policy (config Poll); UINT64_MAX = busy */
	uint64_t rekey_after_time_ns;

	/* Published to workers (RCU) or atomic. */
	struct allowedips allowedips;            /* written by control */
	struct index_table index;                /* written by control */
	struct nlmirror *nl;                     /* snapshot published by control */
	struct nat nat;                          /* flows: workers create, control expires */
	struct filter *filter;                   /* tailnet ACL, RCU; NULL = none (allow) */
	struct flowtrack flows;                  /* LAN-started UDP flows: one table per worker */
	struct mg_addrset *addrs;                /* our tailnet addresses (on the TUN), RCU */
	_Atomic uint64_t addrs_gen;              /* bumped with each new addrs (workers' memos) */
	struct mg_routeset *routes;              /* advertised routes, written by control, RCU;
						  * never NULL while workers run */
	_Atomic uint64_t routes_gen;             /* bumped with each new routes, likewise */
	_Atomic uint16_t listen_port;
	int wake_fd;                             /* eventfd: workers poke control */
	int epfd;                                /* the control loop's epoll; no worker reads it */

	/* Immutable after start. */
	unsigned nworkers;
	struct worker *workers;
};

/* Monotonic clock for protocol timers; one read per loop iteration. */
static inline uint64_t mg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static inline uint64_t mg_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Worker lifecycle (worker.c). */
int worker_start(struct worker *w);
void worker_stop(struct worker *w);
/* Poke the control thread (eventfd) - only on a queue's empty -> non-empty transition. */
void device_wake_control(struct mg_device *dev);

#endif
