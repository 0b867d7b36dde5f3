// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_stage.c - packets waiting for a next hop's MAC, over the memory port (io/mem_router.h)
 * with one peer holding a live session. The peer sends a flood towards a LAN address whose
 * neighbour never resolves (192.168.77.50), then one packet towards another (.51); the worker
 * runs its 1 ms retries for a while. What must hold:
 *
 *   1  the flood keeps at most STAGE_PER_NEIGH packets staged; the rest is stage_full
 *   2  the other destination's packet is still staged (the flood did not take the queue)
 *   3  resolve requests to control: at most one per destination per RESOLVE_INTERVAL_NS,
 *      however many packets wait and however often they are retried; the rest are counted
 *   4  the punt ring that carries handshakes never overflowed (punt_full = 0)
 *   5  every frame comes back to the pool at the end
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <urcu-qsbr.h>
#include "worker.h"
#include "io/mem.h"
#include "io/mem_router.h"
#include "crypto/aead.h"
#include "pkt.h"
#include "wireguard/messages.h"

static int failures, checks;
#define CHECK(c, ...) do { checks++; if (!(c)) { failures++; printf("FAIL %s:%d: %s: ", __FILE__, __LINE__, #c); \
	printf(__VA_ARGS__); printf("\n"); } } while (0)

#define FLOOD 400u
#define RUN_MS 250u

static struct mem_router R;
static struct mem_far far;
static unsigned resolves[256];       /* resolve requests seen, by last byte of the next hop */

/* A data message from the far end carrying a UDP packet to 192.168.77.@host. */
static void push_tunnel(uint8_t host)
{
	struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };
	struct mg_endpoint to = { .family = AF_INET, .port = 9, .addr = { 192, 168, 77, host } };
	uint64_t base = io_frame_get(&R.w->port), a = base + IO_RX_HEADROOM;
	uint8_t *f = io_port_data(&R.w->port, a);
	struct msg_data *m = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	uint32_t ilen = IP4_HLEN + UDP_HLEN + 32;
	struct aead_op op = { .key = far.kp.send_key, .counter = far.send_counter++,
			      .src = m->encrypted_data, .dst = m->encrypted_data, .len = ilen };

	CHECK(base != UINT64_MAX, "memory port out of frames");
	ipudp_build(m->encrypted_data, &to, far.tun_ip, 4000, 32);
	memset(m->encrypted_data + IP4_HLEN + UDP_HLEN, 0x5a, 32);
	m->header.type = htole32(MESSAGE_DATA);
	m->receiver_index = htole32(far.kp.remote_index);
	m->counter = htole64(op.counter);
	aead_seal_burst(&op, 1);
	memcpy(us.addr, mem_lan.router_ip, 4);
	eth_build(f, mem_lan.router_mac, mem_lan.gw_mac, AF_INET);
	ipudp_build(f + ETH_HLEN_, &us, far.ep_ip, MEM_FAR_PORT, sizeof(*m) + ilen + AEAD_TAG_LEN);
	CHECK(io_mem_rx_push(&R.w->port, a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(*m) + ilen + AEAD_TAG_LEN),
	      "rx queue full");
}

/* One pass of the worker; what it punted is read off the ring as control would. */
static void poll_once(void)
{
	struct io_desc out[64];
	struct punt_msg *m;
	unsigned n;

	wk_poll(R.c);
	rcu_quiescent_state();
	while ((n = io_mem_tx_pop(&R.w->port, out, 64)))
		for (unsigned i = 0; i < n; i++)
			io_frame_put(&R.w->port, out[i].addr);
	while ((m = ring_peek(&R.w->punt))) {
		if (m->kind == PUNT_RESOLVE && m->src.family == AF_INET)
			resolves[m->src.addr[3]]++;
		ring_release(&R.w->punt);
	}
}

static uint64_t drops(enum mg_drop why)
{
	return R.c->ctr->drops[why];
}

int main(void)
{
	uint64_t t0;
	unsigned staged;

	if (sodium_init() < 0 || aead_init("auto"))
		return 1;
	rcu_register_thread();
	if (mem_router_init(&R, "stage0", 1280) || mem_router_add_peer(&R, 0, true, &far))
		return printf("FAIL: in-memory router\n"), 1;

	for (unsigned i = 0; i < FLOOD; i++) {
		push_tunnel(50);
		if (i % 32 == 31)
			poll_once();
	}
	push_tunnel(51);
	t0 = mg_now();
	while (mg_now() - t0 < RUN_MS * NSEC_PER_MSEC) {
		poll_once();
		usleep(200);
	}
	staged = R.c->stage_head - R.c->stage_tail;
	printf("# %u packets to an unresolved neighbour, one to another: %u staged, stage_full %lu, "
	       "resolve requests %u and %u, %lu suppressed, punt_full %lu\n", FLOOD, staged,
	       (unsigned long)drops(MG_DROP_STAGE_FULL), resolves[50], resolves[51],
	       (unsigned long)R.c->ctr->resolve_suppressed, (unsigned long)drops(MG_DROP_PUNT_FULL));
	CHECK(staged == STAGE_PER_NEIGH + 1, "%u staged, want %u", staged, STAGE_PER_NEIGH + 1);            /* 1, 2 */
	CHECK(drops(MG_DROP_STAGE_FULL) == FLOOD - STAGE_PER_NEIGH, "stage_full %lu",
	      (unsigned long)drops(MG_DROP_STAGE_FULL));
	CHECK(resolves[51] >= 1, "the second destination was never asked for");
	/* 3: one at the start, then at most one per interval over the run (rounded up, plus one for
	 * the clock's granularity). */
	CHECK(resolves[50] <= 2 + RUN_MS * NSEC_PER_MSEC / RESOLVE_INTERVAL_NS, "%u resolve requests for .50",
	      resolves[50]);
	CHECK(resolves[51] <= 2 + RUN_MS * NSEC_PER_MSEC / RESOLVE_INTERVAL_NS, "%u resolve requests for .51",
	      resolves[51]);
	CHECK(R.c->ctr->resolve_suppressed > 0, "no suppressed request counted");
	CHECK(R.c->ctr->resolve_requests == resolves[50] + resolves[51], "resolve_requests %lu, punted %u",
	      (unsigned long)R.c->ctr->resolve_requests, resolves[50] + resolves[51]);
	CHECK(drops(MG_DROP_PUNT_FULL) == 0, "punt_full %lu", (unsigned long)drops(MG_DROP_PUNT_FULL));   /* 4 */

	CHECK(mem_router_free(&R) == 0, "frames lost");                                                  /* 5 */
	rcu_unregister_thread();
	printf("stage: %d checks, %d failures\n", checks, failures);
	return failures != 0;
}
