// SPDX-License-Identifier: GPL-2.0-only
/*
 * peer.c - peer and keypair lifetimes, keypair rotation, the endpoint seqlock and the
 * receiver-index table. Everything that frees goes through call_rcu: a worker may hold a
 * pointer until its next quiescent state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "peer.h"

/* ---- receiver-index table ---------------------------------------------------------------- */

void index_table_init(struct index_table *t)
{
	memset(t, 0, sizeof(*t));
}

int index_insert(struct index_table *t, struct index_entry *e)
{
	for (uint32_t tries = 0; tries < INDEX_SLOTS; tries++) {
		uint32_t slot = (t->next_hint + tries) & (INDEX_SLOTS - 1);

		if (t->slots[slot])
			continue;
		/* The random high half keeps indices unpredictable to an off-path sender. */
		e->index = (randombytes_random() & 0xffff0000u) | slot;
		t->next_hint = slot + 1;
		mg_rcu_assign_pointer(t->slots[slot], e);
		return 0;
	}
	return -ENOSPC;
}

void index_remove(struct index_table *t, struct index_entry *e)
{
	uint32_t slot = e->index & (INDEX_SLOTS - 1);

	if (t->slots[slot] == e)
		mg_rcu_assign_pointer(t->slots[slot], NULL);
}

void index_replace(struct index_table *t, struct index_entry *old, struct index_entry *new)
{
	uint32_t slot = old->index & (INDEX_SLOTS - 1);

	new->index = old->index;
	if (t->slots[slot] == old)
		mg_rcu_assign_pointer(t->slots[slot], new);
}

/* ---- keypairs ---------------------------------------------------------------------------- */

uint64_t keypair_new_serial(void)
{
	static _Atomic uint64_t serials;

	return atomic_fetch_add_explicit(&serials, 1, memory_order_relaxed) + 1;   /* 0: none */
}

_Atomic uint64_t peer_gen = 1;

struct keypair *keypair_new(void)
{
	struct keypair *kp = aligned_alloc(_Alignof(struct keypair), sizeof(*kp));   /* size: whole lines */

	if (!kp)
		return NULL;
	memset(kp, 0, sizeof(*kp));
	kp->entry.keypair = kp;
	kp->serial = keypair_new_serial();
	return kp;
}

static void keypair_free_rcu(struct rcu_head *head)
{
	struct keypair *kp = caa_container_of(head, struct keypair, rcu.h);

	sodium_memzero(kp, sizeof(*kp));
	free(kp);
}

void keypair_retire(struct index_table *t, struct keypair *kp)
{
	if (!kp)
		return;
	atomic_store(&kp->dead, true);
	index_remove(t, &kp->entry);
	peer_gen_bump();                 /* before the grace period starts (peer_gen) */
	mg_call_rcu(&kp->rcu, keypair_free_rcu);
}

/*
 * Kernel noise.c semantics: an initiator's new keypair becomes current at once (the previous
 * current moves to previous, an unconfirmed next is dropped); a responder's waits in `next`
 * until the first data message under it proves the initiator has it (key confirmation).
 */
void peer_install_keypair(struct index_table *t, struct peer *p, struct keypair *kp)
{
	struct keypair *old_prev = p->prev, *old_next = p->next, *old_cur = p->cur;

	if (kp->nk.i_am_initiator) {
		if (old_next) {
			/* An unconfirmed next is newer than current: keep it as previous instead. */
			mg_rcu_assign_pointer(p->next, NULL);
			mg_rcu_assign_pointer(p->prev, old_next);
			keypair_retire(t, old_cur);
		} else {
			mg_rcu_assign_pointer(p->prev, old_cur);
		}
		mg_rcu_assign_pointer(p->cur, kp);
		keypair_retire(t, old_prev);
	} else {
		mg_rcu_assign_pointer(p->next, kp);
		keypair_retire(t, old_next);
	}
	peer_gen_bump();
}

void peer_rotate_next(struct index_table *t, struct peer *p)
{
	struct keypair *next = p->next, *old_prev = p->prev;

	atomic_store(&p->confirm_next, false);
	if (!next)
		return;
	mg_rcu_assign_pointer(p->prev, p->cur);
	mg_rcu_assign_pointer(p->cur, next);
	mg_rcu_assign_pointer(p->next, NULL);
	keypair_retire(t, old_prev);
	peer_gen_bump();
}

void peer_clear_keypairs(struct index_table *t, struct peer *p)
{
	struct keypair *cur = p->cur, *prev = p->prev, *next = p->next;

	mg_rcu_assign_pointer(p->cur, NULL);
	mg_rcu_assign_pointer(p->prev, NULL);
	mg_rcu_assign_pointer(p->next, NULL);
	keypair_retire(t, cur);
	keypair_retire(t, prev);
	keypair_retire(t, next);
	peer_gen_bump();
}

/* ---- peers ------------------------------------------------------------------------------- */

struct peer *peer_new(const uint8_t public_key[NOISE_PUBLIC_KEY_LEN])
{
	struct peer *p = aligned_alloc(_Alignof(struct peer), sizeof(*p));   /* size: whole lines */

	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	static _Atomic uint64_t next_id = 1;

	memcpy(p->public_key, public_key, NOISE_PUBLIC_KEY_LEN);
	p->id = atomic_fetch_add_explicit(&next_id, 1, memory_order_relaxed);
	pthread_spin_init(&p->ep_lock, PTHREAD_PROCESS_PRIVATE);
	p->hs_entry.peer = p;
	CDS_INIT_LIST_HEAD(&p->node);
	return p;
}

static void peer_free_rcu(struct rcu_head *head)
{
	struct peer *p = caa_container_of(head, struct peer, rcu.h);

	pthread_spin_destroy(&p->ep_lock);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

void peer_retire(struct index_table *t, struct peer *p)
{
	atomic_store(&p->dead, true);
	peer_gen_bump();
	index_remove(t, &p->hs_entry);
	peer_clear_keypairs(t, p);
	noise_handshake_clear(&p->hs);
	mg_call_rcu(&p->rcu, peer_free_rcu);
}

/* ---- endpoint seqlock -------------------------------------------------------------------- */

uint32_t peer_endpoint_get_seq(struct peer *p, struct mg_endpoint *out)
{
	uint32_t seq;

	do {
		while ((seq = atomic_load_explicit(&p->ep_seq, memory_order_acquire)) & 1)
			caa_cpu_relax();
		memcpy(out, &p->ep, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
	} while (atomic_load_explicit(&p->ep_seq, memory_order_relaxed) != seq);
	return seq;
}

void peer_endpoint_get(struct peer *p, struct mg_endpoint *out)
{
	peer_endpoint_get_seq(p, out);
}

void peer_endpoint_set(struct peer *p, const struct mg_endpoint *ep)
{
	pthread_spin_lock(&p->ep_lock);
	atomic_fetch_add_explicit(&p->ep_seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&p->ep, ep, sizeof(*ep));
	atomic_fetch_add_explicit(&p->ep_seq, 1, memory_order_release);
	pthread_spin_unlock(&p->ep_lock);
}

void peer_endpoint_roam(struct peer *p, const struct mg_endpoint *src)
{
	struct mg_endpoint cur;

	peer_endpoint_get(p, &cur);
	if (!mg_endpoint_equal(&cur, src))
		peer_endpoint_set(p, src);
}
