/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nat.h - source NAT for traffic from the tailnet to the home subnets, like a Tailscale subnet
 * router with --snat-subnet-routes: flows leave with the router's LAN address and a port from a
 * reserved range that the XDP program steers back to meshgate; replies are translated back.
 * TCP and UDP by port, ICMP echo by identifier, IPv4 and IPv6.
 *
 * Threads: workers look flows up lock-free (liburcu lock-free hash, QSBR) and create them; each
 * worker owns a slice of the port range and a pool of flow objects, so creation needs no lock.
 * The control thread expires idle flows (nat_expire) and frees them after a grace period back to
 * the owner's pool through a lock-free stack.
 *
 * Cost and fairness against an authenticated peer that opens flows as fast as it can: a new flow
 * tries at most NAT_PORT_PROBES ports of the slice (continuing where the last creation stopped),
 * so creation costs the same whatever the occupancy, and fails (nat_failed) rather than scan
 * when the ports towards that one remote endpoint are nearly all taken. Ports are shared between
 * remote endpoints (the reverse key holds the remote address and port), which is why there is no
 * free-port stack: a slice of 4536/workers ports serves 32768 flows per worker. Each peer may hold
 * NAT_FLOWS_PER_PEER flows (nat_peer_limit beyond); the count lives in a slot chosen by the peer's
 * id, which is never reused, so flows that outlive their peer cannot touch freed memory. Two live
 * peers whose ids differ by a multiple of NAT_PEER_SLOTS share one count.
 */
#ifndef MG_NAT_H
#define MG_NAT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include "rcu.h"
#include <urcu/rculfhash.h>
#include "mg.h"

struct flowtrack;

#define NAT_PORT_MIN 61000u          /* above Linux's default ephemeral range (32768-60999) */
#define NAT_PORT_MAX 65535u
#define NAT_FLOWS_PER_WORKER 32768u
#define NAT_PORT_PROBES 32u           /* ports tried per new flow: creation cost is bounded */
#define NAT_FLOWS_PER_PEER 4096u      /* one peer cannot take a worker's whole pool */
#define NAT_PEER_SLOTS 4096u          /* per-peer flow counts, indexed by peer id modulo this */

#define NAT_TIMEOUT_TCP_EST_NS   (7440ULL * 1000000000ULL)  /* RFC 5382 REQ-5: >= 2 h 4 min */
#define NAT_TIMEOUT_TCP_TRANS_NS (240ULL * 1000000000ULL)   /* SYN without answer, or after FIN/RST */
#define NAT_TIMEOUT_UDP_NS       (120ULL * 1000000000ULL)   /* RFC 4787 REQ-5: >= 2 min */
#define NAT_TIMEOUT_ICMP_NS      (60ULL * 1000000000ULL)    /* RFC 5508 REQ-1: >= 60 s */

struct nat_key {
	uint8_t family, proto;
	uint16_t sport, dport;         /* network order; ICMP echo: sport = identifier, dport = 0 */
	uint8_t saddr[16], daddr[16];
	uint8_t pad[2];                /* zero: the key is hashed and compared as 40 bytes */
};
_Static_assert(sizeof(struct nat_key) == 40, "nat_key is hashed as five words");

struct nat_flow {
	struct cds_lfht_node fwd_node;   /* keyed by fwd: tailnet source -> LAN destination */
	struct cds_lfht_node rev_node;   /* keyed by rev: LAN destination -> router's address/port */
	struct nat_key fwd, rev;
	/* RFC 1624's ~m + m' over the words a translation changes, summed when the flow is made:
	 * out (source address and port) and in (destination address and port), for the IPv4 header
	 * and the TCP/UDP checksum. Updating with them gives the bytes word-by-word updates would. */
	uint32_t out_ip_delta, out_l4_delta, in_ip_delta, in_l4_delta;
	_Atomic uint64_t last_seen;      /* written by workers (coarse: only when it moved 1 s) */
	_Atomic uint8_t tcp_closing;     /* FIN or RST seen */
	_Atomic bool established;        /* a reply was seen */
	struct nat_pool *pool;           /* owner worker's pool: where the object returns */
	uint32_t peer_slot;              /* immutable while published: the creating peer's count */
	struct nat_flow *next_free;      /* lock-free free stack */
	struct mg_rcu_head rcu;
};

/* One per worker, in an array: each on its own cache lines, and the line the RCU callback thread
 * pushes to apart from the owner's (tests/unit/dataplane/test_layout.c checks both). */
struct nat_pool {
	struct nat_flow *flows;
	struct nat_flow *local_free;         /* owner only */
	uint16_t port_lo, port_hi, next_port;
	uint64_t probes;                     /* owner only: reverse-key insertions tried (cost) */
	struct nat_flow *_Atomic returned __mg_aligned;   /* pushed by the RCU callback thread,
							   * popped all at once */
} __mg_aligned;

struct nat {
	struct cds_lfht *fwd, *rev;
	struct nat_pool *pools;
	unsigned npools;
	uint64_t seed;
	_Atomic uint64_t nflows;
	_Atomic uint64_t gen;            /* moved by nat_expire before a removed flow goes to RCU */
	_Atomic uint32_t *peer_flows;    /* NAT_PEER_SLOTS counts: + by workers, - by nat_expire */
	const struct flowtrack *lan_flows;   /* flows the LAN started (NULL: none are known) */
};

int nat_init(struct nat *n, unsigned nworkers);
void nat_uninit(struct nat *n);

/* The flows the LAN started (flowtrack.h), set before the workers start: their replies from the
 * tailnet pass nat_out untranslated. */
static inline void nat_set_lan_flows(struct nat *n, const struct flowtrack *ft)
{
	n->lan_flows = ft;
}

#define NAT_PASS 1   /* nat_out: a reply to a flow the LAN started, to be sent as it is */

/* Worker: translate an IP packet from the tailnet to the LAN in place, creating the flow if
 * needed; peer_id = the sending peer's id. lan_src = the router's LAN address of that family.
 * Returns 0; NAT_PASS when the packet belongs to no flow of ours but answers one the LAN started
 * (n->lan_flows), left untouched; or the caller drops it: -EPROTONOSUPPORT not translatable
 * (fragment, protocol, not an echo request), -EADDRNOTAVAIL no port or flow object free,
 * -EDQUOT the peer is at NAT_FLOWS_PER_PEER. */
int nat_out(struct nat *n, unsigned worker, uint64_t peer_id, uint8_t *l3, uint32_t len, int family,
	    const uint8_t *lan_src, uint64_t now);
/*
 * A worker's memos of the flows nat_out_remember (or nat_in_remember, with a table of its own)
 * translated, direct-mapped by two words of the packet (where an IPv4 header without options has
 * the ports, and where the source address ends): a packet of a remembered flow is translated
 * without building, hashing or looking up a key. TCP and UDP, not fragmented, IPv4 without
 * options or IPv6 with TCP/UDP right after the fixed header (what l4_parse would read the same
 * way). A packet is the flow's if its addresses, ports and protocol are the flow's key (fwd out,
 * rev in): nothing of the packet is copied into the memo.
 *
 * An entry holds while the holder's stamp is the one it was taken under. The holder changes its
 * stamp when nat_gen() moved, read after its last RCU quiescent state: a flow is removed from the
 * table and its generation moved before it is handed to RCU, so no entry under the current stamp
 * names a flow that may be freed before the holder's next quiescent state. A hit keeps the flow's
 * last_seen as a lookup would (touched when the clock's 2^30 ns tick moved since the entry's last
 * touch), so a flow served from the memo does not idle out.
 */
#define NAT_MEMO_SLOTS 1024u         /* a power of two */

struct nat_memo {
	uint64_t stamp;                /* the holder's stamp when taken; 0 = none */
	struct nat_flow *flow;
	uint32_t ports, src;           /* the key's ports, and its source address's last 4 bytes */
	uint32_t tick;                 /* now >> 30 at the flow's last touch through the memo */
};

struct nat_memos {
	struct nat_memo slot[NAT_MEMO_SLOTS];
};

/* The moment of the last flow removal (see struct nat_memo). */
static inline uint64_t nat_gen(const struct nat *n)
{
	return atomic_load_explicit(&n->gen, memory_order_acquire);
}

/* The entry a packet with these two words (as loaded: ports, source address's last 4 bytes)
 * would be remembered in. */
static inline struct nat_memo *nat_memo_slot(struct nat_memos *t, uint32_t ports, uint32_t src)
{
	/* As loaded, a source port's bytes are bits 0-15 of ports and the destination port's 16-31;
	 * an address's last two bytes are bits 16-31 of src: folded, the bits flows differ in
	 * mostly stay apart (a multiply of the two words side by side maps flows whose port and
	 * address change together to few slots). */
	uint64_t h = (uint64_t)(ports ^ src) * 0x9e3779b97f4a7c15ull;

	return &t->slot[h >> (64 - __builtin_ctz(NAT_MEMO_SLOTS))];
}

bool nat_memo_apply(struct nat_memo *m, bool in, uint8_t *l3, uint32_t len, int family, uint64_t now,
		    bool *completed);

/* Worker: true if the packet is of a flow t remembers under stamp and is now translated as
 * nat_out (or, in, nat_in) would have at now; false leaves it as it was. completed: NULL if the
 * caller has completed a partial checksum the packet may carry (pkt.h,
 * l4_csum_complete_partial), as nat_out and nat_in want; else that is done here, between
 * knowing the packet is the flow's and translating it, and *completed says whether there was
 * one. Most packets of other flows are told apart by the two words the slot is chosen by (read
 * from the frame even if the packet is shorter: nat_memo_apply then says no); the rest of the
 * key is compared in nat_memo_apply. */
static inline bool nat_memo_translate(struct nat_memos *t, uint64_t stamp, bool in, uint8_t *l3, uint32_t len,
				      int family, uint64_t now, bool *completed)
{
	uint32_t ports, src;
	struct nat_memo *m;

	memcpy(&ports, l3 + (family == AF_INET ? 20 : 40), 4);
	memcpy(&src, l3 + (family == AF_INET ? 12 : 20), 4);
	m = nat_memo_slot(t, ports, src);
	return m->stamp == stamp && ports == m->ports && src == m->src &&
	       nat_memo_apply(m, in, l3, len, family, now, completed);
}
/* Worker: nat_out, after which a TCP or UDP flow it translated is remembered in t under stamp
 * (t NULL: not remembered). */
int nat_out_remember(struct nat *n, struct nat_memos *t, uint64_t stamp, unsigned worker, uint64_t peer_id,
		     uint8_t *l3, uint32_t len, int family, const uint8_t *lan_src, uint64_t now);
/* Worker: a packet from the LAN addressed to the router: if it answers a flow, translate it back
 * in place and return true. */
bool nat_in(struct nat *n, uint8_t *l3, uint32_t len, int family, uint64_t now);
/* Worker: nat_in, after which a TCP or UDP flow it translated is remembered in t under stamp. */
bool nat_in_remember(struct nat *n, struct nat_memos *t, uint64_t stamp, uint8_t *l3, uint32_t len, int family,
		     uint64_t now);
/* Control: expire idle flows (each moves nat_gen); returns how many were removed. */
unsigned nat_expire(struct nat *n, uint64_t now);

#endif
