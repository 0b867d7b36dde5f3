// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_sealpath - what the worker keeps between packets on the way into the tunnel is never
 * stale: the peer's endpoint and next hop and the outer IPv4 headers to it (its path cache), and
 * the nonces reserved per keypair of a burst. Over the memory port with two peers, and a third
 * whose path slot is the first one's:
 *
 *   a burst alternating between two peers and runs of one peer: every message goes to its own
 *   peer's endpoint, with a valid outer header, opens with that peer's key, and the nonces of
 *   each peer are distinct and consecutive in send order
 *   the endpoint changes (roaming, a control update) between bursts and between passes: the
 *   next packet goes to the new endpoint (port and address), header checksum valid
 *   the endpoint changes back to an earlier one: again the right one
 *   our listen port changes, or the gateway's MAC (a new snapshot): the outer headers follow
 *   each peer's sent bytes (whole messages) counted on the worker's own slot, or on the shared
 *   count for a worker numbered past the slots, and summed by peer_tx_bytes
 *   a packet past its keypair's nonce limit leaves the batch: the other peer's run behind it
 *   still goes to that peer's endpoint
 *   a packet dropped after its path was looked up leaves the next one's way right; over DERP
 *   each packet is relayed; when the peer roamed in between (within one pass), the later one
 *   goes to the new endpoint
 *   the path epoch wraps: an entry of the old numbering is not taken
 *   two peers sharing a path slot take turns in it within one batch (test_shared_slot)
 *   the peer's last traversal is moved on once a millisecond old, not every pass
 *   nonces come from the worker's block of the keypair's counters (test_nonce_blocks)
 *   a full pass (BURST frames) either way: every message sealed, or opened, with each peer's
 *   counters in order, and the batch-size histogram counting AEAD calls of at most
 *   AEAD_BURST_MAX (test_full_pass)
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "rcu.h"
#include "worker.h"
#include "wctx.h"
#include "io/mem.h"
#include "io/mem_router.h"
#include "crypto/aead.h"
#include "pkt.h"
#include "wireguard/messages.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

static struct mem_router R;
static struct mem_far far[3];         /* far[2]: its peer's path slot is far[0]'s */

struct sent {
	unsigned peer;                   /* whose key opened it (3: none) */
	uint8_t daddr[4];
	uint16_t dport, sport;
	uint8_t dmac[6];
	uint64_t counter;
	bool csum_ok;
};

/* PUNT_DERP_TX messages to each peer's DERP endpoint (pass() counts them). */
static unsigned relayed[3];

/* A LAN packet to the peer, its Ethernet header `off` bytes into a fresh frame. */
static void push_lan_at(unsigned peer, uint32_t off)
{
	struct mg_endpoint dst = { .family = AF_INET, .port = 9 };
	uint64_t base = io_frame_get(&R.w->port), a = base + off;
	uint8_t *f = io_port_data(&R.w->port, a);
	uint32_t plen = 40;

	memcpy(dst.addr, far[peer].tun_ip, 4);
	eth_build(f, mem_lan.router_mac, mem_lan.host_mac, AF_INET);
	ipudp_build(f + ETH_HLEN_, &dst, mem_lan.host_ip, 40000, plen);
	memset(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN, 0x5a, plen);
	CHECK(io_mem_rx_push(&R.w->port, a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + plen));
}

static void push_lan(unsigned peer)
{
	push_lan_at(peer, IO_RX_HEADROOM);
}

/* The peer's next data message, an empty keepalive, from src:port. */
static void push_keepalive(unsigned peer, const uint8_t src[4], uint16_t port)
{
	struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };
	uint64_t base = io_frame_get(&R.w->port), a = base + IO_RX_HEADROOM;
	uint8_t *f = io_port_data(&R.w->port, a);
	struct msg_data *m = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	struct aead_op op = { .key = far[peer].kp.send_key, .counter = far[peer].send_counter++,
			      .src = m->encrypted_data, .dst = m->encrypted_data, .len = 0 };

	m->header.type = htole32(MESSAGE_DATA);
	m->receiver_index = htole32(far[peer].kp.remote_index);
	m->counter = htole64(op.counter);
	aead_seal_burst(&op, 1);
	memcpy(us.addr, mem_lan.router_ip, 4);
	eth_build(f, mem_lan.router_mac, mem_lan.gw_mac, AF_INET);
	ipudp_build(f + ETH_HLEN_, &us, src, port, sizeof(*m) + AEAD_TAG_LEN);
	CHECK(io_mem_rx_push(&R.w->port, a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(*m) + AEAD_TAG_LEN));
}

/* One worker pass; what it transmitted, in order. */
static unsigned pass(struct sent *out, unsigned max)
{
	struct io_desc d[64];
	unsigned n, k = 0;

	wk_poll(R.c);
	mg_rcu_quiescent_state();
	while ((n = io_mem_tx_pop(&R.w->port, d, 64))) {
		for (unsigned i = 0; i < n; i++) {
			uint8_t *f = io_port_data(&R.w->port, d[i].addr);
			const struct iphdr *ip = (const void *)(f + ETH_HLEN_);
			const struct udphdr *udp = (const void *)(f + ETH_HLEN_ + IP4_HLEN);
			struct msg_data *m = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
			uint32_t clen = d[i].len - ETH_HLEN_ - IP4_HLEN - UDP_HLEN - sizeof(*m) - AEAD_TAG_LEN;
			struct sent s = { .peer = 3 };

			memcpy(s.daddr, &ip->daddr, 4);
			s.dport = ntohs(udp->dest);
			s.sport = ntohs(udp->source);
			memcpy(s.dmac, f, 6);
			s.counter = le64toh(m->counter);
			s.csum_ok = ip4_header_csum(ip) == 0 && ntohs(ip->tot_len) == d[i].len - ETH_HLEN_;
			for (unsigned p = 0; p < 3 && s.peer == 3; p++) {
				uint8_t copy[256];
				struct aead_op op = { .key = far[p].kp.recv_key, .counter = s.counter,
						      .src = m->encrypted_data, .dst = copy, .len = clen };

				if (clen <= sizeof(copy) - AEAD_TAG_LEN &&
				    le32toh(m->receiver_index) == far[p].kp.local_index &&
				    aead_open_burst(&op, 1) == 1)
					s.peer = p;
			}
			if (k < max)
				out[k++] = s;
			io_frame_put(&R.w->port, d[i].addr);
		}
	}
	for (struct punt_msg *m; (m = ring_peek(&R.w->punt)); ring_release(&R.w->punt))
		for (unsigned p = 0; p < 3; p++)
			relayed[p] += m->kind == PUNT_DERP_TX && mg_endpoint_is_derp(&m->src) &&
				      !memcmp(m->peer_key, far[p].peer->public_key, 32);
	return k;
}

static void set_ep(unsigned peer, const uint8_t addr[4], uint16_t port)
{
	struct mg_endpoint ep = { .family = AF_INET, .port = port };

	memcpy(ep.addr, addr, 4);
	peer_endpoint_set(far[peer].peer, &ep);
}

/* The gateway's MAC in the LAN snapshot (mem_router_set_gw_mac changes it). */
static uint8_t gw_mac[6];

static bool went_to(const struct sent *s, unsigned peer, const uint8_t addr[4], uint16_t port)
{
	return s->peer == peer && !memcmp(s->daddr, addr, 4) && s->dport == port && s->csum_ok &&
	       !memcmp(s->dmac, gw_mac, 6);
}

/* LAN packets to the peers in order[0..n) in one pass; what went out. */
static unsigned push_pass(struct sent *s, const unsigned *order, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		push_lan(order[i]);
	return pass(s, BURST);
}

/* n LAN packets to peer 1 in one pass: all sealed, for peer 1, with counters first, first + 1, ... */
static bool sent_in_order(struct sent *s, unsigned n, uint64_t first)
{
	bool ok;

	for (unsigned i = 0; i < n; i++)
		push_lan(1);
	ok = pass(s, BURST) == n;
	for (unsigned i = 0; ok && i < n; i++)
		ok = went_to(&s[i], 1, far[1].ep_ip, MEM_FAR_PORT) && s[i].counter == first + i;
	return ok;
}

/*
 * Nonces: the worker takes SEAL_NONCE_BLOCK of the keypair's counters at once and hands them
 * out in order across passes; a counter taken by someone else (control's keepalive) is never
 * handed out again; a block the keypair's counter has passed by more than SEAL_NONCE_STALE
 * (other workers' blocks, a long quiet spell with keepalives) is let go, and so is a block of
 * another keypair, even at the same address; a batch larger than what is left takes a new
 * block; a worker numbered past the slots takes each batch's counters from the keypair.
 */
static void test_nonce_blocks(struct sent *s)
{
	struct keypair *kp = far[1].peer->cur;
	_Atomic uint64_t *counter = &kp->nk.send_counter;
	uint64_t c0, k;

	/* as if other workers had taken blocks since: the worker's block is too far behind */
	c0 = atomic_load(counter) + SEAL_NONCE_STALE + 1;
	atomic_store(counter, c0);
	CHECK(sent_in_order(s, 3, c0));
	CHECK(atomic_load(counter) == c0 + SEAL_NONCE_BLOCK);
	/* control's keepalive takes the counter after the block; the block goes on */
	k = atomic_fetch_add(counter, 1);
	CHECK(k == c0 + SEAL_NONCE_BLOCK);
	CHECK(sent_in_order(s, 2, c0 + 3));
	/* the block's last counters, then a new block past the keepalive's */
	CHECK(sent_in_order(s, SEAL_NONCE_BLOCK - 5, c0 + 5));
	CHECK(atomic_load(counter) == k + 1);
	CHECK(sent_in_order(s, 1, k + 1));
	CHECK(atomic_load(counter) == k + 1 + SEAL_NONCE_BLOCK);
	/* a block's worth of packets with one counter fewer left in the block: a new block */
	CHECK(sent_in_order(s, SEAL_NONCE_BLOCK, k + 1 + SEAL_NONCE_BLOCK));
	CHECK(atomic_load(counter) == k + 1 + 2 * SEAL_NONCE_BLOCK);
	/* a block with counters left, then another keypair at the same address, its counter within
	 * the stale bound of that block: its own counter, not the old block's */
	c0 = atomic_load(counter);
	CHECK(sent_in_order(s, 1, c0));
	c0 += 10;
	atomic_store(counter, c0);
	kp->serial = keypair_new_serial();
	CHECK(sent_in_order(s, 2, c0));
	CHECK(atomic_load(counter) == c0 + SEAL_NONCE_BLOCK);
	/* the same keypair with the counter moved back (only a test does that): a new block */
	atomic_store(counter, 7);
	CHECK(sent_in_order(s, 1, 7));
	/* a worker numbered past the slots: the batch's counters straight from the keypair */
	R.w->id = PEER_BYTE_SLOTS;
	c0 = atomic_load(counter);
	CHECK(sent_in_order(s, 2, c0));
	CHECK(atomic_load(counter) == c0 + 2);
	R.w->id = 0;
}

/*
 * Peers whose ids share a path slot (far[0] and far[2]) take turns in it within one batch:
 * each packet still goes to its own peer's endpoint, with its own key, its nonces in order;
 * then each roams, and the next batch follows both.
 */
static void test_shared_slot(struct sent *s)
{
	static const uint8_t away[2][4] = { { 203, 0, 113, 70 }, { 203, 0, 113, 72 } };
	const unsigned order[] = { 0, 2, 0, 2, 2, 1, 0, 2, 0 };
	const unsigned n = sizeof(order) / sizeof(order[0]);
	uint64_t next[3] = { UINT64_MAX, UINT64_MAX, UINT64_MAX };

	CHECK(far[2].peer->id % WK_PATH_SLOTS == far[0].peer->id % WK_PATH_SLOTS);
	CHECK(push_pass(s, order, n) == n);
	for (unsigned i = 0; i < n; i++) {
		unsigned p = order[i];

		CHECK(went_to(&s[i], p, far[p].ep_ip, MEM_FAR_PORT));
		if (next[p] == UINT64_MAX)       /* its first: from the worker's block */
			next[p] = s[i].counter;
		CHECK(s[i].counter == next[p]++);
	}
	set_ep(0, away[0], 6000);
	set_ep(2, away[1], 6002);
	CHECK(push_pass(s, order, n) == n);
	for (unsigned i = 0; i < n; i++) {
		unsigned p = order[i];

		if (p == 1)
			CHECK(went_to(&s[i], 1, far[1].ep_ip, MEM_FAR_PORT));
		else
			CHECK(went_to(&s[i], p, away[p / 2], (uint16_t)(6000 + p)));
	}
	set_ep(0, far[0].ep_ip, MEM_FAR_PORT);
	set_ep(2, far[2].ep_ip, MEM_FAR_PORT);
}

/* The AEAD calls the batch-size histogram has counted so far. */
static uint64_t hist_calls(void)
{
	uint64_t n = 0;

	for (unsigned b = 0; b < MG_BATCH_BUCKETS; b++)
		n += R.c->ctr->batch_hist[b];
	return n;
}

/*
 * A pass of BURST LAN packets alternating between two peers (1 and 2: peer 0's keypair was used
 * up above) is one seal batch: every packet sealed, each peer's counters consecutive in send
 * order, the AEAD called per AEAD_BURST_MAX. A pass of 200 of their messages is several open
 * batches (OPEN_BATCH each): every one authenticated, none refused as a replay.
 */
static void test_full_pass(struct sent *s)
{
	uint64_t next[3] = { UINT64_MAX, UINT64_MAX, UINT64_MAX }, calls = hist_calls();
	uint64_t top = R.c->ctr->batch_hist[6], sum = R.c->ctr->batch_sum;
	uint64_t decap = R.c->ctr->decap_packets, ka = R.c->ctr->keepalives_rx;
	unsigned n;

	_Static_assert(AEAD_BURST_MAX == 64 && MG_BATCH_BUCKETS == 7 && BURST % 64 == 0,
		       "test_full_pass: bucket 6 holds the calls of 64");
	for (unsigned i = 0; i < BURST; i++)
		push_lan(1 + i % 2);
	n = pass(s, BURST);
	CHECK(n == BURST);
	for (unsigned i = 0; i < n; i++) {
		unsigned p = 1 + i % 2;

		CHECK(went_to(&s[i], p, far[p].ep_ip, MEM_FAR_PORT));
		if (next[p] == UINT64_MAX)
			next[p] = s[i].counter;
		CHECK(s[i].counter == next[p]++);
	}
	CHECK(hist_calls() == calls + BURST / AEAD_BURST_MAX && R.c->ctr->batch_hist[6] == top + BURST / 64);
	CHECK(R.c->ctr->batch_sum == sum + BURST);

	calls = hist_calls();
	sum = R.c->ctr->batch_sum;
	for (unsigned i = 0; i < 200; i++)
		push_keepalive(1 + i % 2, far[1 + i % 2].ep_ip, MEM_FAR_PORT);
	CHECK(pass(s, BURST) == 0);
	CHECK(R.c->ctr->decap_packets == decap + 200 && R.c->ctr->keepalives_rx == ka + 200);
	CHECK(hist_calls() == calls + (200 + OPEN_BATCH - 1) / OPEN_BATCH && R.c->ctr->batch_sum == sum + 200);
}

int main(void)
{
	static const uint8_t roam[4] = { 203, 0, 113, 7 };
	const unsigned order[] = { 0, 1, 0, 0, 0, 1, 1, 0, 1, 0 };
	const unsigned n = sizeof(order) / sizeof(order[0]);
	struct sent s[BURST];         /* a pass's most */
	uint64_t next[2], bytes[2] = { 0 }, d, t0, t;
	uint8_t derp[4];
	struct mg_counters ctr;
	/* 68-byte packets: a 16-byte header, padded to 80, a 16-byte tag */
	const uint64_t mlen = 16 + 80 + 16;

	if (sodium_init() < 0 || aead_init("auto"))
		return 1;
	mg_rcu_register_thread();
	memcpy(gw_mac, mem_lan.gw_mac, 6);
	if (mem_router_init(&R, "sealpath0", 1280) || mem_router_add_peer(&R, 0, true, &far[0]) ||
	    mem_router_add_peer(&R, 1, true, &far[1]))
		return printf("FAIL: in-memory router\n"), 1;
	/* peers made and let go until the next one's id is far[0]'s in the path slots' ring */
	for (;;) {
		uint8_t key[32] = { 0 };
		struct peer *d = peer_new(key);

		if (!d)
			return printf("FAIL: peer_new\n"), 1;
		peer_retire(&R.dev->index, d);
		if ((d->id + 1) % WK_PATH_SLOTS == far[0].peer->id % WK_PATH_SLOTS)
			break;
	}
	if (mem_router_add_peer(&R, 2, true, &far[2]))
		return printf("FAIL: in-memory router\n"), 1;

	/* interleaved and in runs: each to its own endpoint, nonces per peer consecutive */
	for (unsigned p = 0; p < 2; p++)
		next[p] = atomic_load(&far[p].peer->cur->nk.send_counter);
	CHECK(push_pass(s, order, n) == n);
	for (unsigned i = 0; i < n; i++) {
		unsigned p = order[i];

		CHECK(went_to(&s[i], p, far[p].ep_ip, MEM_FAR_PORT));
		CHECK(s[i].counter == next[p]);
		next[p]++;
		bytes[p] += mlen;
	}
	for (unsigned p = 0; p < 2; p++) {
		CHECK(peer_tx_bytes(far[p].peer) == bytes[p]);
		CHECK(atomic_load(&far[p].peer->wslot[R.w->id].tx) == bytes[p]);
		CHECK(atomic_load(&far[p].peer->tx_bytes) == 0);
	}

	/* a worker past the slots adds to the shared count; the sum holds both */
	R.w->id = PEER_BYTE_SLOTS + 3;
	push_lan(1);
	CHECK(pass(s, BURST) == 1);
	CHECK(atomic_load(&far[1].peer->tx_bytes) == mlen);
	CHECK(peer_tx_bytes(far[1].peer) == bytes[1] + mlen);
	CHECK(peer_tx_bytes(far[0].peer) == bytes[0]);
	R.w->id = 0;
	test_shared_slot(s);
	for (unsigned p = 0; p < 2; p++)
		next[p] = atomic_load(&far[p].peer->cur->nk.send_counter);

	/* peer 0 roams between passes: its next packet (first of a burst, then in a run, then
	 * after peer 1's) goes to the new endpoint; peer 1 is unaffected */
	set_ep(0, roam, 4444);
	push_lan(0);
	push_lan(0);
	push_lan(1);
	push_lan(0);
	CHECK(pass(s, BURST) == 4);
	CHECK(went_to(&s[0], 0, roam, 4444));
	CHECK(went_to(&s[1], 0, roam, 4444));
	CHECK(went_to(&s[2], 1, far[1].ep_ip, MEM_FAR_PORT));
	CHECK(went_to(&s[3], 0, roam, 4444));

	/* only the port changes: the template must not keep the old one */
	set_ep(0, roam, 4445);
	push_lan(0);
	CHECK(pass(s, BURST) == 1);
	CHECK(went_to(&s[0], 0, roam, 4445));

	/* and back to where it was first */
	set_ep(0, far[0].ep_ip, MEM_FAR_PORT);
	push_lan(1);
	push_lan(0);
	CHECK(pass(s, BURST) == 2);
	CHECK(went_to(&s[0], 1, far[1].ep_ip, MEM_FAR_PORT));
	CHECK(went_to(&s[1], 0, far[0].ep_ip, MEM_FAR_PORT));

	/* our listen port changes (wg set listen-port) with the endpoints unchanged: the templates
	 * follow it, and again when it changes back */
	atomic_store(&R.dev->listen_port, MEM_LISTEN_PORT + 1);
	push_lan(0);
	push_lan(0);
	push_lan(1);
	CHECK(pass(s, BURST) == 3);
	for (unsigned i = 0; i < 3; i++)
		CHECK(went_to(&s[i], i / 2, far[i / 2].ep_ip, MEM_FAR_PORT) && s[i].sport == MEM_LISTEN_PORT + 1);
	atomic_store(&R.dev->listen_port, MEM_LISTEN_PORT);
	push_lan(0);
	CHECK(pass(s, BURST) == 1 && went_to(&s[0], 0, far[0].ep_ip, MEM_FAR_PORT) && s[0].sport == MEM_LISTEN_PORT);
	/* the gateway's MAC changes (a new snapshot), the endpoints and our port do not: the
	 * templates follow it */
	gw_mac[5] ^= 0x5a;
	CHECK(mem_router_set_gw_mac(&R, gw_mac) == 0);
	push_lan(0);
	push_lan(1);
	push_lan(1);
	CHECK(pass(s, BURST) == 3);
	for (unsigned i = 0; i < 3; i++)
		CHECK(went_to(&s[i], i > 0, far[i > 0].ep_ip, MEM_FAR_PORT));

	/* the path epoch wraps as the snapshot changes: an entry numbered 1 from before (as after
	 * 2^32 changes) is not taken for one of the new epoch 1 */
	push_lan(0);
	CHECK(pass(s, BURST) == 1 && went_to(&s[0], 0, far[0].ep_ip, MEM_FAR_PORT));
	R.c->path[far[0].peer->id % WK_PATH_SLOTS].epoch = 1;
	R.c->path_epoch = UINT32_MAX;
	gw_mac[5] ^= 0x0f;
	CHECK(mem_router_set_gw_mac(&R, gw_mac) == 0);
	push_lan(0);
	CHECK(pass(s, BURST) == 1 && went_to(&s[0], 0, far[0].ep_ip, MEM_FAR_PORT));
	CHECK(R.c->path_epoch == 1);

	/* Peer 0's packet without headroom for the outer headers is dropped after its path was
	 * looked up: the next one, first in the batch or behind peer 1's, still goes to peer 0. */
	push_lan(1);
	CHECK(pass(s, BURST) == 1 && went_to(&s[0], 1, far[1].ep_ip, MEM_FAR_PORT));
	d = R.c->ctr->drops[MG_DROP_TOO_BIG];
	push_lan_at(0, 2);      /* IPv4 header 4-byte aligned, as every port delivers */
	push_lan(0);
	CHECK(pass(s, BURST) == 1 && went_to(&s[0], 0, far[0].ep_ip, MEM_FAR_PORT));
	push_lan(1);
	push_lan_at(0, 2);
	push_lan(0);
	CHECK(pass(s, BURST) == 2 && went_to(&s[0], 1, far[1].ep_ip, MEM_FAR_PORT) &&
	      went_to(&s[1], 0, far[0].ep_ip, MEM_FAR_PORT));
	CHECK(R.c->ctr->drops[MG_DROP_TOO_BIG] == d + 2);
	/* peer 0 reached through DERP: packets behind peer 1's, every one relayed; the worker
	 * counts all four sealed, three relayed, one sent (its whole frame) */
	memcpy(derp, (const uint8_t[4]){ 127, 3, 3, 40 }, 4);
	set_ep(0, derp, 9);
	ctr = R.c->ctr[0];
	push_lan(1);
	push_lan(0);
	push_lan(0);
	push_lan(0);
	CHECK(pass(s, BURST) == 1 && went_to(&s[0], 1, far[1].ep_ip, MEM_FAR_PORT));
	CHECK(relayed[0] == 3 && relayed[1] == 0);
	CHECK(R.c->ctr->encap_packets == ctr.encap_packets + 4 && R.c->ctr->encap_bytes == ctr.encap_bytes + 4 * mlen);
	CHECK(R.c->ctr->encap_packets_derp == ctr.encap_packets_derp + 3 &&
	      R.c->ctr->encap_bytes_derp == ctr.encap_bytes_derp + 3 * mlen);
	CHECK(R.c->ctr->tx_packets == ctr.tx_packets + 1 &&
	      R.c->ctr->tx_bytes == ctr.tx_bytes + ETH_HLEN_ + IP4_HLEN + UDP_HLEN + mlen);
	set_ep(0, far[0].ep_ip, MEM_FAR_PORT);
	/* the endpoint changes within a batch: a packet staged for want of a session joins the
	 * batch behind one to the same peer after that peer roamed (its keepalive from a new
	 * source, opened between the burst and the staged retries of the same pass): it goes to
	 * the new endpoint */
	atomic_store(&far[0].peer->cur->dead, true);
	push_lan(0);
	CHECK(pass(s, BURST) == 0);
	atomic_store(&far[0].peer->cur->dead, false);
	usleep(2 * STAGE_RETRY_NS / 1000);
	push_lan(0);
	push_keepalive(0, roam, 5555);
	CHECK(pass(s, BURST) == 2);
	CHECK(went_to(&s[0], 0, far[0].ep_ip, MEM_FAR_PORT));
	CHECK(went_to(&s[1], 0, roam, 5555));
	set_ep(0, far[0].ep_ip, MEM_FAR_PORT);

	/* peer 0's keypair runs out of nonces in a burst ahead of a run of peer 1's packets: the
	 * packet past the limit waits for a new session, and peer 1's run, moved up in the batch
	 * after it left, still goes to peer 1's endpoint */
	atomic_store(&far[0].peer->cur->nk.send_counter, REJECT_AFTER_MESSAGES - 1);
	next[1] = far[1].peer->wslot[R.w->id].nonce_next;      /* the worker's block (below) */
	push_lan(0);
	push_lan(0);
	push_lan(1);
	push_lan(1);
	push_lan(1);
	CHECK(pass(s, BURST) == 4);
	CHECK(went_to(&s[0], 0, far[0].ep_ip, MEM_FAR_PORT) && s[0].counter == REJECT_AFTER_MESSAGES - 1);
	for (unsigned i = 1; i < 4; i++)
		CHECK(went_to(&s[i], 1, far[1].ep_ip, MEM_FAR_PORT) && s[i].counter == next[1] + i - 1);
	CHECK(atomic_load(&far[0].peer->cur->dead));

	/* the last traversal (persistent keepalive) moves on once a millisecond old, so that the
	 * workers sending to a peer do not write its timer line every pass: sending refreshed it;
	 * younger than the grain it is left, older it is moved on, either way; one ahead of the
	 * caller's clock (control's, taken later) is replaced as before */
	t0 = atomic_load(&far[0].peer->ev_last_traversal);
	t = t0 + 5 * NSEC_PER_SEC;
	CHECK(t0 && t0 <= mg_now());
	peer_ev_auth_tx(far[0].peer, t, true);
	CHECK(atomic_load(&far[0].peer->ev_last_traversal) == t);
	peer_ev_auth_rx(far[0].peer, t + PEER_TRAVERSAL_GRAIN_NS - 1, true);
	peer_ev_auth_tx(far[0].peer, t + PEER_TRAVERSAL_GRAIN_NS - 1, true);
	CHECK(atomic_load(&far[0].peer->ev_last_traversal) == t);
	peer_ev_auth_rx(far[0].peer, t + PEER_TRAVERSAL_GRAIN_NS, true);
	CHECK(atomic_load(&far[0].peer->ev_last_traversal) == t + PEER_TRAVERSAL_GRAIN_NS);
	peer_ev_auth_tx(far[0].peer, t + 3 * PEER_TRAVERSAL_GRAIN_NS, false);
	CHECK(atomic_load(&far[0].peer->ev_last_traversal) == t + 3 * PEER_TRAVERSAL_GRAIN_NS);
	peer_ev_auth_tx(far[0].peer, t + 2 * PEER_TRAVERSAL_GRAIN_NS, true);
	CHECK(atomic_load(&far[0].peer->ev_last_traversal) == t + 2 * PEER_TRAVERSAL_GRAIN_NS);

	test_nonce_blocks(s);
	test_full_pass(s);

	if (mem_router_free(&R))
		CHECK(!"frames leaked");
	mg_rcu_unregister_thread();
	printf("test_sealpath: %d/%d checks passed\n", checks - failures, checks);
	return failures ? 1 : 0;
}
