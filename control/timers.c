// SPDX-License-Identifier: GPL-2.0-only
/*
 * timers.c - WireGuard's timers, driven by the control thread's tick. Workers only record
 * events (peer.h: ev_*, want_handshake, confirm_next); this file turns them into actions with
 * the kernel's semantics (drivers/net/wireguard/timers.c):
 *
 *   retransmit_handshake  REKEY_TIMEOUT (5 s) + jitter after an initiation without response;
 *                         after MAX_TIMER_HANDSHAKES (18) retries, give up and arm zero-keys.
 *   send_keepalive        KEEPALIVE_TIMEOUT (10 s) after data was received and nothing was sent.
 *   new_handshake         KEEPALIVE + REKEY_TIMEOUT (15 s) after data was sent and nothing
 *                         authenticated came back (dead-peer detection).
 *   zero_key_material     REJECT_AFTER_TIME * 3 (540 s) after the last session was derived.
 *   persistent_keepalive  every N s after the last authenticated packet either way.
 * Rekey by age/count on send and the last-minute rekey on receive are decided by workers and
 * arrive here as want_handshake.
 */
#include <sodium.h>
#include "timers.h"
#include "ctldev.h"
#include "handshake.h"
#include "wireguard/messages.h"

static void retransmit(struct mg_ctl *dev, struct peer *p, uint64_t now)
{
	if (!p->retransmit_due_ns || now < p->retransmit_due_ns)
		return;
	if (p->handshake_attempts >= MAX_TIMER_HANDSHAKES) {
		/* Give up: nothing is staged on our side beyond the workers' timeout. */
		p->retransmit_due_ns = 0;
		p->handshake_attempts = 0;
		atomic_store(&p->ev_ka_first_rx, 0);
		if (!p->zero_keys_due_ns)
			p->zero_keys_due_ns = now + 3 * REJECT_AFTER_TIME_NS;
		return;
	}
	p->handshake_attempts++;
	hs_send_initiation(dev, p, now, true);
}

static void keepalives(struct mg_ctl *dev, struct peer *p, uint64_t now)
{
	uint64_t ka = atomic_load_explicit(&p->ev_ka_first_rx, memory_order_relaxed);
	uint64_t last = atomic_load_explicit(&p->ev_last_traversal, memory_order_relaxed);

	if (ka && now - ka >= KEEPALIVE_TIMEOUT_NS) {
		atomic_store(&p->ev_ka_first_rx, 0);
		hs_send_keepalive(dev, p, now);
	}
	if (p->persistent_keepalive &&
	    (!last || now - last >= (uint64_t)p->persistent_keepalive * NSEC_PER_SEC)) {
		atomic_store(&p->ev_last_traversal, now);
		hs_send_keepalive(dev, p, now);
	}
}

static void dead_peer(struct mg_ctl *dev, struct peer *p, uint64_t now)
{
	uint64_t dp = atomic_load_explicit(&p->ev_dp_first_tx, memory_order_relaxed);

	if (!dp)
		return;
	if (!p->dead_peer_due_ns)
		p->dead_peer_due_ns = dp + KEEPALIVE_TIMEOUT_NS + REKEY_TIMEOUT_NS +
				      randombytes_uniform(REKEY_TIMEOUT_JITTER_MAX_NS);
	if (now < p->dead_peer_due_ns)
		return;
	p->dead_peer_due_ns = 0;
	atomic_store(&p->ev_dp_first_tx, 0);
	hs_send_initiation(dev, p, now, false);
}

static void zero_keys(struct mg_ctl *dev, struct peer *p, uint64_t now)
{
	if (!p->zero_keys_due_ns || now < p->zero_keys_due_ns)
		return;
	p->zero_keys_due_ns = 0;
	peer_clear_keypairs(&dev->dp.index, p);
	index_remove(&dev->dp.index, &p->hs_entry);
	noise_handshake_clear(&p->hs);
}

void timers_tick(struct mg_ctl *dev, uint64_t now)
{
	struct peer *p;

	peer_list_for_each(p, &dev->peers) {
		if (atomic_load_explicit(&p->confirm_next, memory_order_relaxed)) {
			/* Responder's handshake completes with the first data under the new key. */
			peer_rotate_next(&dev->dp.index, p);
			p->retransmit_due_ns = 0;
			p->handshake_attempts = 0;
			atomic_store(&p->last_handshake_real_ns, mg_realtime());
		}
		if (!atomic_load_explicit(&p->ev_dp_first_tx, memory_order_relaxed))
			p->dead_peer_due_ns = 0;
		if (atomic_load_explicit(&p->want_handshake, memory_order_relaxed)) {
			atomic_store(&p->want_handshake, false);
			hs_send_initiation(dev, p, now, false);
		}
		retransmit(dev, p, now);
		keepalives(dev, p, now);
		dead_peer(dev, p, now);
		zero_keys(dev, p, now);
	}
}
