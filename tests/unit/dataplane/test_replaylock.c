// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_replaylock - a keypair's replay window is one for all workers that open its messages,
 * and only the device's sole worker uses it without the lock. Over the memory port, one live
 * peer, its keepalives (data messages with nothing inside: authenticated and replay-checked):
 *
 *   two workers: a message opened by one is a replay for the other; while the window's lock is
 *   held elsewhere, a worker's pass with a message of that keypair waits for it, and accepts the
 *   message once it is released
 *   one worker: its pass does not take the lock (nobody else opens for the keypair; held by the
 *   test's own thread, a pass that took it would never return), and the window still refuses a
 *   repeat
 */
#include <pthread.h>
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

/* Peer 0's keepalive with counter ctr, into worker w's port. */
static void push_keepalive(struct mem_router *r, struct mem_far *far, unsigned w, uint64_t ctr)
{
	struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };
	struct io_port *port = &r->w[w].port;
	uint64_t a = io_frame_get(port) + IO_RX_HEADROOM;
	uint8_t *f = io_port_data(port, a);
	struct msg_data *m = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	struct aead_op op = { .key = far->kp.send_key, .counter = ctr,
			      .src = m->encrypted_data, .dst = m->encrypted_data, .len = 0 };

	m->header.type = htole32(MESSAGE_DATA);
	m->receiver_index = htole32(far->kp.remote_index);
	m->counter = htole64(ctr);
	aead_seal_burst(&op, 1);
	memcpy(us.addr, mem_lan.router_ip, 4);
	eth_build(f, mem_lan.router_mac, mem_lan.gw_mac, AF_INET);
	ipudp_build(f + ETH_HLEN_, &us, far->ep_ip, MEM_FAR_PORT, sizeof(*m) + AEAD_TAG_LEN);
	CHECK(io_mem_rx_push(port, a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(*m) + AEAD_TAG_LEN));
}

/* One pass of worker w, then its transmitted frames returned to the pool. */
static void pass(struct mem_router *r, unsigned w)
{
	struct io_desc d[64];
	unsigned n;

	wk_poll(r->cs[w]);
	mg_rcu_quiescent_state();
	while ((n = io_mem_tx_pop(&r->w[w].port, d, 64)))
		for (unsigned i = 0; i < n; i++)
			io_frame_put(&r->w[w].port, d[i].addr);
	for (struct punt_msg *m; (m = ring_peek(&r->w[w].punt)); ring_release(&r->w[w].punt))
		;
}

struct passer {
	struct mem_router *r;
	unsigned w;
	_Atomic bool done;
};

static void *pass_thread(void *arg)
{
	struct passer *p = arg;

	mg_rcu_register_thread();
	pass(p->r, p->w);
	atomic_store(&p->done, true);
	mg_rcu_unregister_thread();
	return NULL;
}

/* Worker w's pass on a thread of its own while this one holds kp's window lock for 200 ms;
 * whether it finished while the lock was held (it is joined after the lock is let go). */
static bool pass_under_lock(struct mem_router *r, unsigned w, struct keypair *kp)
{
	struct passer p = { .r = r, .w = w };
	pthread_t t;
	bool early;

	keypair_replay_lock(kp);
	mg_rcu_thread_offline();        /* the other thread's pass must not wait on this one */
	CHECK(pthread_create(&t, NULL, pass_thread, &p) == 0);
	usleep(200 * 1000);
	early = atomic_load(&p.done);
	keypair_replay_unlock(kp);
	pthread_join(t, NULL);
	mg_rcu_thread_online();
	return early;
}

static uint64_t decap(struct mem_router *r, unsigned w)
{
	return r->cs[w]->ctr->decap_packets;
}

static uint64_t replays(struct mem_router *r, unsigned w)
{
	return r->cs[w]->ctr->drops[MG_DROP_REPLAY];
}

static void two_workers(void)
{
	static struct mem_router R;
	struct mem_far far;
	struct keypair *kp;

	if (mem_router_init_workers(&R, "replaylk2", 1280, 2) || mem_router_add_peer(&R, 0, true, &far)) {
		CHECK(!"in-memory router with two workers");
		return;
	}
	kp = far.peer->cur;
	/* one window: counter 1 through worker 0, then the same through worker 1 */
	push_keepalive(&R, &far, 0, 1);
	pass(&R, 0);
	CHECK(decap(&R, 0) == 1);
	push_keepalive(&R, &far, 1, 1);
	pass(&R, 1);
	CHECK(decap(&R, 1) == 0 && replays(&R, 1) == 1);
	/* worker 1 waits for the lock, then takes counter 2 */
	push_keepalive(&R, &far, 1, 2);
	CHECK(!pass_under_lock(&R, 1, kp));
	CHECK(decap(&R, 1) == 1);
	if (mem_router_free(&R))
		CHECK(!"frames leaked (two workers)");
}

static void one_worker(void)
{
	static struct mem_router R;
	struct mem_far far;
	struct keypair *kp;

	if (mem_router_init(&R, "replaylk1", 1280) || mem_router_add_peer(&R, 0, true, &far)) {
		CHECK(!"in-memory router");
		return;
	}
	kp = far.peer->cur;
	/* the lock held by this thread: a pass that took it would never return */
	push_keepalive(&R, &far, 0, 1);
	keypair_replay_lock(kp);
	pass(&R, 0);
	keypair_replay_unlock(kp);
	CHECK(decap(&R, 0) == 1);
	push_keepalive(&R, &far, 0, 1);
	push_keepalive(&R, &far, 0, 2);
	pass(&R, 0);
	CHECK(decap(&R, 0) == 2 && replays(&R, 0) == 1);
	if (mem_router_free(&R))
		CHECK(!"frames leaked (one worker)");
}

int main(void)
{
	if (sodium_init() < 0 || aead_init("auto"))
		return 1;
	mg_rcu_register_thread();
	two_workers();
	one_worker();
	mg_rcu_unregister_thread();
	printf("test_replaylock: %d/%d checks passed\n", checks - failures, checks);
	return failures ? 1 : 0;
}
