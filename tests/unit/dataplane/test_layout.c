// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_layout - no cache line written on the fast path is shared between two workers, or between
 * a worker and the control thread (false sharing: each write would steal the line from the other
 * core). Checked from the types (offsetof, alignof, sizeof), so removing one alignment makes it
 * fail, and on real allocations (NAT pools, a worker context).
 *
 *   struct worker       per worker, in an array: the port's frame pool and the counters are
 *                       written by the worker; the rings' indices by one side each; stop by control.
 *   struct ring         head by the producer, tail by the consumer.
 *   struct mg_counters  one writer (the worker); the exporter only reads.
 *   struct nat_pool     per worker, in an array: the owner's free list and next port; the RCU
 *                       callback thread pushes freed flows to 'returned'.
 *   struct wctx         the worker's pass state, written every pass.
 *   struct keypair      shared by every worker sealing or opening for the peer: the keys and
 *                       indices are read for every run; the nonce counter is written by each
 *                       sealing worker, the replay window and its lock by the opening one.
 *   struct peer         the keypair pointers, "dead" and the endpoint are read for every run;
 *                       byte counts, timer events and "wants a handshake" are written for every
 *                       run; control's handshake and timer state is written by control; each
 *                       worker's own byte counts and nonce block (wslot) by that worker alone.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "device.h"
#include "nat.h"
#include "peer.h"
#include "wctx.h"

static int failed;

#define CHECK(cond, ...) do {                                   \
	if (!(cond)) {                                          \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__);                   \
		fprintf(stderr, "\n");                          \
		failed++;                                       \
	}                                                       \
} while (0)

struct span { const char *name; size_t off, len; };

#define SPAN(type, member) { #member, offsetof(type, member), sizeof(((type *)0)->member) }

static size_t first_line(struct span s) { return s.off / MG_CACHELINE; }
static size_t last_line(struct span s) { return (s.off + s.len - 1) / MG_CACHELINE; }

/* Every span of a touches no cache line of any span of b (offsets from a line-aligned base). */
static void apart(const char *what, const struct span *a, unsigned na, const struct span *b, unsigned nb)
{
	for (unsigned i = 0; i < na; i++)
		for (unsigned j = 0; j < nb; j++)
			CHECK(last_line(a[i]) < first_line(b[j]) || last_line(b[j]) < first_line(a[i]),
			      "%s: %s (bytes %zu-%zu) and %s (bytes %zu-%zu) share a cache line", what,
			      a[i].name, a[i].off, a[i].off + a[i].len - 1, b[j].name, b[j].off,
			      b[j].off + b[j].len - 1);
}

/* An array of these puts no two elements on one line: aligned, and a whole number of lines. */
static void whole_lines(const char *what, size_t align, size_t size)
{
	CHECK(align >= MG_CACHELINE, "%s: aligned to %zu bytes, not a cache line", what, align);
	CHECK(size % MG_CACHELINE == 0, "%s: %zu bytes, not a whole number of cache lines", what, size);
}

static void test_worker(void)
{
	const struct span by_worker[] = {
		SPAN(struct worker, port), SPAN(struct worker, punt.head), SPAN(struct worker, txq.tail),
		SPAN(struct worker, ctr),
	};
	const struct span by_control[] = {
		SPAN(struct worker, punt.tail), SPAN(struct worker, txq.head), SPAN(struct worker, stop),
	};

	whole_lines("struct worker", alignof(struct worker), sizeof(struct worker));
	whole_lines("struct mg_counters", alignof(struct mg_counters), sizeof(struct mg_counters));
	apart("struct worker", by_worker, 4, by_control, 3);
}

static void test_ring(void)
{
	const struct span head[] = { SPAN(struct ring, head) }, tail[] = { SPAN(struct ring, tail) };

	CHECK(alignof(struct ring) >= MG_CACHELINE, "struct ring: aligned to %zu bytes", alignof(struct ring));
	apart("struct ring", head, 1, tail, 1);
}

static void test_nat(void)
{
	const struct span owner[] = {
		SPAN(struct nat_pool, local_free), SPAN(struct nat_pool, next_port), SPAN(struct nat_pool, probes),
	};
	const struct span rcu[] = { SPAN(struct nat_pool, returned) };
	struct nat n;

	whole_lines("struct nat_pool", alignof(struct nat_pool), sizeof(struct nat_pool));
	apart("struct nat_pool", owner, 3, rcu, 1);
	/* The allocation honours the type's alignment (calloc gives 16 bytes). */
	if (nat_init(&n, 3)) {
		CHECK(0, "nat_init");
		return;
	}
	for (unsigned w = 0; w < 3; w++)
		CHECK((uintptr_t)&n.pools[w] % MG_CACHELINE == 0, "NAT pool %u at %p: not line-aligned", w,
		      (void *)&n.pools[w]);
	nat_uninit(&n);
}

static void test_wctx(void)
{
	struct mg_device dev = { 0 };
	struct worker w = { .dev = &dev };
	struct wctx *c;

	whole_lines("struct wctx", alignof(struct wctx), sizeof(struct wctx));
	c = wk_ctx_new(&w);
	CHECK(c, "wk_ctx_new");
	if (!c)
		return;
	CHECK((uintptr_t)c % MG_CACHELINE == 0, "wk_ctx_new: context at %p, not line-aligned", (void *)c);
	wk_ctx_free(c);
}

static void test_keypair(void)
{
	const struct span read[] = {
		SPAN(struct keypair, nk.send_key), SPAN(struct keypair, nk.recv_key),
		SPAN(struct keypair, nk.birthdate_ns), SPAN(struct keypair, nk.remote_index),
		SPAN(struct keypair, nk.i_am_initiator), SPAN(struct keypair, entry), SPAN(struct keypair, dead),
	};
	const struct span sealers[] = { SPAN(struct keypair, nk.send_counter) };
	const struct span opener[] = { SPAN(struct keypair, nk.replay), SPAN(struct keypair, replay_lock) };
	struct keypair *kp;

	whole_lines("struct keypair", alignof(struct keypair), sizeof(struct keypair));
	apart("struct keypair: read by all / nonce", read, 7, sealers, 1);
	apart("struct keypair: read by all / replay", read, 7, opener, 2);
	apart("struct keypair: nonce / replay", sealers, 1, opener, 2);
	kp = keypair_new();
	CHECK(kp && (uintptr_t)kp % MG_CACHELINE == 0, "keypair_new: %p, not line-aligned", (void *)kp);
	free(kp);
}

static void test_peer(void)
{
	const struct span read[] = {
		SPAN(struct peer, cur), SPAN(struct peer, next), SPAN(struct peer, id), SPAN(struct peer, dead),
		SPAN(struct peer, confirm_next), SPAN(struct peer, ep_seq), SPAN(struct peer, ep),
	};
	const struct span workers[] = {
		SPAN(struct peer, rx_bytes), SPAN(struct peer, tx_bytes), SPAN(struct peer, ev_ka_first_rx),
		SPAN(struct peer, ev_dp_first_tx), SPAN(struct peer, ev_last_traversal),
		SPAN(struct peer, want_handshake),
	};
	const struct span control[] = {
		SPAN(struct peer, hs), SPAN(struct peer, last_sent_handshake_ns),
		SPAN(struct peer, retransmit_due_ns), SPAN(struct peer, handshake_attempts),
		SPAN(struct peer, zero_keys_due_ns), SPAN(struct peer, dead_peer_due_ns),
		SPAN(struct peer, last_handshake_real_ns),
	};
	struct peer *p;

	struct span slot[PEER_BYTE_SLOTS];

	whole_lines("struct peer", alignof(struct peer), sizeof(struct peer));
	apart("struct peer: read by workers / written by workers", read, 7, workers, 6);
	apart("struct peer: read by workers / written by control", read, 7, control, 7);
	apart("struct peer: written by workers / by control", workers, 6, control, 7);
	/* each worker's byte counts: a line no other thread writes, and none that is read per run */
	for (unsigned i = 0; i < PEER_BYTE_SLOTS; i++)
		slot[i] = (struct span){ "wslot[i]", offsetof(struct peer, wslot) + i * sizeof(struct peer_wslot),
					 sizeof(struct peer_wslot) };
	for (unsigned i = 0; i < PEER_BYTE_SLOTS; i++) {
		apart("struct peer: one worker's byte counts / another's", &slot[i], 1, slot, i);
		apart("struct peer: one worker's byte counts / read by workers", &slot[i], 1, read, 7);
		apart("struct peer: one worker's byte counts / written by workers", &slot[i], 1, workers, 6);
		apart("struct peer: one worker's byte counts / written by control", &slot[i], 1, control, 7);
	}
	p = peer_new((const uint8_t[NOISE_PUBLIC_KEY_LEN]){ 1 });
	CHECK(p && (uintptr_t)p % MG_CACHELINE == 0, "peer_new: %p, not line-aligned", (void *)p);
	free(p);
}

int main(void)
{
	test_worker();
	test_ring();
	test_nat();
	test_wctx();
	test_keypair();
	test_peer();
	if (failed) {
		fprintf(stderr, "test_layout: %d check(s) failed\n", failed);
		return 1;
	}
	printf("test_layout: ok (worker %zu B, counters %zu B, nat_pool %zu B, wctx %zu B)\n",
	       sizeof(struct worker), sizeof(struct mg_counters), sizeof(struct nat_pool), sizeof(struct wctx));
	return 0;
}
