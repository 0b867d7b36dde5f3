// SPDX-License-Identifier: GPL-2.0-only
/*
 * fuzz_worker.c - libFuzzer harness of the packet worker: the real wk_poll() of
 * dataplane/worker.c over a memory port (io/mem.c), on a device with three peers, SNAT and a
 * packet filter, so every parser a frame from the wire or the LAN reaches runs on fuzzed bytes:
 * the outer classifier (Ethernet, IPv4/IPv6, UDP, WireGuard message types, handshake, disco and
 * STUN punts, junk), and after a real decryption the inner path (source check, packet filter,
 * SNAT and NAT replies, MSS clamping, routing, ICMP errors), and the LAN side (NAT reverse,
 * tunnel destination lookup, staging for a peer without a session).
 *
 * Input: one flags byte (bit 0: SNAT on, bit 1: packet filter on), then records
 *   [kind][len: 2 bytes, little endian][len bytes]
 * kind % 4:
 *   0 RAW     the bytes are a whole Ethernet frame from the NIC, as is
 *   1 TUNNEL  the bytes are an inner IP packet from peer (kind >> 2) & 1: the harness seals it with
 *             that peer's session (next counter), so the worker decrypts it and routes the result
 *   2 LAN     the bytes are an IP packet from the LAN host: Ethernet is prepended
 *   3 UDP     the bytes are a UDP payload for our listen port, from peer 0's endpoint (or, with the
 *             kind's bit 2, from an unknown address): WireGuard messages, disco, STUN, junk; with
 *             bit 3, bytes 4..7 become peer 0's live receiver index (data: tag check, replay)
 * Structure where it is cheap (a sealed message the fuzzer could never forge), raw bytes elsewhere.
 *
 * Oracle besides the sanitizers: after every record the worker has run until its receive queue
 * is empty, and every frame is back in the pool or in the worker's bounded stage queue.
 *
 * Built two ways (tests/fuzz/dataplane/meson.build): fuzz_dp_outer takes RAW and UDP records only
 * (the classifier), fuzz_dp_inner TUNNEL and LAN only (the inner path); the replay executable of
 * each runs the seed corpus plus deterministic mutations in the test suite.
 */
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sodium.h>

#include "worker.h"
#include "pkt.h"
#include "io/mem.h"
#include "io/mem_session.h"
#include "netlink/nl_snapshot.h"
#include "netlink/nltables.h"
#include "wireguard/hash.h"
#include "wireguard/messages.h"

#ifndef FUZZ_KINDS
#define FUZZ_KINDS 0xf               /* bit per record kind accepted; others are skipped */
#endif

enum { REC_RAW, REC_TUNNEL, REC_LAN, REC_UDP };

#define LAN_IFINDEX 2
#define LISTEN_PORT 41641
#define CLIENT_PORT 51820
#define NPEERS 3                     /* 0, 1: live sessions; 2: none (its packets are staged) */
#define MAX_RECORDS 64
#define MAX_LEN 2048u

static const uint8_t router_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t host_mac[6] = { 0x02, 0, 0, 0, 0, 0x10 };
static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0, 0xfe };
static const uint8_t router_ip[4] = { 192, 168, 77, 1 };
static const uint8_t host_ip[4] = { 192, 168, 77, 10 };
static const uint8_t gw_ip[4] = { 192, 168, 77, 254 };
static const uint8_t router_ip6[16] = { 0xfd, 0, 0, 0x77, [15] = 1 };
static const uint8_t host_ip6[16] = { 0xfd, 0, 0, 0x77, [15] = 0x10 };
static const uint8_t stranger_ip[4] = { 203, 0, 113, 9 };

struct client {
	struct peer *peer;
	struct noise_keypair kp;         /* the far end's half of the session */
	uint8_t ep_ip[4];
	uint64_t send_counter;
};

static struct {
	struct mg_device *dev;
	struct worker w;
	struct wctx *c;
	struct nl_snapshot *snap;
	struct filter *filter;
	struct client cl[NPEERS];
} F;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_worker: %s\n", what);
	abort();
}

/* ---- the device (once) ----------------------------------------------------------------------- */

static struct nl_snapshot *lan_snapshot(void)
{
	struct nltables t;
	struct nl_route_ent r4 = { .family = AF_INET, .dst_len = 24, .type = RTN_UNICAST, .oif = LAN_IFINDEX };
	struct nl_route_ent d4 = { .family = AF_INET, .type = RTN_UNICAST, .oif = LAN_IFINDEX, .has_gw = true };
	struct nl_route_ent r6 = { .family = AF_INET6, .dst_len = 64, .type = RTN_UNICAST, .oif = LAN_IFINDEX };
	struct nl_addr_ent a4 = { .family = AF_INET, .prefixlen = 24, .scope = RT_SCOPE_UNIVERSE };
	struct nl_addr_ent a6 = { .family = AF_INET6, .prefixlen = 64, .scope = RT_SCOPE_UNIVERSE };
	struct nl_neigh_ent n4 = { .family = AF_INET, .state = NUD_REACHABLE, .has_mac = true };
	struct nl_neigh_ent g4 = { .family = AF_INET, .state = NUD_REACHABLE, .has_mac = true };
	struct nl_neigh_ent n6 = { .family = AF_INET6, .state = NUD_REACHABLE, .has_mac = true };
	struct nl_snapshot *s;

	nltables_init(&t, LAN_IFINDEX);
	t.present = true;
	memcpy(t.mac, router_mac, 6);
	t.mtu = 1500;
	memcpy(r4.dst, router_ip, 3);
	memcpy(d4.gw, gw_ip, 4);
	memcpy(r6.dst, router_ip6, 8);
	memcpy(a4.addr, router_ip, 4);
	memcpy(a6.addr, router_ip6, 16);
	memcpy(n4.addr, host_ip, 4);
	memcpy(n4.mac, host_mac, 6);
	memcpy(g4.addr, gw_ip, 4);
	memcpy(g4.mac, gw_mac, 6);
	memcpy(n6.addr, host_ip6, 16);
	memcpy(n6.mac, host_mac, 6);
	if (nltables_route_upsert(&t, &r4, true) < 0 || nltables_route_upsert(&t, &d4, true) < 0 ||
	    nltables_route_upsert(&t, &r6, true) < 0 || nltables_addr_upsert(&t, &a4) < 0 ||
	    nltables_addr_upsert(&t, &a6) < 0 || nltables_neigh_upsert(&t, &n4) < 0 ||
	    nltables_neigh_upsert(&t, &g4) < 0 || nltables_neigh_upsert(&t, &n6) < 0)
		die("routing tables");
	s = nl_snapshot_build(&t);
	nltables_free(&t);
	if (!s)
		die("routing snapshot");
	return s;
}

static void allow(struct peer *p, int family, const uint8_t *addr, uint8_t cidr)
{
	if (allowedips_insert(&F.dev->allowedips, family, addr, cidr, p))
		die("allowedips_insert");
}

/* Peer i; with a session (a real Noise IK handshake, the router initiating) if @live. */
static void peer_add(unsigned i, bool live)
{
	struct mg_device *dev = F.dev;
	struct client *cl = &F.cl[i];
	struct mg_endpoint ep = { .family = AF_INET, .port = CLIENT_PORT };
	uint8_t cpriv[32], cpub[32];
	struct peer *p;

	noise_generate_keypair(cpriv, cpub);
	p = peer_new(cpub);
	if (!p)
		die("peer_new");
	noise_handshake_init(&p->hs, &dev->identity, cpub, NULL);
	if (index_insert(&dev->index, &p->hs_entry))
		die("index_insert");
	if (live && mem_session_establish(dev, p, cpriv, 0x1000 + i, &cl->kp))
		die("handshake");
	sodium_memzero(cpriv, sizeof(cpriv));
	cl->peer = p;
	memcpy(cl->ep_ip, (uint8_t[]){ 198, 51, 100, (uint8_t)(i + 1) }, 4);
	memcpy(ep.addr, cl->ep_ip, 4);
	peer_endpoint_set(p, &ep);
	/* 100.64.0.(i+2)/32 and fd7a:115c:a1e0::(i+2)/128 each; peer 1 also a subnet and a v6 /48. */
	allow(p, AF_INET, (uint8_t[]){ 100, 64, 0, (uint8_t)(i + 2) }, 32);
	allow(p, AF_INET6, (uint8_t[16]){ 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, [15] = (uint8_t)(i + 2) }, 128);
	if (i == 1) {
		allow(p, AF_INET, (uint8_t[]){ 10, 99, 0, 0 }, 16);
		allow(p, AF_INET6, (uint8_t[16]){ 0xfd, 0x99 }, 48);
	}
	cds_list_add_tail(&p->node, &dev->peers);
	dev->npeers++;
}

/* The tailnet may reach the LAN host by TCP 22 and 80-443, UDP 53, and ICMP; the rest is dropped. */
static struct filter *filter_build(void)
{
	struct filter *f = filter_new();
	struct filter_rule *r = f ? filter_rule_add(f) : NULL;
	struct mg_ipprefix src = { .family = AF_INET, .cidr = 10, .addr = { 100, 64 } };
	struct mg_ipprefix src6 = { .family = AF_INET6, .cidr = 48, .addr = { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0 } };
	struct mg_ipprefix lan = { .family = AF_INET, .cidr = 24, .addr = { 192, 168, 77 } };
	struct mg_ipprefix lan6 = { .family = AF_INET6, .cidr = 64, .addr = { 0xfd, 0, 0, 0x77 } };

	if (!r || filter_rule_src(r, &src) || filter_rule_src(r, &src6) ||
	    filter_rule_dst(r, &lan, 22, 22) || filter_rule_dst(r, &lan, 80, 443) ||
	    filter_rule_dst(r, &lan6, 53, 53))
		die("filter");
	filter_rule_proto(r, IPPROTO_TCP);
	filter_rule_proto(r, IPPROTO_UDP);
	filter_rule_proto(r, IPPROTO_ICMP);
	filter_rule_proto(r, IPPROTO_ICMPV6);
	return f;
}

static void setup(void)
{
	struct mg_device *dev = calloc(1, sizeof(*dev));
	uint8_t priv[32], pub[32];

	if (!dev || sodium_init() < 0 || aead_init("auto"))
		die("init");
	rcu_register_thread();
	F.dev = dev;
	snprintf(dev->name, sizeof(dev->name), "fuzz0");
	snprintf(dev->ifname, sizeof(dev->ifname), "mem0");
	dev->ifindex = LAN_IFINDEX;
	dev->mtu = 1280;
	dev->tun_fd = -1;
	dev->rekey_after_time_ns = REKEY_AFTER_TIME_NS;
	dev->n_routes = 2;
	dev->routes = calloc(2, sizeof(*dev->routes));
	if (!dev->routes)
		die("out of memory");
	dev->routes[0] = (struct mg_ipprefix){ .family = AF_INET, .cidr = 24, .addr = { 192, 168, 77 } };
	dev->routes[1] = (struct mg_ipprefix){ .family = AF_INET6, .cidr = 64, .addr = { 0xfd, 0, 0, 0x77 } };
	allowedips_init(&dev->allowedips);
	index_table_init(&dev->index);
	CDS_INIT_LIST_HEAD(&dev->peers);
	atomic_store(&dev->listen_port, LISTEN_PORT);
	dev->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dev->epfd = -1;
	if (dev->wake_fd < 0 || nat_init(&dev->nat, 1))
		die("eventfd/nat_init");
	noise_generate_keypair(priv, pub);
	noise_static_identity_set(&dev->identity, priv);
	sodium_memzero(priv, sizeof(priv));
	cookie_checker_init(&dev->cookie, dev->identity.static_public);

	F.snap = lan_snapshot();
	F.filter = filter_build();
	F.w.dev = dev;
	if (io_mem_open(&F.w.port, 0) ||
	    ring_init(&F.w.punt, PUNT_RING_SLOTS, sizeof(struct punt_msg)) ||
	    ring_init(&F.w.txq, TXREQ_RING_SLOTS, sizeof(struct txreq)))
		die("memory port");
	dev->workers = &F.w;
	dev->nworkers = 1;
	F.c = wk_ctx_new(&F.w);
	if (!F.c)
		die("worker context");
	F.c->nl_fixed = F.snap;
	for (unsigned i = 0; i < NPEERS; i++)
		peer_add(i, i < 2);
}

/* ---- one input ------------------------------------------------------------------------------- */

/* A frame from the pool with room for the worker's headers; NULL when the pool is empty. */
static uint8_t *frame_new(uint64_t *addr)
{
	uint64_t base = io_frame_get(&F.w.port);

	if (base == UINT64_MAX)
		return NULL;
	*addr = base + IO_RX_HEADROOM;
	return io_port_data(&F.w.port, *addr);
}

static void push(uint64_t addr, uint32_t len)
{
	if (!io_mem_rx_push(&F.w.port, addr, len))
		io_frame_put(&F.w.port, addr);
}

static void rec_raw(const uint8_t *d, uint32_t len)
{
	uint64_t a;
	uint8_t *f = frame_new(&a);

	if (!f)
		return;
	memcpy(f, d, len);
	push(a, len);
}

static void rec_lan(const uint8_t *d, uint32_t len)
{
	uint64_t a;
	uint8_t *f = frame_new(&a);

	if (!f)
		return;
	eth_build(f, router_mac, host_mac, len && (d[0] >> 4) == 6 ? AF_INET6 : AF_INET);
	memcpy(f + ETH_HLEN_, d, len);
	push(a, ETH_HLEN_ + len);
}

/* Outer Ethernet/IPv4/UDP to our port around @mlen bytes of message already at f + 42. */
static void outer_wrap(uint8_t *f, const uint8_t src[4], uint32_t mlen)
{
	struct mg_endpoint us = { .family = AF_INET, .port = LISTEN_PORT };

	memcpy(us.addr, router_ip, 4);
	eth_build(f, router_mac, gw_mac, AF_INET);
	ipudp_build(f + ETH_HLEN_, &us, src, CLIENT_PORT, mlen);
}

static void rec_udp(const uint8_t *d, uint32_t len, bool stranger, bool live_index)
{
	uint64_t a;
	uint8_t *f = frame_new(&a);
	uint8_t *msg;

	if (!f)
		return;
	msg = f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN;
	memcpy(msg, d, len);
	/* Our receiver index is random: put peer 0's in, so a forged data message reaches the key
	 * checks, the AEAD's verdict and the replay window. */
	if (live_index && len >= 8) {
		uint32_t idx = htole32(F.cl[0].kp.remote_index);

		memcpy(msg + 4, &idx, 4);
	}
	outer_wrap(f, stranger ? stranger_ip : F.cl[0].ep_ip, len);
	push(a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + len);
}

/* The inner packet sealed as the peer's next data message (padded to 16 as WireGuard does). */
static void rec_tunnel(const uint8_t *d, uint32_t len, unsigned peer)
{
	struct client *cl = &F.cl[peer];
	uint32_t plen = (len + 15) & ~15u, mlen = sizeof(struct msg_data) + plen + AEAD_TAG_LEN;
	struct msg_data *hdr;
	struct aead_op op;
	uint64_t a;
	uint8_t *f = frame_new(&a);

	if (!f)
		return;
	hdr = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	hdr->header.type = htole32(MESSAGE_DATA);
	hdr->receiver_index = htole32(cl->kp.remote_index);
	hdr->counter = htole64(cl->send_counter);
	memcpy(hdr->encrypted_data, d, len);
	memset(hdr->encrypted_data + len, 0, plen - len);
	op = (struct aead_op){ .key = cl->kp.send_key, .counter = cl->send_counter++,
			       .src = hdr->encrypted_data, .dst = hdr->encrypted_data, .len = plen };
	aead_seal_burst(&op, 1);
	outer_wrap(f, cl->ep_ip, mlen);
	push(a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + mlen);
}

/* The worker runs until its input is gone; what it sent and punted is taken away. */
static void run(void)
{
	struct io_desc out[BURST];
	unsigned n, spins = 0;

	do {
		wk_poll(F.c);
		rcu_quiescent_state();
		while ((n = io_mem_tx_pop(&F.w.port, out, BURST)))
			for (unsigned i = 0; i < n; i++)
				io_frame_put(&F.w.port, out[i].addr);
		while (ring_peek(&F.w.punt))
			ring_release(&F.w.punt);
	} while (io_mem_rx_pending(&F.w.port) && ++spins < 1000);
	if (io_mem_rx_pending(&F.w.port))
		die("the worker stopped taking frames");
}

/* FUZZ_WORKER_TRACE=1: what each record did (to check that the seeds reach what they are for). */
static void trace(uint8_t kind, uint32_t len, const struct mg_counters *before)
{
	static const char *const names[] = {
#define X(n, l, h) l,
		MG_DROP_REASONS(X)
#undef X
	};
	const struct mg_counters *now = F.c->ctr;

	fprintf(stderr, "record kind %u len %u: rx %+ld tx %+ld decap %+ld encap %+ld punted %+ld icmp %+ld mss %+ld",
		kind % 4, len, (long)(now->rx_packets - before->rx_packets), (long)(now->tx_packets - before->tx_packets),
		(long)(now->decap_packets - before->decap_packets), (long)(now->encap_packets - before->encap_packets),
		(long)(now->punted - before->punted), (long)(now->icmp_sent - before->icmp_sent),
		(long)(now->mss_clamped - before->mss_clamped));
	for (unsigned i = 0; i < MG_DROP_MAX; i++)
		if (now->drops[i] != before->drops[i])
			fprintf(stderr, " drop:%s", names[i]);
	fprintf(stderr, " staged %u\n", F.c->stage_head - F.c->stage_tail);
}

/* Every frame is in the pool or staged (the stage queue is the only place a frame may wait). */
static void check_frames(void)
{
	uint32_t staged = F.c->stage_head - F.c->stage_tail;

	if (F.w.port.npool + staged != IO_NUM_FRAMES) {
		fprintf(stderr, "fuzz_worker: %u frames in the pool + %u staged != %u\n",
			F.w.port.npool, staged, IO_NUM_FRAMES);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int tracing = -1;
	struct mg_counters before = { 0 };
	size_t off = 1;

	if (!F.dev)
		setup();
	if (tracing < 0)
		tracing = getenv("FUZZ_WORKER_TRACE") != NULL;
	if (size < 1)
		return 0;
	F.dev->snat = data[0] & 1;
	rcu_assign_pointer(F.dev->filter, (data[0] & 2) ? F.filter : NULL);
	for (unsigned r = 0; r < MAX_RECORDS && off + 3 <= size; r++) {
		uint8_t kind = data[off];
		uint32_t len = (uint32_t)data[off + 1] | (uint32_t)data[off + 2] << 8;
		const uint8_t *d = data + off + 3;

		if (tracing)
			before = *F.c->ctr;
		off += 3;
		if (len > size - off)
			len = (uint32_t)(size - off);
		off += len;
		if (len > MAX_LEN || !(FUZZ_KINDS & (1u << (kind % 4))))
			continue;
		switch (kind % 4) {
		case REC_RAW:
			rec_raw(d, len);
			break;
		case REC_TUNNEL:
			rec_tunnel(d, len, (kind >> 2) & 1);
			break;
		case REC_LAN:
			rec_lan(d, len);
			break;
		case REC_UDP:
			rec_udp(d, len, kind & 4, kind & 8);
			break;
		}
		run();
		check_frames();
		if (tracing)
			trace(kind, len, &before);
	}
	return 0;
}
