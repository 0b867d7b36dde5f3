/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mem_router.h - a whole router in memory for the users of the memory port (perf/engine-bench,
 * the worker fuzzer): a device with its identity, one worker over io/mem.c, a fixed LAN, and
 * peers with live sessions from real handshakes - what the NIC, the kernel mirror and the control
 * thread would leave behind, without any of them.
 *
 * With several workers (mem_router_init_workers) they serve the one device, as the daemon's
 * workers do: one peer table, allowed-IPs trie, NAT table (each worker its own port slice) and
 * flow table; each worker has its own memory port, pass state and counters.
 *
 * The LAN (ifindex 2): 192.168.77.0/24 and fd00:0:0:77::/64, both advertised; router .1 / ::1,
 * host .10 / ::10, gateway .254 (the default route). Peer i: endpoint 198.51.100.(i+1):51820
 * (carrying into the third octet past 255), allowed IPs 100.64.0.(i+2)/32 (likewise) and
 * fd7a:115c:a1e0::(i+2)/128.
 */
#ifndef MG_MEM_ROUTER_H
#define MG_MEM_ROUTER_H

#include "device.h"

struct wctx;
struct nl_snapshot;

#define MEM_LAN_IFINDEX 2
#define MEM_LISTEN_PORT 41641
#define MEM_FAR_PORT 51820
#define MEM_WORKERS_MAX 8

struct mem_lan {
	uint8_t router_mac[6], host_mac[6], gw_mac[6];
	uint8_t router_ip[4], host_ip[4], gw_ip[4];
	uint8_t router_ip6[16], host_ip6[16];
};
extern const struct mem_lan mem_lan;

/* The far end of peer i: its half of the session and its addresses. */
struct mem_far {
	struct peer *peer;               /* the router's view */
	struct noise_keypair kp;         /* the far end's keypair (if live) */
	uint8_t tun_ip[4];               /* 100.64.0.(i+2) */
	uint8_t ep_ip[4];                /* 198.51.100.(i+1) */
	uint64_t send_counter;
};

struct mem_router {
	struct mg_device *dev;
	/* What the control thread would hold beside the device (its struct mg_ctl). */
	struct noise_static_identity identity;
	struct cds_list_head peers;      /* struct peer.node */
	struct worker *w;                /* dev->workers: w[0] .. w[nworkers - 1] */
	struct wctx *c;                  /* worker 0's: drive it with wk_poll(c) */
	struct wctx *cs[MEM_WORKERS_MAX];/* worker i's (cs[0] == c), for wk_poll on thread i */
	unsigned nworkers;
	struct nl_snapshot *snap;
};

/* Device, identity, LAN snapshot, one worker (memory port, worker context). 0 or -1. */
int mem_router_init(struct mem_router *r, const char *name, uint32_t mtu);
/* The same with @n workers (1..MEM_WORKERS_MAX) on the one device. 0 or -1. */
int mem_router_init_workers(struct mem_router *r, const char *name, uint32_t mtu, unsigned n);
/*
 * Peer @i as above; with @live, a real Noise IK handshake (the router initiating, both ends on
 * noise.c) whose keypair is installed as current, as control installs it. 0 or -1.
 */
int mem_router_add_peer(struct mem_router *r, unsigned i, bool live, struct mem_far *far);
/* A new LAN snapshot (a new generation) whose gateway has @mac, for every worker's next pass
 * (between passes: the old one is freed). 0 or -1. */
int mem_router_set_gw_mac(struct mem_router *r, const uint8_t mac[6]);
/* Frees everything; -1 if the memory port lost frames (a leak on the packet path). */
int mem_router_free(struct mem_router *r);

#endif
