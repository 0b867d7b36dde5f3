// SPDX-License-Identifier: GPL-2.0-only
/*
 * worker.c - the poll loop of one queue, the top of the worker:
 *   rx burst -> classify -> open batch -> route -> seal batch -> tx burst -> recycle,
 * plus what the control thread asks (handshake messages to send, TUN packets to encrypt), the
 * retries of staged packets (waiting for a session or a next-hop MAC), the idle policy,
 * quiescent-state reports, and the worker thread's start and stop. The stages it drives are
 * worker_rx.c and worker_tx.c, over the pass state of wctx.c; none of them calls back up here.
 * No allocation, no lock (but the per-keypair replay lock, once per run), no syscall but the
 * ones the kernel asks for (need_wakeup) and local delivery to the TUN device.
 */
/* liburcu's inline rcu_dereference()/quiescent state, not a library call per packet. */
#define _LGPL_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include "worker.h"
#include "worker_rx.h"
#include "worker_tx.h"
#include "pkt.h"
#include "netlink/nlmirror.h"

/* Retry staged packets in order; each either leaves or is staged again with its first time. */
static void stage_retry(struct wctx *c)
{
	uint32_t n = c->stage_head - c->stage_tail;
	struct stage_ent e;

	if (!n || c->now < c->stage_next_retry)
		return;
	c->stage_next_retry = c->now + STAGE_RETRY_NS;
	while (n-- && wk_stage_pop(c, &e)) {
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
	wk_stage_drained(c);
}

/* Control-originated packets: copied into a fresh frame, then the normal path. */
static void txq_drain(struct wctx *c)
{
	struct txreq *r;
	int family = 0;

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
		} else if ((p.len = ip_packet_len(p.l3, r->len, &family))) {
			p.family = (uint8_t)family;
			wk_tunnel(c, &p, 0);
		} else {
			wk_drop(c, &p, MG_DROP_MALFORMED);
		}
		ring_release(&c->w->txq);
	}
}

static unsigned rx_burst(struct wctx *c)
{
	struct io_port *port = &c->w->port;
	unsigned n, was = wk_prof_to(c->prof, WK_PROF_RX);

	n = port->ops->rx(port, c->rx, BURST);
	wk_rx_burst(c, c->rx, n);
	wk_prof_to(c->prof, was);
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
	mg_rcu_thread_offline();
	c->w->port.ops->idle(&c->w->port, 1);
	mg_rcu_thread_online();
}

unsigned wk_poll(struct wctx *c)
{
	struct worker *w = c->w;
	unsigned work;

	c->peer_gen = peer_gen_read();   /* before anything reads a peer */
	c->wid = w->id;
	c->now = mg_now();
	c->nl = c->nl_fixed ? c->nl_fixed : nlmirror_current(c->dev->nl);
	nl_snapshot_mac(c->nl, c->mac);
	c->lan_mtu = nl_snapshot_mtu(c->nl);
	c->nl_gen = nl_snapshot_gen(c->nl);
	c->aip_gen = allowedips_gen(&c->dev->allowedips);
	c->pass++;                       /* empties the per-pass caches */
	c->listen_port = atomic_load_explicit(&c->dev->listen_port, memory_order_relaxed);
	if (unlikely(c->nl_gen != c->path_nl_gen || c->listen_port != c->path_lport || !c->path_epoch)) {
		c->path_nl_gen = c->nl_gen;     /* every path entry void (wctx.h) */
		c->path_lport = c->listen_port;
		if (!++c->path_epoch) {         /* wrapped: no entry may match by an old number */
			for (unsigned i = 0; i < WK_PATH_SLOTS; i++)
				c->path[i].id = 0;
			c->path_epoch = 1;
		}
	}
	c->snat = c->dev->snat;
	c->filter = mg_rcu_dereference(c->dev->filter);
	c->note_flows = c->snat || c->filter;
	c->area = w->port.area;
	c->sole = c->dev->nworkers == 1;
	work = rx_burst(c);
	wk_flush_open(c);
	txq_drain(c);
	stage_retry(c);
	wk_flush_open(c);
	wk_flush_seal(c);
	wk_tx_flush(c);
	wk_prof_to(c->prof, WK_PROF_TX);
	w->port.ops->reclaim(&w->port);
	w->port.ops->refill(&w->port);
	wk_prof_to(c->prof, WK_PROF_OTHER);
	w->ctr.loops++;
	return work + ring_count(&w->txq);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct wctx *c = wk_ctx_new(w);
	uint64_t last_work = 0;
	char name[16];

	/* "mg-worker<N>" in top -H, ps -L and /proc/PID/task/TID/comm. */
	snprintf(name, sizeof(name), "mg-worker%u", w->id);
	pthread_setname_np(pthread_self(), name);
	if (!c)
		return NULL;
	mg_rcu_register_thread();
	while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
		unsigned work = wk_poll(c);

		mg_rcu_quiescent_state();
		if (work) {
			last_work = c->now;
			continue;
		}
		w->ctr.idle_loops++;
		if (c->now - last_work > c->dev->poll_spin_ns)
			idle_wait(c);
	}
	/* Hand every frame back before the port closes: staged ones and what is still in flight. */
	mg_rcu_unregister_thread();
	wk_ctx_free(c);
	return NULL;
}
/* The thread is created on its CPU (w->cpu >= 0), so it never runs elsewhere; a CPU outside the
 * process's affinity mask or offline fails pthread_create with EINVAL. */
int worker_start(struct worker *w)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int ret;

	if (ring_init(&w->punt, PUNT_RING_SLOTS, sizeof(struct punt_msg)) ||
	    ring_init(&w->txq, TXREQ_RING_SLOTS, sizeof(struct txreq)))
		return -ENOMEM;
	atomic_store(&w->stop, false);
	ret = pthread_attr_init(&attr);
	if (ret)
		return -ret;
	if (w->cpu >= 0 && w->cpu < CPU_SETSIZE) {
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		ret = pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	if (!ret)
		ret = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_attr_destroy(&attr);
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
