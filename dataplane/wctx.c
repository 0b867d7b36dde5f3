// SPDX-License-Identifier: GPL-2.0-only
/*
 * wctx.c - the state of one worker's loop and its primitives (see wctx.h): drop with a reason
 * (and the drop reasons' metric labels), the TX list, the stage queue and its per-peer and
 * per-next-hop bounds, punts and wakeups to control (resolve requests deduplicated), the per-pass caches' misses. Calls no stage of the worker.
 */
/* liburcu's inline rcu_dereference()/quiescent state, not a library call per packet. */
#define _LGPL_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "wctx.h"

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

/* device.h: wakes the control thread's epoll loop (a full eventfd counter is already a wakeup). */
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

/* wk_hop's miss (wctx.h): ask the snapshot, keep a success in slot e for the pass. */
int wk_hop_miss(struct wctx *c, struct wk_hop_ent *e, int family, const uint8_t *dst, struct nl_l2hop *out)
{
	int ret = nl_snapshot_lookup(c->nl, family, dst, out);

	if (!ret) {
		e->gen = c->nl_gen;
		e->family = family;
		slot_addr_set(e->dst, family, dst);
		e->hop = *out;
		c->hop_last = e;
	}
	return ret;
}

/* wk_is_local's miss (wctx.h): ask the snapshot, keep the answer in slot e for the pass. */
bool wk_is_local_miss(struct wctx *c, struct wk_local_ent *e, int family, const uint8_t *addr)
{
	e->gen = c->nl_gen;
	e->family = family;
	slot_addr_set(e->addr, family, addr);
	e->local = nl_snapshot_is_local(c->nl, family, addr);
	c->local_last = e;
	return e->local;
}

/* wk_allowedips' miss (wctx.h): ask the trie, keep the answer (a peer or none) in slot e. */
struct peer *wk_allowedips_miss(struct wctx *c, struct wk_aip_ent *e, int family, const uint8_t *addr)
{
	e->gen = c->aip_gen;
	e->family = family;
	slot_addr_set(e->addr, family, addr);
	e->peer = allowedips_lookup(&c->dev->allowedips, family, addr);
	c->aip_last = e;
	return e->peer;
}

void wk_tx_flush(struct wctx *c)
{
	struct io_port *port = &c->w->port;
	unsigned n, was;

	if (!c->ntx)
		return;
	was = wk_prof_to(c->prof, WK_PROF_TX);
	n = port->ops->tx(port, c->tx, c->ntx);
	/* Ring full: drop the rest rather than wait; the NIC is the bottleneck. */
	for (unsigned i = n; i < c->ntx; i++) {
		c->ctr->drops[MG_DROP_TX_FULL]++;
		io_frame_put(port, c->tx[i].addr);
	}
	c->ntx = 0;
	port->ops->kick(port);
	wk_prof_to(c->prof, was);
}

/* The count of @id's staged packets; NULL if the table is full (then only the queue bounds it). */
static uint32_t *stage_count(struct wctx *c, uint64_t id)
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

/* A next hop as a stage count id: FNV-1a of family and address, bit 63 set (peer ids are a
 * counter from 1 and never reach it). Two next hops that collide share one bound. */
static uint64_t neigh_bound_id(const struct nl_l2hop *hop)
{
	uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)hop->family;

	for (int i = 0; i < 16; i++)
		h = (h ^ hop->nexthop[i]) * 0x100000001b3ull;
	return h | 1ull << 63;
}

/*
 * Hold a packet until its peer has a session (or its next hop a MAC). Bounded three ways: the
 * queue by STAGE_SLOTS; each peer's tunnel packets by STAGE_PER_PEER, so one peer flooded from
 * the LAN cannot take the queue from the others; and the LAN-bound packets waiting for one next
 * hop by STAGE_PER_NEIGH, so a flood towards an address that never answers ARP/ND cannot either.
 * Control's own UDP (STAGE_UDP: handshakes, disco, STUN, all towards the gateway at startup) has
 * only the queue's bound: control paces it. Every overflow counts as stage_full.
 */
void wk_stage(struct wctx *c, struct wpkt *p, uint8_t kind, uint64_t since)
{
	uint64_t id = kind == STAGE_TUNNEL ? (p->peer ? p->peer->id : 0) :
		      kind == STAGE_LAN ? neigh_bound_id(&p->hop) : 0;
	uint32_t *n = id ? stage_count(c, id) : NULL;
	uint32_t max = kind == STAGE_TUNNEL ? STAGE_PER_PEER : STAGE_PER_NEIGH;
	struct stage_ent *e;

	if (c->stage_head - c->stage_tail >= STAGE_SLOTS || (n && *n >= max)) {
		wk_drop(c, p, MG_DROP_STAGE_FULL);
		return;
	}
	e = &c->stage[c->stage_head++ % STAGE_SLOTS];
	e->pkt = *p;
	e->kind = kind;
	e->bound_id = n ? id : 0;
	e->since = since ? since : c->now;
	if (n)
		(*n)++;
}

/* The oldest staged packet, off the queue and off its count. */
bool wk_stage_pop(struct wctx *c, struct stage_ent *out)
{
	uint32_t *cnt;

	if (c->stage_head == c->stage_tail)
		return false;
	*out = c->stage[c->stage_tail++ % STAGE_SLOTS];
	cnt = out->bound_id ? stage_count(c, out->bound_id) : NULL;
	if (cnt && *cnt)
		(*cnt)--;
	return true;
}

/* Once the queue is empty every count is zero: clear the table so stale ids free their slots. */
void wk_stage_drained(struct wctx *c)
{
	if (c->stage_head == c->stage_tail && c->stage_peers_dirty) {
		memset(c->stage_peers, 0, STAGE_PEER_SLOTS * sizeof(*c->stage_peers));
		c->stage_peers_dirty = false;
	}
}

void wk_resolve(struct wctx *c, int family, const uint8_t *nexthop)
{
	struct wk_resolve_ent *e = &c->resolve[wk_addr_slot(family, nexthop, RESOLVE_SLOTS)];
	size_t alen = family == AF_INET ? 4 : 16;
	struct mg_endpoint nh = { .family = family };

	if (e->sent && e->family == family && !memcmp(e->addr, nexthop, alen) &&
	    c->now - e->sent < RESOLVE_INTERVAL_NS) {
		c->ctr->resolve_suppressed++;
		return;
	}
	e->sent = c->now;
	e->family = family;
	memcpy(e->addr, nexthop, alen);
	memcpy(nh.addr, nexthop, 16);
	c->ctr->resolve_requests++;
	wk_punt(c, PUNT_RESOLVE, &nh, NULL, 0);
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

struct wctx *wk_ctx_new(struct worker *w)
{
	struct wctx *c = aligned_alloc(MG_CACHELINE, sizeof(*c));   /* size: whole lines */

	if (!c)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->stage = calloc(STAGE_SLOTS, sizeof(*c->stage));
	c->stage_peers = calloc(STAGE_PEER_SLOTS, sizeof(*c->stage_peers));
	if (!c->stage || !c->stage_peers) {
		free(c->stage);
		free(c->stage_peers);
		free(c);
		return NULL;
	}
	c->w = w;
	c->wid = w->id;                  /* and again each pass (wk_poll) */
	c->dev = w->dev;
	c->ctr = &w->ctr;
	c->hop_last = &c->hop[0];
	c->local_last = &c->local[0];
	c->aip_last = &c->aip[0];
	c->route_last = &c->route[0];
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
