// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_keyage.c - the worker's session-age rules with an injected clock (the
 * kernel's timers and WireGuard's key-age constants): the real wk_poll over a memory port (io/mem_router.h) with one peer
 * whose session came from a real handshake, the router initiating; the session's birth is moved
 * back instead of waiting.
 *
 *   send, age < 120 s            sealed and sent, no rekey asked
 *   send and receive, born after the pass's clock   age 0: sealed, opened, no rekey asked
 *   send, 120 s <= age < 180 s   still sealed with the old key (the peer can open it) and a rekey
 *                                asked: the "dead window" just before 180 s loses nothing (#7)
 *   send, age >= 180 s           nothing sent on the dead key: staged for the new session
 *   send, counter past REKEY_AFTER_MESSAGES   rekey asked; at REJECT_AFTER_MESSAGES not sent
 *   receive, age >= 165 s        the last-minute rekey is asked once (initiator side)
 *   receive, age >= 180 s        dropped as expired_key
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "rcu.h"
#include "worker.h"
#include "io/mem.h"
#include "io/mem_router.h"
#include "crypto/aead.h"
#include "pkt.h"
#include "wireguard/messages.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

static struct mem_router R;
static struct mem_far far;

static struct keypair *cur(void)
{
	return far.peer->cur;
}

/* Moves the router's current session's birth @age_s seconds into the past. A live keypair's
 * birth never changes, so the worker's memos keep its expiry while the peers' generation holds:
 * the generation moves on, as for a keypair installed that long ago. */
static void age(double age_s)
{
	cur()->nk.birthdate_ns = mg_now() - (int64_t)(age_s * NSEC_PER_SEC);
	peer_gen_bump();
	atomic_store(&far.peer->want_handshake, false);
	atomic_store(&cur()->nk.sent_lastminute_handshake, false);
}

static bool wants_handshake(void)
{
	return atomic_load(&far.peer->want_handshake);
}

static uint8_t *frame_new(uint64_t *addr)
{
	uint64_t base = io_frame_get(&R.w->port);

	*addr = base + IO_RX_HEADROOM;
	return base == UINT64_MAX ? NULL : io_port_data(&R.w->port, *addr);
}

/* Runs the worker and returns what it sent: the data messages to our peer, opened with the far
 * end's key (-1 for a message that does not open), in @ok; the count in the return value. */
static unsigned run(int *opened)
{
	struct io_desc out[64];
	unsigned n, sent = 0;

	*opened = 0;
	for (int spin = 0; spin < 4; spin++) {
		wk_poll(R.c);
		mg_rcu_quiescent_state();
		while ((n = io_mem_tx_pop(&R.w->port, out, 64))) {
			for (unsigned i = 0; i < n; i++) {
				uint8_t *f = io_port_data(&R.w->port, out[i].addr);
				struct msg_data *m = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
				uint32_t clen = out[i].len - ETH_HLEN_ - IP4_HLEN - UDP_HLEN - sizeof(*m);

				if (out[i].len > ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(*m) &&
				    m->header.type == htole32(MESSAGE_DATA) &&
				    le32toh(m->receiver_index) == far.kp.local_index) {
					struct aead_op op = { .key = far.kp.recv_key, .counter = le64toh(m->counter),
							      .src = m->encrypted_data, .dst = m->encrypted_data,
							      .len = clen - AEAD_TAG_LEN };

					sent++;
					*opened += aead_open_burst(&op, 1) == 1 ? 1 : -1;
				}
				io_frame_put(&R.w->port, out[i].addr);
			}
		}
		while (ring_peek(&R.w->punt))
			ring_release(&R.w->punt);
	}
	return sent;
}

/* k UDP packets from the LAN host to the peer's tailnet address, in one burst; what the
 * worker sent for them. */
static unsigned send_lan_burst(unsigned k, int *opened)
{
	struct mg_endpoint dst = { .family = AF_INET, .port = 9 };
	uint32_t plen = 100;

	memcpy(dst.addr, far.tun_ip, 4);
	for (unsigned i = 0; i < k; i++) {
		uint64_t a;
		uint8_t *f = frame_new(&a);

		eth_build(f, mem_lan.router_mac, mem_lan.host_mac, AF_INET);
		ipudp_build(f + ETH_HLEN_, &dst, mem_lan.host_ip, 40000, plen);
		memset(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN, 0xa5, plen);
		CHECK(io_mem_rx_push(&R.w->port, a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + plen));
	}
	return run(opened);
}

static unsigned send_lan(int *opened)
{
	return send_lan_burst(1, opened);
}

/* The peer's next data message (an empty keepalive) arriving from its endpoint. */
static void recv_tunnel(void)
{
	struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };
	uint64_t a;
	uint8_t *f = frame_new(&a);
	struct msg_data *m = (void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	struct aead_op op = { .key = far.kp.send_key, .counter = far.send_counter++,
			      .src = m->encrypted_data, .dst = m->encrypted_data, .len = 0 };
	int opened;

	m->header.type = htole32(MESSAGE_DATA);
	m->receiver_index = htole32(far.kp.remote_index);
	m->counter = htole64(op.counter);
	aead_seal_burst(&op, 1);
	memcpy(us.addr, mem_lan.router_ip, 4);
	eth_build(f, mem_lan.router_mac, mem_lan.gw_mac, AF_INET);
	ipudp_build(f + ETH_HLEN_, &us, far.ep_ip, MEM_FAR_PORT, sizeof(*m) + AEAD_TAG_LEN);
	CHECK(io_mem_rx_push(&R.w->port, a, ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(*m) + AEAD_TAG_LEN));
	run(&opened);
}

/* A packet staged for want of a session leaves, sealed, once the session is usable again (the
 * session is made young here, as a new handshake would). */
static bool released_n_with_fresh_session(unsigned k)
{
	int opened;
	unsigned n;

	age(1);
	usleep(2 * STAGE_RETRY_NS / 1000);
	n = run(&opened);
	return n == k && opened == (int)k;
}

static bool released_with_fresh_session(void)
{
	return released_n_with_fresh_session(1);
}

static uint64_t drops(enum mg_drop why)
{
	return R.c->ctr->drops[why];
}

int main(void)
{
	int opened;
	uint64_t d;

	if (sodium_init() < 0 || aead_init("auto"))
		return 1;
	mg_rcu_register_thread();
	if (mem_router_init(&R, "keyage0", 1280) || mem_router_add_peer(&R, 0, true, &far))
		return printf("FAIL: in-memory router\n"), 1;
	CHECK(cur() && cur()->nk.i_am_initiator);

	age(1);
	CHECK(send_lan(&opened) == 1 && opened == 1);
	CHECK(!wants_handshake());

	/* a session born after the pass's clock was read (control publishes it while a pass runs):
	 * age 0, not 584 years; sealed, no rekey asked, and a message under it is opened */
	age(-0.5);
	d = drops(MG_DROP_EXPIRED_KEY);
	CHECK(send_lan(&opened) == 1 && opened == 1);
	CHECK(!wants_handshake());
	recv_tunnel();
	CHECK(drops(MG_DROP_EXPIRED_KEY) == d);
	CHECK(!wants_handshake());

	age(125);
	CHECK(send_lan(&opened) == 1 && opened == 1);
	CHECK(wants_handshake());

	/* the dead window: idle since 171..179 s, the first packet still arrives */
	for (double s = 171; s < 180; s += 2) {
		age(s);
		CHECK(send_lan(&opened) == 1 && opened == 1);
		CHECK(wants_handshake());
	}

	age(180.5);
	d = drops(MG_DROP_STAGE_FULL) + drops(MG_DROP_NO_SESSION);
	CHECK(send_lan(&opened) == 0);
	CHECK(wants_handshake());
	CHECK(drops(MG_DROP_STAGE_FULL) + drops(MG_DROP_NO_SESSION) == d);   /* staged, not dropped */
	CHECK(released_with_fresh_session());

	/* message counts: past REKEY_AFTER_MESSAGES a rekey, at REJECT_AFTER_MESSAGES nothing */
	age(1);
	atomic_store(&cur()->nk.send_counter, REKEY_AFTER_MESSAGES + 1);
	CHECK(send_lan(&opened) == 1 && opened == 1);
	CHECK(wants_handshake());
	age(1);
	atomic_store(&cur()->nk.send_counter, REJECT_AFTER_MESSAGES);
	CHECK(send_lan(&opened) == 0);
	CHECK(wants_handshake());
	CHECK(atomic_load(&cur()->dead));                  /* the worker retired the key */
	/* stand in for the new session the handshake would bring */
	atomic_store(&cur()->dead, false);
	atomic_store(&cur()->nk.send_counter, 1000);
	CHECK(released_with_fresh_session());

	/* a burst across the limit (the worker reserves a burst's nonces at once): the one nonce
	 * below it is used, the other two packets wait for the new session, none is lost */
	age(1);
	atomic_store(&cur()->nk.send_counter, REJECT_AFTER_MESSAGES - 1);
	d = drops(MG_DROP_STAGE_FULL) + drops(MG_DROP_NO_SESSION);
	CHECK(send_lan_burst(3, &opened) == 1 && opened == 1);
	CHECK(atomic_load(&cur()->dead));
	CHECK(drops(MG_DROP_STAGE_FULL) + drops(MG_DROP_NO_SESSION) == d);
	atomic_store(&cur()->dead, false);
	atomic_store(&cur()->nk.send_counter, 2000);
	CHECK(released_n_with_fresh_session(2));

	/* receive side: the last-minute rekey at 165 s, once; expired at 180 s */
	age(160);
	recv_tunnel();
	CHECK(!wants_handshake());
	age(166);
	recv_tunnel();
	CHECK(wants_handshake());
	CHECK(atomic_load(&cur()->nk.sent_lastminute_handshake));
	atomic_store(&far.peer->want_handshake, false);
	recv_tunnel();
	CHECK(!wants_handshake());                         /* asked once per session */
	age(181);
	d = drops(MG_DROP_EXPIRED_KEY);
	recv_tunnel();
	CHECK(drops(MG_DROP_EXPIRED_KEY) == d + 1);

	age(1);
	CHECK(mem_router_free(&R) == 0);                   /* every frame back in the pool */
	mg_rcu_unregister_thread();
	printf("keyage: %d checks, %d failures\n", checks, failures);
	return failures != 0;
}
