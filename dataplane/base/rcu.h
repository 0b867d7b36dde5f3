/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rcu.h - the project's face of liburcu-qsbr: every publish, dereference, quiescent state, grace
 * period and deferred free in dataplane/ and control/ goes through these names.
 *
 * Why a wrapper: ThreadSanitizer cannot see liburcu's orderings. rcu_assign_pointer is a barrier
 * plus a volatile store, rcu_dereference a volatile load, and a grace period ends through futexes
 * and loads of the readers' counters inside the uninstrumented library. So TSan reports a
 * publisher's stores into a node against a reader's loads, and a free after synchronize_rcu or in
 * a call_rcu callback against a reader that used the object before its last quiescent state -
 * both orders the RCU contract guarantees. Under TSan these wrappers say the same thing in terms
 * TSan understands:
 *   - publish/dereference/exchange are C11 atomics (release/acquire), which TSan models;
 *   - every quiescent state (and going offline or unregistering, the extended quiescent states)
 *     releases one process-wide sync object, and the end of a grace period (synchronize_rcu
 *     returning, a call_rcu callback starting) acquires it: a happens-before edge from every
 *     reader's quiescent state to the code after the grace period, which is exactly what
 *     synchronize_rcu waits for (it over-approximates only by also taking in quiescent states
 *     that were not needed, which cannot hide a use after the free);
 *   - call_rcu releases the head (the caller's stores before the hand-off) and runs the callback
 *     through a trampoline that acquires it, and each callback's end releases a second object that
 *     rcu_barrier's return acquires (teardown frees what callbacks used).
 * Without TSan every wrapper is the liburcu macro itself, expanded in the caller (so a file that
 * defines _LGPL_SOURCE still gets liburcu's inline fast paths): the same code and cost as before.
 */
#ifndef MG_RCU_H
#define MG_RCU_H

#include <urcu-qsbr.h>

#if defined(__SANITIZE_THREAD__)
#define MG_RCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MG_RCU_TSAN 1
#endif
#endif

#ifndef MG_RCU_TSAN

/* What a deferred-free object embeds: liburcu's head, nothing more. A callback gets &head->h and
 * finds its object with container_of(head, type, member.h). */
struct mg_rcu_head {
	struct rcu_head h;
};

#define mg_rcu_dereference(p)           rcu_dereference(p)
#define mg_rcu_assign_pointer(p, v)     rcu_assign_pointer(p, v)
#define mg_rcu_xchg_pointer(pp, v)      rcu_xchg_pointer(pp, v)
#define mg_rcu_register_thread()        rcu_register_thread()
#define mg_rcu_unregister_thread()      rcu_unregister_thread()
#define mg_rcu_quiescent_state()        rcu_quiescent_state()
#define mg_rcu_thread_offline()         rcu_thread_offline()
#define mg_rcu_thread_online()          rcu_thread_online()
#define mg_synchronize_rcu()            synchronize_rcu()
#define mg_call_rcu(head, fn)           call_rcu(&(head)->h, fn)
#define mg_rcu_barrier()                rcu_barrier()

#else /* MG_RCU_TSAN */

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

/* The two process-wide sync objects (weak: one each, however many files include this):
 * quiescent states -> grace-period ends, and callback ends -> rcu_barrier's return. */
extern char mg_rcu_tsan_gp, mg_rcu_tsan_cbs;
__attribute__((weak)) char mg_rcu_tsan_gp, mg_rcu_tsan_cbs;

/* Under TSan the head also carries the callback, which the trampoline calls. The callback gets
 * &head->h in both builds; it finds its object with container_of(head, type, member.h). */
struct mg_rcu_head {
	struct rcu_head h;
	void (*fn)(struct rcu_head *h);
};

#define mg_rcu_dereference(p)           __atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define mg_rcu_assign_pointer(p, v)     __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define mg_rcu_xchg_pointer(pp, v)      __atomic_exchange_n((pp), (v), __ATOMIC_ACQ_REL)
#define mg_rcu_register_thread()        rcu_register_thread()
#define mg_rcu_unregister_thread()      do { __tsan_release(&mg_rcu_tsan_gp); rcu_unregister_thread(); } while (0)
#define mg_rcu_quiescent_state()        do { __tsan_release(&mg_rcu_tsan_gp); rcu_quiescent_state(); } while (0)
#define mg_rcu_thread_offline()         do { __tsan_release(&mg_rcu_tsan_gp); rcu_thread_offline(); } while (0)
#define mg_rcu_thread_online()          rcu_thread_online()
/* The caller is a registered thread too (the control thread): its own release first, so its
 * stores before the grace period are ordered like a reader's. */
#define mg_synchronize_rcu()            do { __tsan_release(&mg_rcu_tsan_gp); synchronize_rcu(); \
					     __tsan_acquire(&mg_rcu_tsan_gp); } while (0)
#define mg_rcu_barrier()                do { rcu_barrier(); __tsan_acquire(&mg_rcu_tsan_cbs); } while (0)

static inline void mg_rcu_tsan_trampoline(struct rcu_head *h)
{
	struct mg_rcu_head *m = (struct mg_rcu_head *)h;

	__tsan_acquire(m);
	__tsan_acquire(&mg_rcu_tsan_gp);
	m->fn(h);
	__tsan_release(&mg_rcu_tsan_cbs);
}

static inline void mg_call_rcu_tsan(struct mg_rcu_head *m, void (*fn)(struct rcu_head *h))
{
	m->fn = fn;
	__tsan_release(m);
	call_rcu(&m->h, mg_rcu_tsan_trampoline);
}
#define mg_call_rcu(head, fn)           mg_call_rcu_tsan(head, fn)

#endif /* MG_RCU_TSAN */
#endif
