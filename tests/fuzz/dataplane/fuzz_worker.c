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
 * Input: one flags byte (bit 0: SNAT on, bit 1: packet filter on, bit 2: one burst: the worker
 * runs once all records are queued, so that they meet in one pass and the memos of its first
 * frames serve the later ones; else after each record), then records
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
#include "io/mem_router.h"
#include "netlink/nl_snapshot.h"
#include "netlink/nltables.h"
#include "wireguard/hash.h"
#include "wireguard/messages.h"

#ifndef FUZZ_KINDS
#define FUZZ_KINDS 0xf               /* bit per record kind accepted; others are skipped */
#endif

enum { REC_RAW, REC_TUNNEL, REC_LAN, REC_UDP };

#define NPEERS 3                     /* 0, 1: live sessions; 2: none (its packets are staged) */
#define MAX_RECORDS 64
#define MAX_LEN 2048u

static const uint8_t stranger_ip[4] = { 203, 0, 113, 9 };

static struct {
	struct mem_router r;
	struct filter *filter;
	struct mem_far cl[NPEERS];
} F;

static void die(const char *what)
{
	fprintf(stderr, "fuzz_worker: %s\n", what);
	abort();
}

/* ---- the device (once) ----------------------------------------------------------------------- */

static void allow(struct peer *p, int family, const uint8_t *addr, uint8_t cidr)
{
	if (allowedips_insert(&F.r.dev->allowedips, family, addr, cidr, p))
		die("allowedips_insert");
}

/* Peer i (mem_router.h); a live session if @live; peer 1 also owns a subnet and a v6 /48. */
static void peer_add(unsigned i, bool live)
{
	if (mem_router_add_peer(&F.r, i, live, &F.cl[i]))
		die("peer");
	if (i == 1) {
		allow(F.cl[i].peer, AF_INET, (uint8_t[]){ 10, 99, 0, 0 }, 16);
		allow(F.cl[i].peer, AF_INET6, (uint8_t[16]){ 0xfd, 0x99 }, 48);
	}
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
	if (sodium_init() < 0 || aead_init("auto"))
		die("init");
	mg_rcu_register_thread();
	if (mem_router_init(&F.r, "fuzz0", 1280))
		die("in-memory router");
	F.filter = filter_build();
	for (unsigned i = 0; i < NPEERS; i++)
		peer_add(i, i < 2);
}

/* ---- one input ------------------------------------------------------------------------------- */

/* A frame from the pool with room for the worker's headers; NULL when the pool is empty. */
static uint8_t *frame_new(uint64_t *addr)
{
	uint64_t base = io_frame_get(&F.r.w->port);

	if (base == UINT64_MAX)
		return NULL;
	*addr = base + IO_RX_HEADROOM;
	return io_port_data(&F.r.w->port, *addr);
}

static void push(uint64_t addr, uint32_t len)
{
	if (!io_mem_rx_push(&F.r.w->port, addr, len))
		io_frame_put(&F.r.w->port, addr);
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
	eth_build(f, mem_lan.router_mac, mem_lan.host_mac, len && (d[0] >> 4) == 6 ? AF_INET6 : AF_INET);
	memcpy(f + ETH_HLEN_, d, len);
	push(a, ETH_HLEN_ + len);
}

/* Outer Ethernet/IPv4/UDP to our port around @mlen bytes of message already at f + 42. */
static void outer_wrap(uint8_t *f, const uint8_t src[4], uint32_t mlen)
{
	struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };

	memcpy(us.addr, mem_lan.router_ip, 4);
	eth_build(f, mem_lan.router_mac, mem_lan.gw_mac, AF_INET);
	ipudp_build(f + ETH_HLEN_, &us, src, MEM_FAR_PORT, mlen);
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
	struct mem_far *cl = &F.cl[peer];
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
		wk_poll(F.r.c);
		mg_rcu_quiescent_state();
		while ((n = io_mem_tx_pop(&F.r.w->port, out, BURST)))
			for (unsigned i = 0; i < n; i++)
				io_frame_put(&F.r.w->port, out[i].addr);
		while (ring_peek(&F.r.w->punt))
			ring_release(&F.r.w->punt);
	} while (io_mem_rx_pending(&F.r.w->port) && ++spins < 1000);
	if (io_mem_rx_pending(&F.r.w->port))
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
	const struct mg_counters *now = F.r.c->ctr;

	fprintf(stderr, "record kind %u len %u: rx %+ld tx %+ld decap %+ld encap %+ld punted %+ld icmp %+ld mss %+ld",
		kind % 4, len, (long)(now->rx_packets - before->rx_packets), (long)(now->tx_packets - before->tx_packets),
		(long)(now->decap_packets - before->decap_packets), (long)(now->encap_packets - before->encap_packets),
		(long)(now->punted - before->punted), (long)(now->icmp_sent - before->icmp_sent),
		(long)(now->mss_clamped - before->mss_clamped));
	for (unsigned i = 0; i < MG_DROP_MAX; i++)
		if (now->drops[i] != before->drops[i])
			fprintf(stderr, " drop:%s", names[i]);
	fprintf(stderr, " staged %u\n", F.r.c->stage_head - F.r.c->stage_tail);
}

/* Every frame is in the pool or staged (the stage queue is the only place a frame may wait). */
static void check_frames(void)
{
	uint32_t staged = F.r.c->stage_head - F.r.c->stage_tail;

	if (F.r.w->port.npool + staged != IO_NUM_FRAMES) {
		fprintf(stderr, "fuzz_worker: %u frames in the pool + %u staged != %u\n",
			F.r.w->port.npool, staged, IO_NUM_FRAMES);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int tracing = -1;
	struct mg_counters before = { 0 };
	size_t off = 1;
	bool burst;

	if (!F.r.dev)
		setup();
	if (tracing < 0)
		tracing = getenv("FUZZ_WORKER_TRACE") != NULL;
	if (size < 1)
		return 0;
	F.r.dev->snat = data[0] & 1;
	mg_rcu_assign_pointer(F.r.dev->filter, (data[0] & 2) ? F.filter : NULL);
	burst = data[0] & 4;
	for (unsigned r = 0; r < MAX_RECORDS && off + 3 <= size; r++) {
		uint8_t kind = data[off];
		uint32_t len = (uint32_t)data[off + 1] | (uint32_t)data[off + 2] << 8;
		const uint8_t *d = data + off + 3;

		if (tracing)
			before = *F.r.c->ctr;
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
		if (burst)
			continue;
		run();
		check_frames();
		if (tracing)
			trace(kind, len, &before);
	}
	if (burst) {
		run();
		check_frames();
	}
	return 0;
}
