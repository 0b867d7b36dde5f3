// SPDX-License-Identifier: GPL-2.0-only
/*
 * worker.c - the poll loop of one queue:
 *   rx burst -> classify -> open batch -> route -> seal batch -> tx burst -> recycle,
 * plus what the control thread asks (handshake messages to send, TUN packets to encrypt), the
 * stage queue (packets waiting for a session or a next-hop MAC), and quiescent-state reports.
 * No allocation, no lock (but the per-keypair replay lock, once per run), no syscall but the
 * ones the kernel asks for (need_wakeup) and local delivery to the TUN device.
 */
/* liburcu's inline rcu_dereference()/quiescent state, not a library call per packet. */
#define _LGPL_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include "worker.h"
#include "pkt.h"

const char *const mg_drop_label[MG_DROP_MAX] = {
#define X(n, l, h) [MG_DROP_##n] = l,
	MG_DROP_REASONS(X)
#undef X
};

const char *const mg_drop_help[MG_DROP_MAX] = {
#define X(n, l, h) [MG_DROP_##n] = h,
	MG_DROP_REASONS(X)
#undef X
};

void device_wake_control(struct mg_device *dev)
{
	uint64_t one = 1;

	if (write(dev->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		return;
}

void wk_drop(struct wctx *c, struct wpkt *p, enum mg_drop why)
{
	c->ctr->drops[why]++;
	io_frame_put(&c->w->port, p->addr);
}

void wk_batch_hist(struct wctx *c, unsigned n)
{
	unsigned b = 0;

	while ((1u << b) < n && b < MG_BATCH_BUCKETS - 1)
		b++;
	c->ctr->batch_hist[b]++;
	c->ctr->batch_sum += n;
}

/* An address of @family into a cache slot; constant-size copies are inlined, not a libc call. */
static inline void slot_addr_set(uint8_t *slot, int family, const uint8_t *addr)
{
	if (family == AF_INET)
		memcpy(slot, addr, 4);
	else
		memcpy(slot, addr, 16);
}

/* wk_hop's miss (worker.h): ask the snapshot, keep a success in slot e for the pass. */
int wk_hop_miss(struct wctx *c, struct wk_hop_ent *e, int family, const uint8_t *dst, struct nl_l2hop *out)
{
	int ret = nl_snapshot_lookup(c->nl, family, dst, out);

	if (!ret) {
		e->pass = c->pass;
		e->family = family;
		slot_addr_set(e->dst, family, dst);
		e->hop = *out;
	}
	return ret;
}

/* wk_is_local's miss (worker.h): ask the snapshot, keep the answer in slot e for the pass. */
bool wk_is_local_miss(struct wctx *c, struct wk_local_ent *e, int family, const uint8_t *addr)
{
	e->pass = c->pass;
	e->family = family;
	slot_addr_set(e->addr, family, addr);
	e->local = nl_snapshot_is_local(c->nl, family, addr);
	return e->local;
}

/* wk_allowedips' miss (worker.h): ask the trie, keep the answer (a peer or none) in slot e. */
struct peer *wk_allowedips_miss(struct wctx *c, struct wk_aip_ent *e, int family, const uint8_t *addr)
{
	e->pass = c->pass;
	e->family = family;
	slot_addr_set(e->addr, family, addr);
	e->peer = allowedips_lookup(&c->dev->allowedips, family, addr);
	return e->peer;
}

static void tx_flush(struct wctx *c)
{
	struct io_port *port = &c->w->port;
	unsigned n;

	if (!c->ntx)
		return;
	n = port->ops->tx(port, c->tx, c->ntx);
	/* Ring full: drop the rest rather than wait; the NIC is the bottleneck. */
	for (unsigned i = n; i < c->ntx; i++) {
		c->ctr->drops[MG_DROP_TX_FULL]++;
		io_frame_put(port, c->tx[i].addr);
	}
	c->ntx = 0;
	port->ops->kick(port);
}

void wk_tx(struct wctx *c, uint8_t *frame, uint32_t len)
{
	if (c->ntx == TX_MAX)
		tx_flush(c);
	c->tx[c->ntx].addr = io_port_addr(&c->w->port, frame);
	c->tx[c->ntx].len = len;
	c->ntx++;
	c->ctr->tx_packets++;
	c->ctr->tx_bytes += len;
}

/* The count of @id's staged packets; NULL if the table is full (then only the queue bounds it). */
static uint32_t *stage_peer_count(struct wctx *c, uint64_t id)
{
	uint32_t h = (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32);

	for (uint32_t i = 0; i < STAGE_PEER_SLOTS; i++) {
		struct stage_peer *s = &c->stage_peers[(h + i) & (STAGE_PEER_SLOTS - 1)];

		if (s->id == id)
			return &s->n;
		if (!s->id) {
			s->id = id;
			c->stage_peers_dirty = true;
			return &s->n;
		}
	}
	return NULL;
}

/*
 * Hold a packet until its peer has a session (or its next hop a MAC). Bounded twice: the queue
 * by STAGE_SLOTS, and each peer's tunnel packets by STAGE_PER_PEER, so one peer flooded from the
 * LAN cannot take the queue from the others. Both overflows count as stage_full.
 */
void wk_stage(struct wctx *c, struct wpkt *p, uint8_t kind, uint64_t since)
{
	uint32_t *n = kind == STAGE_TUNNEL && p->peer ? stage_peer_count(c, p->peer->id) : NULL;
	struct stage_ent *e;

	if (c->stage_head - c->stage_tail >= STAGE_SLOTS || (n && *n >= STAGE_PER_PEER)) {
		wk_drop(c, p, MG_DROP_STAGE_FULL);
		return;
	}
	e = &c->stage[c->stage_head++ % STAGE_SLOTS];
	e->pkt = *p;
	e->kind = kind;
	e->peer_id = n ? p->peer->id : 0;
	e->since = since ? since : c->now;
	if (n)
		(*n)++;
}

/* Retry staged packets in order; each either leaves or is staged again with its first time. */
static void stage_retry(struct wctx *c)
{
	uint32_t n = c->stage_head - c->stage_tail;

	if (!n || c->now < c->stage_next_retry)
		return;
	c->stage_next_retry = c->now + STAGE_RETRY_NS;
	while (n--) {
		struct stage_ent e = c->stage[c->stage_tail++ % STAGE_SLOTS];
		uint32_t *cnt = e.peer_id ? stage_peer_count(c, e.peer_id) : NULL;

		if (cnt && *cnt)
			(*cnt)--;
		e.pkt.peer = NULL;      /* looked up again: the peer may be gone */
		if (c->now - e.since >= STAGE_TIMEOUT_NS) {
			wk_drop(c, &e.pkt, e.kind == STAGE_TUNNEL ? MG_DROP_NO_SESSION : MG_DROP_NEIGH_UNRESOLVED);
			continue;
		}
		if (e.kind == STAGE_TUNNEL)
			wk_tunnel(c, &e.pkt, e.since);
		else if (e.kind == STAGE_LAN)
			wk_lan(c, &e.pkt, e.since);
		else
			wk_udp(c, &e.pkt, e.since);
	}
	if (c->stage_head == c->stage_tail && c->stage_peers_dirty) {
		memset(c->stage_peers, 0, STAGE_PEER_SLOTS * sizeof(*c->stage_peers));
		c->stage_peers_dirty = false;
	}
}

void wk_punt(struct wctx *c, uint8_t kind, const struct mg_endpoint *src, const void *data, uint16_t len)
{
	struct punt_msg *m = ring_reserve(&c->w->punt);
	bool was_empty = !ring_count(&c->w->punt);

	if (!m) {
		c->ctr->drops[MG_DROP_PUNT_FULL]++;
		return;
	}
	m->kind = kind;
	m->len = len;
	m->src = *src;
	if (len)
		memcpy(m->data, data, len);
	ring_commit(&c->w->punt);
	if (was_empty)
		device_wake_control(c->dev);
}

void wk_punt_relay(struct wctx *c, struct wpkt *p, const uint8_t *msg, uint32_t mlen)
{
	struct punt_msg *m = ring_reserve(&c->w->punt);
	bool was_empty = !ring_count(&c->w->punt);

	if (!m || mlen > PUNT_DATA_MAX) {
		wk_drop(c, p, m ? MG_DROP_TOO_BIG : MG_DROP_PUNT_FULL);
		return;
	}
	m->kind = PUNT_DERP_TX;
	m->len = (uint16_t)mlen;
	m->src = p->ep;
	/* Data has its peer; control's own messages (handshakes, keepalives) are found by index. */
	if (p->peer)
		memcpy(m->peer_key, p->peer->public_key, 32);
	else
		memset(m->peer_key, 0, 32);
	memcpy(m->data, msg, mlen);
	ring_commit(&c->w->punt);
	if (was_empty)
		device_wake_control(c->dev);
	io_frame_put(&c->w->port, p->addr);
}

void wk_want_handshake(struct wctx *c, struct peer *peer)
{
	if (atomic_load_explicit(&peer->want_handshake, memory_order_relaxed))
		return;
	if (!atomic_exchange(&peer->want_handshake, true))
		device_wake_control(c->dev);
}

/* Control-originated packets: copied into a fresh frame, then the normal path. */
static void txq_drain(struct wctx *c)
{
	struct txreq *r;

	for (unsigned budget = BURST; budget && (r = ring_peek(&c->w->txq)); budget--) {
		uint64_t base = io_frame_get(&c->w->port);
		struct wpkt p = { .origin = FROM_LOCAL };

		if (base == UINT64_MAX)
			break;     /* no frame now: leave the request queued */
		p.addr = base + FRAME_DATA_OFF;
		p.l3 = io_port_data(&c->w->port, p.addr);
		memcpy(p.l3, r->data, r->len);
		p.len = r->len;
		if (r->kind == TXREQ_UDP) {
			p.ep = r->dst;
			wk_udp(c, &p, 0);
		} else if (r->kind == TXREQ_RELAYED) {
			p.ep = r->dst;
			wk_rx_relayed(c, &p);
		} else if ((p.len = ip_packet_len(p.l3, r->len, &p.family))) {
			wk_tunnel(c, &p, 0);
		} else {
			wk_drop(c, &p, MG_DROP_MALFORMED);
		}
		ring_release(&c->w->txq);
	}
}

/* Frames ahead of the one being classified whose headers are prefetched. */
#define RX_PREFETCH 4u

/* The two cache lines that hold a frame's Ethernet, IP, UDP and WireGuard headers. */
static inline void rx_prefetch(struct io_port *port, const struct io_desc *d)
{
	const uint8_t *eth = io_port_data(port, d->addr);

	__builtin_prefetch(eth);
	__builtin_prefetch(eth + 63);
}

/*
 * Classifying a frame starts with a cache miss on its headers (a NIC writes them to memory or
 * L3; frames 4 KiB apart also share few L1 sets), so the headers of the next few frames are
 * fetched while this one is classified.
 */
static unsigned rx_burst(struct wctx *c)
{
	struct io_port *port = &c->w->port;
	unsigned n = port->ops->rx(port, c->rx, BURST);

	for (unsigned i = 0; i < n && i < RX_PREFETCH; i++)
		rx_prefetch(port, &c->rx[i]);
	for (unsigned i = 0; i < n; i++) {
		if (i + RX_PREFETCH < n)
			rx_prefetch(port, &c->rx[i + RX_PREFETCH]);
		wk_rx_frame(c, c->rx[i].addr, c->rx[i].len);
	}
	return n;
}

/*
 * Busy-poll while traffic flows; after dev->poll_spin_ns (config Poll, default 50 us) without
 * work, sleep until the port has frames (or 1 ms passes, for control requests and staged packets).
 * Like NAPI: spinning keeps latency low under load, sleeping gives the core back when the link is
 * quiet - which matters on a small box where meshgate shares cores with everything else.
 * Poll = busy (UINT64_MAX) never sleeps.
 */
static void idle_wait(struct wctx *c)
{
	rcu_thread_offline();
	c->w->port.ops->idle(&c->w->port, 1);
	rcu_thread_online();
}

struct wctx *wk_ctx_new(struct worker *w)
{
	struct wctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->stage = calloc(STAGE_SLOTS, sizeof(*c->stage));
	c->stage_peers = calloc(STAGE_PEER_SLOTS, sizeof(*c->stage_peers));
	if (!c->stage || !c->stage_peers) {
		free(c->stage);
		free(c->stage_peers);
		free(c);
		return NULL;
	}
	c->w = w;
	c->dev = w->dev;
	c->ctr = &w->ctr;
	return c;
}

void wk_ctx_free(struct wctx *c)
{
	if (!c)
		return;
	while (c->stage_head != c->stage_tail)
		io_frame_put(&c->w->port, c->stage[c->stage_tail++ % STAGE_SLOTS].pkt.addr);
	free(c->stage);
	free(c->stage_peers);
	free(c);
}

unsigned wk_poll(struct wctx *c)
{
	struct worker *w = c->w;
	unsigned work;

	c->now = mg_now();
	c->nl = c->nl_fixed ? c->nl_fixed : nlmirror_current(c->dev->nl);
	c->pass++;                       /* empties the per-pass caches */
	c->listen_port = atomic_load_explicit(&c->dev->listen_port, memory_order_relaxed);
	work = rx_burst(c);
	wk_flush_open(c);
	txq_drain(c);
	stage_retry(c);
	wk_flush_open(c);
	wk_flush_seal(c);
	tx_flush(c);
	w->port.ops->reclaim(&w->port);
	w->port.ops->refill(&w->port);
	w->ctr.loops++;
	return work + ring_count(&w->txq);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct wctx *c = wk_ctx_new(w);
	uint64_t last_work = 0;

	if (!c)
		return NULL;
	rcu_register_thread();
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		unsigned work = wk_poll(c);

		rcu_quiescent_state();
		if (work) {
			last_work = c->now;
			continue;
		}
		w->ctr.idle_loops++;
		if (c->now - last_work > c->dev->poll_spin_ns)
			idle_wait(c);
	}
	/* Hand every frame back before the port closes: staged ones and what is still in flight. */
	rcu_unregister_thread();
	wk_ctx_free(c);
	return NULL;
}
int worker_start(struct worker *w)
{
	int ret;

	if (ring_init(&w->punt, PUNT_RING_SLOTS, sizeof(struct punt_msg)) ||
	    ring_init(&w->txq, TXREQ_RING_SLOTS, sizeof(struct txreq)))
		return -ENOMEM;
	atomic_store(&w->stop, false);
	ret = pthread_create(&w->thread, NULL, worker_main, w);
	if (ret)
		return -ret;
	w->started = true;
	return 0;
}

void worker_stop(struct worker *w)
{
	if (w->started) {
		atomic_store(&w->stop, true);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	ring_uninit(&w->punt);
	ring_uninit(&w->txq);
}
