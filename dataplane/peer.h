/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * peer.h - a WireGuard peer as both threads see it, its keypairs, and the receiver-index table.
 *
 * Protection rules, field by field, are written next to the fields. In short: the control thread
 * creates, changes and frees peers and keypairs; workers read them inside their QSBR read-side
 * section (always online, one quiescent state per loop) and write only atomics and the endpoint.
 */
#ifndef MG_PEER_H
#define MG_PEER_H

#include <pthread.h>
#include <stdatomic.h>
#include "rcu.h"
#include <urcu/arch.h>
#include <urcu/list.h>
#include "mg.h"
#include "addr.h"
#include "wireguard/noise.h"
#include "wireguard/cookie.h"

struct peer;
struct keypair;

/* Receiver-index table: index = (random << 16) | slot. Workers resolve data messages with one load. */
#define INDEX_SLOTS 65536u

struct index_entry {
	uint32_t index;                  /* immutable while published */
	struct peer *peer;               /* immutable */
	struct keypair *keypair;         /* NULL for a handshake in flight */
};

struct index_table {
	struct index_entry *slots[INDEX_SLOTS];   /* written by control, rcu_assign_pointer */
	uint32_t next_hint;                       /* control only */
};

/* Lines read by every worker, written by sealing workers, written by the opening one: see
 * struct noise_keypair; the lock sits with the replay window it guards. */
struct keypair {
	struct noise_keypair nk;         /* keys immutable; send_counter atomic; replay under replay_lock */
	struct index_entry entry;        /* its receiver index */
	_Atomic bool dead;               /* set by control before unpublishing; workers stop sending */
	uint64_t serial;                 /* immutable: unique in the process, never reused (nonce blocks) */
	_Alignas(MG_CACHELINE) _Atomic bool replay_lock;  /* taken once per run of a keypair in a burst */
	struct mg_rcu_head rcu;
};

/*
 * What one worker keeps for one peer, on a line of its own: one writer, so plain stores (no
 * locked instruction per run of packets, which a burst interleaving many peers pays per packet)
 * and no line two workers write.
 * - Byte counts. Workers numbered PEER_BYTE_SLOTS and up add to the peer's shared
 *   rx_bytes/tx_bytes (atomically), as control does for handshake messages; readers sum
 *   everything (peer_rx_bytes, peer_tx_bytes).
 * - A block of send counters (nonces) taken from the keypair numbered nonce_serial with one
 *   fetch_add: [nonce_next, nonce_end) are this worker's alone (worker_tx.c, seal_reserve).
 */
#define PEER_BYTE_SLOTS 8u
#define SEAL_NONCE_BLOCK 256u           /* counters a worker takes at once (a seal batch's worth) */
#define SEAL_NONCE_STALE 1024u          /* how far the keypair's counter may be past a block's next */
struct peer_wslot {
	_Atomic uint64_t rx, tx;
	uint64_t nonce_serial, nonce_next, nonce_end;
} __mg_aligned;

struct peer {
	struct cds_list_head node;       /* control: device peer list, creation order */
	uint8_t public_key[NOISE_PUBLIC_KEY_LEN];  /* immutable */

	/* Control thread only. */
	struct noise_handshake hs;
	struct cookie_maker cookie;
	struct index_entry hs_entry;     /* published while a handshake is in flight */
	uint64_t last_sent_handshake_ns;
	uint64_t retransmit_due_ns;      /* 0 = no initiation awaiting a response */
	uint32_t handshake_attempts;
	uint64_t replay_logged_ns;       /* last "timestamp not newer" log line (once a minute) */
	uint64_t zero_keys_due_ns;       /* 0 = not armed */
	uint64_t dead_peer_due_ns;       /* new-handshake timer armed from ev_dp_first_tx */
	uint16_t persistent_keepalive;   /* seconds, 0 = off */

	/* What workers read for every run of packets, on lines of their own (the control fields
	 * above change with every handshake timer; the counters below with every burst). */

	/* Keypairs: RCU pointers written by control only, read by workers with rcu_dereference. A worker
	 * that authenticates data with `next` sets confirm_next; control then rotates (key confirmation). */
	_Alignas(MG_CACHELINE) struct keypair *cur, *prev, *next;
	uint64_t id;                     /* immutable: unique in the process, never reused (staging) */
	_Atomic bool confirm_next;
	_Atomic bool dead;                 /* removed: workers must not resurrect state */

	/* Endpoint: seqlock. Writers (control, a worker roaming) take ep_lock; readers retry on ep_seq. */
	pthread_spinlock_t ep_lock;
	_Atomic uint32_t ep_seq;
	struct mg_endpoint ep;

	/* Atomics written by workers (relaxed, once per run of a burst), read by control. */
	_Alignas(MG_CACHELINE) _Atomic uint64_t rx_bytes, tx_bytes;  /* whole WireGuard messages, like the
								      * kernel: control's and workers' past
								      * the slots (wslot below) */
	_Atomic uint64_t ev_ka_first_rx;   /* first data received since we last sent: passive keepalive */
	_Atomic uint64_t ev_dp_first_tx;   /* first data sent since we last received: dead-peer detection */
	_Atomic uint64_t ev_last_traversal;/* last authenticated packet either way: persistent keepalive */
	_Atomic bool want_handshake;       /* a worker needs a (new) session */

	_Alignas(MG_CACHELINE) _Atomic uint64_t last_handshake_real_ns;  /* UNIX time of the last completed handshake */
	struct mg_rcu_head rcu;

	struct peer_wslot wslot[PEER_BYTE_SLOTS];   /* by worker id */
};

/*
 * Walking a peer list (control's dev->peers, or a list of the same kind). Unlike
 * cds_list_for_each_entry these never turn the list head into a struct peer pointer to test for
 * the end: the head is not inside a peer, and once struct peer is aligned more strictly than the
 * structure holding the head (a cache-line layout), that pointer is misaligned, which is
 * undefined behaviour (UBSan stops on it). The _safe form allows removing @p while walking.
 */
#define peer_list_for_each(p, head) \
	for (struct cds_list_head *peer__n = (head)->next; \
	     peer__n != (head) && ((p) = cds_list_entry(peer__n, struct peer, node), 1); \
	     peer__n = peer__n->next)
#define peer_list_for_each_safe(p, head) \
	for (struct cds_list_head *peer__n = (head)->next, *peer__t = peer__n->next; \
	     peer__n != (head) && ((p) = cds_list_entry(peer__n, struct peer, node), 1); \
	     peer__n = peer__t, peer__t = peer__n->next)

/* Endpoint seqlock. */
void peer_endpoint_get(struct peer *p, struct mg_endpoint *out);
/* The same, returning the (even) sequence number it was read under: while peer_endpoint_seq()
 * still returns it, the endpoint has not changed. */
uint32_t peer_endpoint_get_seq(struct peer *p, struct mg_endpoint *out);

static inline uint32_t peer_endpoint_seq(struct peer *p)
{
	return atomic_load_explicit(&p->ep_seq, memory_order_acquire);
}
void peer_endpoint_set(struct peer *p, const struct mg_endpoint *ep);
/* Worker: roam to src if it differs (called only after authentication). */
void peer_endpoint_roam(struct peer *p, const struct mg_endpoint *src);

/* Whether the endpoint is src, read consistently under the seqlock (false while a writer is
 * inside or when it changed meanwhile: then ask peer_endpoint_roam). Inline: a burst from many
 * peers asks for every packet, where a copy through the out-of-line reader cost a call. */
static inline bool peer_endpoint_is(struct peer *p, const struct mg_endpoint *src)
{
	uint32_t seq = atomic_load_explicit(&p->ep_seq, memory_order_acquire);
	bool eq = !(seq & 1) && mg_endpoint_equal(&p->ep, src);

	atomic_thread_fence(memory_order_acquire);
	return eq && atomic_load_explicit(&p->ep_seq, memory_order_relaxed) == seq;
}

/*
 * The peers' generation: bumped (release) after a peer's keypair pointers change or a peer is
 * marked removed, by peer.c's functions below, which are the only writers of those fields. A
 * worker reads it once per pass (acquire), before it reads any peer, so a keypair it found
 * for a peer stays that peer's current one while the number it read then is the number now;
 * and since a keypair is freed only after a grace period that follows the bump, the worker's
 * cached pointer is alive while the number holds. Whether the keypair died, and its age,
 * are still the worker's to ask for every packet. One number for the process: a change to any
 * peer voids what every worker remembered of every peer (a handshake every two minutes per
 * peer).
 */
extern _Atomic uint64_t peer_gen;

static inline uint64_t peer_gen_read(void)
{
	return atomic_load_explicit(&peer_gen, memory_order_acquire);
}

static inline void peer_gen_bump(void)
{
	atomic_fetch_add_explicit(&peer_gen, 1, memory_order_release);
}

/* Control: rotate next -> current -> previous after a worker saw data under `next`. */
void peer_rotate_next(struct index_table *t, struct peer *p);
/* Control: install a freshly derived keypair (initiator: current at once; responder: next). */
void peer_install_keypair(struct index_table *t, struct peer *p, struct keypair *kp);

/* A worker's bytes received from / sent to p (whole messages). */
static inline void peer_count_bytes(struct peer *p, unsigned worker, bool rx, uint64_t n)
{
	if (worker < PEER_BYTE_SLOTS) {
		_Atomic uint64_t *c = rx ? &p->wslot[worker].rx : &p->wslot[worker].tx;

		atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
	} else {
		atomic_fetch_add_explicit(rx ? &p->rx_bytes : &p->tx_bytes, n, memory_order_relaxed);
	}
}

/* Bytes received from (rx) or sent to p so far, by every thread. */
static inline uint64_t peer_bytes(struct peer *p, bool rx)
{
	uint64_t n = atomic_load_explicit(rx ? &p->rx_bytes : &p->tx_bytes, memory_order_relaxed);

	for (unsigned i = 0; i < PEER_BYTE_SLOTS; i++)
		n += atomic_load_explicit(rx ? &p->wslot[i].rx : &p->wslot[i].tx, memory_order_relaxed);
	return n;
}

static inline uint64_t peer_rx_bytes(struct peer *p)
{
	return peer_bytes(p, true);
}

static inline uint64_t peer_tx_bytes(struct peer *p)
{
	return peer_bytes(p, false);
}

/*
 * The last traversal feeds a timer counted in seconds (persistent keepalive): it is moved on
 * once it is a millisecond old, not by every pass (the clock moves each pass), so that the
 * workers sending to a peer leave its timer line unwritten in between: with two of them it
 * would otherwise change hands every pass.
 */
#define PEER_TRAVERSAL_GRAIN_NS NSEC_PER_MSEC

static inline void peer_ev_traversal(struct peer *p, uint64_t now)
{
	if (now - atomic_load_explicit(&p->ev_last_traversal, memory_order_relaxed) >= PEER_TRAVERSAL_GRAIN_NS)
		atomic_store_explicit(&p->ev_last_traversal, now, memory_order_relaxed);
}

/* Timer events recorded by whoever sends/receives (cheap: compare before store). */
static inline void peer_ev_auth_rx(struct peer *p, uint64_t now, bool data)
{
	if (atomic_load_explicit(&p->ev_dp_first_tx, memory_order_relaxed))
		atomic_store_explicit(&p->ev_dp_first_tx, 0, memory_order_relaxed);
	peer_ev_traversal(p, now);
	if (data && !atomic_load_explicit(&p->ev_ka_first_rx, memory_order_relaxed))
		atomic_store_explicit(&p->ev_ka_first_rx, now, memory_order_relaxed);
}

static inline void peer_ev_auth_tx(struct peer *p, uint64_t now, bool data)
{
	if (atomic_load_explicit(&p->ev_ka_first_rx, memory_order_relaxed))
		atomic_store_explicit(&p->ev_ka_first_rx, 0, memory_order_relaxed);
	peer_ev_traversal(p, now);
	if (data && !atomic_load_explicit(&p->ev_dp_first_tx, memory_order_relaxed))
		atomic_store_explicit(&p->ev_dp_first_tx, now, memory_order_relaxed);
}

/*
 * The replay window's lock: a test-and-test-and-set spin lock, inline. A burst interleaving
 * peers takes it once per packet, where pthread_spin_lock/unlock cost two library calls around
 * the one atomic exchange that matters; two workers only meet on it after RSS moves a flow.
 */
static inline void keypair_replay_lock(struct keypair *kp)
{
	while (atomic_exchange_explicit(&kp->replay_lock, true, memory_order_acquire))
		while (atomic_load_explicit(&kp->replay_lock, memory_order_relaxed))
			caa_cpu_relax();
}

static inline void keypair_replay_unlock(struct keypair *kp)
{
	atomic_store_explicit(&kp->replay_lock, false, memory_order_release);
}

/* Index table (control writes; workers call index_lookup_keypair). */
void index_table_init(struct index_table *t);
int index_insert(struct index_table *t, struct index_entry *e);     /* picks e->index */
void index_remove(struct index_table *t, struct index_entry *e);
/* The keypair derived from a handshake takes over the handshake's index (the peer already has it). */
void index_replace(struct index_table *t, struct index_entry *old, struct index_entry *new);

static inline struct keypair *index_lookup_keypair(struct index_table *t, uint32_t index)
{
	struct index_entry *e = mg_rcu_dereference(t->slots[index & (INDEX_SLOTS - 1)]);

	return e && e->index == index ? e->keypair : NULL;
}

static inline struct index_entry *index_lookup(struct index_table *t, uint32_t index)
{
	struct index_entry *e = mg_rcu_dereference(t->slots[index & (INDEX_SLOTS - 1)]);

	return e && e->index == index ? e : NULL;
}

/* Keypairs (control). */
struct keypair *keypair_new(void);
/* A keypair's serial: never 0, never the same twice in the process. */
uint64_t keypair_new_serial(void);
void keypair_retire(struct index_table *t, struct keypair *kp);   /* unpublish index, free after grace */

/* Peers (control). */
struct peer *peer_new(const uint8_t public_key[NOISE_PUBLIC_KEY_LEN]);
/* Drops all keypairs (expiry, key change, removal). */
void peer_clear_keypairs(struct index_table *t, struct peer *p);
void peer_retire(struct index_table *t, struct peer *p);   /* after unlinking from every table */

#endif
