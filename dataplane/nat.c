// SPDX-License-Identifier: GPL-2.0-only
/*
 * nat.c - see nat.h. Behaviour follows the NAT BEHAVE RFCs where they speak: endpoint-independent
 * mapping is not attempted (a flow is the 5-tuple), timeouts at least RFC 4787/5382/5508's minima.
 * Checksums are updated incrementally (RFC 1624), never recomputed over the payload.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sodium.h>
#include "nat.h"
#include "flowtrack.h"
#include "pkt.h"

#define ICMP_ECHO_REQ4 8
#define ICMP_ECHO_REP4 0
#define ICMP_ECHO_REQ6 128
#define ICMP_ECHO_REP6 129
#define LAST_SEEN_GRANULARITY_NS 1000000000ULL

/* Where the translated fields live in one packet. */
struct l4_view {
	uint8_t proto;
	uint8_t *sport, *dport;       /* ICMP echo: sport = dport = identifier */
	uint8_t *check;               /* L4 checksum, NULL if absent (UDPv4 with zero checksum) */
	bool pseudo;                  /* checksum covers the addresses */
	uint8_t tcp_flags;
	uint8_t icmp_type;
};

static bool l4_parse(uint8_t *l3, uint32_t len, int family, struct l4_view *v)
{
	uint32_t hl;
	uint8_t *l4;

	memset(v, 0, sizeof(*v));
	if (family == AF_INET) {
		const struct iphdr *ip = (const void *)l3;

		if (ip->frag_off & htons(0x3fff))
			return false;          /* fragments cannot be translated without reassembly */
		v->proto = ip->protocol;
		hl = ip->ihl * 4u;
	} else {
		v->proto = l3[6];
		hl = IP6_HLEN;
	}
	l4 = l3 + hl;
	switch (v->proto) {
	case IPPROTO_TCP:
		if (len < hl + 20)
			return false;
		v->check = l4 + 16;
		v->tcp_flags = l4[13];
		break;
	case IPPROTO_UDP:
		if (len < hl + 8)
			return false;
		v->check = l4 + 6;
		if (family == AF_INET && !l4[6] && !l4[7])
			v->check = NULL;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len < hl + 8 || (v->proto == IPPROTO_ICMP) != (family == AF_INET))
			return false;
		v->icmp_type = l4[0];
		v->sport = v->dport = l4 + 4;
		v->check = l4 + 2;
		v->pseudo = v->proto == IPPROTO_ICMPV6;
		return true;
	default:
		return false;
	}
	v->sport = l4;
	v->dport = l4 + 2;
	v->pseudo = true;
	return true;
}

/* Rewrite an address (source or destination) and its checksums. */
/*
 * Update the L4 checksum. A UDP checksum that computes to 0 is sent as 0xffff (RFC 768; RFC 8200
 * 8.1: IPv6 receivers drop a zero UDP checksum); both are zero in one's complement, so 0xffff is
 * the same sum. IPv4 UDP without a checksum has check == NULL and stays zero (l4_parse).
 */
static void l4_csum_replace(const struct l4_view *v, const uint8_t *old, const uint8_t *new, size_t n)
{
	csum_replace(v->check, old, new, n);
	if (v->proto == IPPROTO_UDP && !v->check[0] && !v->check[1])
		v->check[0] = v->check[1] = 0xff;
}

static void set_addr(uint8_t *l3, int family, uint8_t *field, const uint8_t *addr, const struct l4_view *v)
{
	size_t alen = family == AF_INET ? 4 : 16;

	if (family == AF_INET)
		csum_replace(l3 + 10, field, addr, alen);
	if (v->check && v->pseudo)
		l4_csum_replace(v, field, addr, alen);
	memcpy(field, addr, alen);
}

static void set_port(uint8_t *field, uint16_t port_be, const struct l4_view *v)
{
	if (v->check)
		l4_csum_replace(v, field, (const uint8_t *)&port_be, 2);
	memcpy(field, &port_be, 2);
}

static unsigned long key_hash(const struct nat *n, const struct nat_key *k)
{
	uint64_t w[5], h = n->seed;

	memcpy(w, k, sizeof(w));
	for (int i = 0; i < 5; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return (unsigned long)h;
}

static int match_fwd(struct cds_lfht_node *node, const void *key)
{
	return !memcmp(&caa_container_of(node, struct nat_flow, fwd_node)->fwd, key, sizeof(struct nat_key));
}

static int match_rev(struct cds_lfht_node *node, const void *key)
{
	return !memcmp(&caa_container_of(node, struct nat_flow, rev_node)->rev, key, sizeof(struct nat_key));
}

static struct nat_flow *lookup(struct nat *n, struct cds_lfht *t, const struct nat_key *k, bool fwd)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;

	cds_lfht_lookup(t, key_hash(n, k), fwd ? match_fwd : match_rev, k, &it);
	node = cds_lfht_iter_get_node(&it);
	if (!node)
		return NULL;
	return fwd ? caa_container_of(node, struct nat_flow, fwd_node) :
		     caa_container_of(node, struct nat_flow, rev_node);
}

static void key_from(struct nat_key *k, const uint8_t *l3, int family, const struct l4_view *v, bool icmp_reply)
{
	size_t alen = family == AF_INET ? 4 : 16;

	memset(k, 0, sizeof(*k));
	k->family = family;
	k->proto = v->proto;
	memcpy(k->saddr, ip_src(l3, family), alen);
	memcpy(k->daddr, ip_dst(l3, family), alen);
	if (v->proto == IPPROTO_ICMP || v->proto == IPPROTO_ICMPV6) {
		/* Echo: the identifier names the flow; on a reply it is the translated one. */
		memcpy(icmp_reply ? &k->dport : &k->sport, v->sport, 2);
		return;
	}
	memcpy(&k->sport, v->sport, 2);
	memcpy(&k->dport, v->dport, 2);
}

static void flow_touch(struct nat_flow *f, uint64_t now)
{
	if (now - atomic_load_explicit(&f->last_seen, memory_order_relaxed) >= LAST_SEEN_GRANULARITY_NS)
		atomic_store_explicit(&f->last_seen, now, memory_order_relaxed);
}

static struct nat_flow *pool_get(struct nat_pool *p)
{
	struct nat_flow *f;

	if (!p->local_free)
		p->local_free = atomic_exchange(&p->returned, NULL);
	f = p->local_free;
	if (f)
		p->local_free = f->next_free;
	return f;
}

/* A flow whose rev node could not be published, or lost a race, goes straight back (never seen). */
static void pool_put_local(struct nat_pool *p, struct nat_flow *f)
{
	f->next_free = p->local_free;
	p->local_free = f;
}

/* Runs on the RCU callback thread: push back to the owner's pool (lock-free, multi-producer). */
static void flow_free_rcu(struct rcu_head *head)
{
	struct nat_flow *f = caa_container_of(head, struct nat_flow, rcu.h);
	struct nat_pool *p = f->pool;
	struct nat_flow *old = atomic_load(&p->returned);

	do
		f->next_free = old;
	while (!atomic_compare_exchange_weak(&p->returned, &old, f));
}

/* The flow's checksum deltas (struct nat_flow), from its keys. */
static void flow_deltas(struct nat_flow *f)
{
	size_t alen = f->fwd.family == AF_INET ? 4 : 16;

	f->out_ip_delta = csum_delta(f->fwd.saddr, f->rev.daddr, alen);
	f->out_l4_delta = f->out_ip_delta + csum_delta((const uint8_t *)&f->fwd.sport, (const uint8_t *)&f->rev.dport, 2);
	f->in_ip_delta = csum_delta(f->rev.daddr, f->fwd.saddr, alen);
	f->in_l4_delta = f->in_ip_delta + csum_delta((const uint8_t *)&f->rev.dport, (const uint8_t *)&f->fwd.sport, 2);
}

/* Try up to NAT_PORT_PROBES ports of the worker's slice for a free reverse key; publish the flow. */
static struct nat_flow *flow_publish(struct nat *n, struct nat_pool *p, struct nat_flow *f)
{
	struct nat_flow *other;

	for (unsigned tries = 0; tries < NAT_PORT_PROBES; tries++) {
		uint16_t port = p->next_port;

		p->next_port = port == p->port_hi ? p->port_lo : port + 1;
		f->rev.dport = htons(port);
		flow_deltas(f);          /* before the flow is visible: the memos read them */
		p->probes++;
		cds_lfht_node_init(&f->rev_node);
		if (cds_lfht_add_unique(n->rev, key_hash(n, &f->rev), match_rev, &f->rev, &f->rev_node) != &f->rev_node)
			continue;
		cds_lfht_node_init(&f->fwd_node);
		other = caa_container_of(cds_lfht_add_unique(n->fwd, key_hash(n, &f->fwd), match_fwd, &f->fwd,
							     &f->fwd_node), struct nat_flow, fwd_node);
		if (other != f) {
			/* Another worker created the same flow a moment ago: use theirs. Ours was
			 * visible in the reverse table, so it can only be recycled after a grace period. */
			cds_lfht_del(n->rev, &f->rev_node);
			mg_call_rcu(&f->rcu, flow_free_rcu);
		}
		return other;
	}
	pool_put_local(p, f);
	return NULL;
}

/* Create the flow for fwd, charged to the peer's count (taken first, so racing workers cannot
 * overshoot the limit, and given back when the flow is not ours after all). */
static int flow_create(struct nat *n, unsigned worker, uint64_t peer_id, const struct nat_key *fwd,
		       const uint8_t *lan_src, uint64_t now, struct nat_flow **out)
{
	struct nat_pool *p = &n->pools[worker];
	uint32_t slot = (uint32_t)(peer_id % NAT_PEER_SLOTS);
	size_t alen = fwd->family == AF_INET ? 4 : 16;
	bool icmp = fwd->proto == IPPROTO_ICMP || fwd->proto == IPPROTO_ICMPV6;
	struct nat_flow *f;

	if (atomic_fetch_add(&n->peer_flows[slot], 1) >= NAT_FLOWS_PER_PEER) {
		atomic_fetch_sub(&n->peer_flows[slot], 1);
		return -EDQUOT;
	}
	f = pool_get(p);
	if (!f)
		goto fail;
	f->fwd = *fwd;
	f->peer_slot = slot;
	memset(&f->rev, 0, sizeof(f->rev));
	f->rev.family = fwd->family;
	f->rev.proto = fwd->proto;
	memcpy(f->rev.saddr, fwd->daddr, alen);
	memcpy(f->rev.daddr, lan_src, alen);
	f->rev.sport = icmp ? 0 : fwd->dport;
	atomic_store(&f->last_seen, now);
	atomic_store(&f->tcp_closing, 0);
	atomic_store(&f->established, false);
	*out = flow_publish(n, p, f);
	if (!*out)
		goto fail;
	if (*out == f)
		atomic_fetch_add(&n->nflows, 1);
	else
		atomic_fetch_sub(&n->peer_flows[slot], 1);     /* the other worker's flow was charged */
	return 0;
fail:
	atomic_fetch_sub(&n->peer_flows[slot], 1);
	return -EADDRNOTAVAIL;
}

/*
 * The memo's view of a packet: its protocol and header length, and the size of one address, if
 * it is a packet the memo may stand for (see struct nat_memo); else 0. Those are the packets
 * l4_parse reads with the L4 header right after a fixed-size IP header.
 */
static inline unsigned memo_view(const uint8_t *l3, uint32_t len, int family, uint8_t *proto, uint32_t *hl)
{
	if (!ip_l4_follows(l3, family))
		return 0;
	if (family == AF_INET) {
		*proto = l3[9];
		*hl = IP4_HLEN;
	} else {
		*proto = l3[6];
		*hl = IP6_HLEN;
	}
	if (!(*proto == IPPROTO_TCP && len >= *hl + 20) && !(*proto == IPPROTO_UDP && len >= *hl + 8))
		return 0;
	return family == AF_INET ? 4 : 16;
}

/* From now on under stamp, t remembers f, whose key k (fwd out, rev in) packets must have; f was
 * touched at now. */
static inline void memo_take(struct nat_memos *t, uint64_t stamp, struct nat_flow *f, const struct nat_key *k,
			     uint64_t now)
{
	struct nat_memo *m;
	uint32_t ports, src;

	if (k->proto != IPPROTO_TCP && k->proto != IPPROTO_UDP)
		return;                 /* the memo, if any, still stands for its own flows */
	memcpy(&ports, &k->sport, 4);
	memcpy(&src, k->saddr + (k->family == AF_INET ? 0 : 12), 4);
	m = nat_memo_slot(t, ports, src);
	m->stamp = stamp;
	m->flow = f;
	m->ports = ports;
	m->src = src;
	m->tick = (uint32_t)(now >> 30);
}

bool nat_memo_apply(struct nat_memo *m, bool in, uint8_t *l3, uint32_t len, int family, uint64_t now,
		    bool *completed)
{
	const unsigned saddr = family == AF_INET ? 12 : 8, daddr = family == AF_INET ? 16 : 24;
	struct nat_flow *f = m->flow;
	const struct nat_key *k;
	uint8_t *l4, proto;
	uint32_t hl, ports, kports, ip_delta, l4_delta;
	unsigned alen;

	k = in ? &f->rev : &f->fwd;
	alen = memo_view(l3, len, family, &proto, &hl);
	if (!alen)                       /* hl unknown: a fragment, options, extension headers */
		return false;
	l4 = l3 + hl;
	memcpy(&ports, l4, 4);
	memcpy(&kports, &k->sport, 4);             /* sport, dport: as in the packet */
	if (k->family != family || k->proto != proto || ports != kports)
		return false;
	if (family == AF_INET) {         /* fixed sizes: compared inline, no libc call */
		if (memcmp(l3 + saddr, k->saddr, 4) || memcmp(l3 + daddr, k->daddr, 4))
			return false;
	} else if (memcmp(l3 + saddr, k->saddr, 16) || memcmp(l3 + daddr, k->daddr, 16)) {
		return false;
	}
	if (completed)
		*completed = l4_csum_complete_partial(l3, len, family);
	ip_delta = in ? f->in_ip_delta : f->out_ip_delta;
	l4_delta = in ? f->in_l4_delta : f->out_l4_delta;
	if (family == AF_INET)
		csum_apply(l3 + 10, ip_delta);
	if (proto == IPPROTO_TCP) {
		csum_apply(l4 + 16, l4_delta);
		if (l4[13] & 0x05)              /* FIN or RST */
			atomic_store_explicit(&f->tcp_closing, 1, memory_order_relaxed);
	} else if (family == AF_INET6 || l4[6] || l4[7]) {   /* IPv4 UDP without a checksum stays so */
		if (!csum_apply(l4 + 6, l4_delta))
			l4[6] = l4[7] = 0xff;           /* RFC 768: a computed 0 is sent as 0xffff */
	}
	if (unlikely(m->tick != (uint32_t)(now >> 30))) {
		m->tick = (uint32_t)(now >> 30);
		flow_touch(f, now);
	}
	/* (the address by its fixed size: a store or two, not a libc call) */
	if (in) {
		if (family == AF_INET)
			memcpy(l3 + daddr, f->fwd.saddr, 4);
		else
			memcpy(l3 + daddr, f->fwd.saddr, 16);
		memcpy(l4 + 2, &f->fwd.sport, 2);
	} else {
		if (family == AF_INET)
			memcpy(l3 + saddr, f->rev.daddr, 4);
		else
			memcpy(l3 + saddr, f->rev.daddr, 16);
		memcpy(l4, &f->rev.dport, 2);
	}
	return true;
}

int nat_out_remember(struct nat *n, struct nat_memos *t, uint64_t stamp, unsigned worker, uint64_t peer_id,
		     uint8_t *l3, uint32_t len, int family, const uint8_t *lan_src, uint64_t now)
{
	struct l4_view v;
	struct nat_key k;
	struct nat_flow *f;
	int err;

	if (!l4_parse(l3, len, family, &v))
		return -EPROTONOSUPPORT;
	if ((v.proto == IPPROTO_ICMP && v.icmp_type != ICMP_ECHO_REQ4) ||
	    (v.proto == IPPROTO_ICMPV6 && v.icmp_type != ICMP_ECHO_REQ6))
		return n->lan_flows && flowtrack_is_reply(n->lan_flows, l3, len, family, now) ?
		       NAT_PASS : -EPROTONOSUPPORT;
	key_from(&k, l3, family, &v, false);
	f = lookup(n, n->fwd, &k, true);
	if (!f) {
		/* Not a flow of ours: the tailnet's answer to one the LAN started keeps its address. */
		if (n->lan_flows && flowtrack_is_reply(n->lan_flows, l3, len, family, now))
			return NAT_PASS;
		err = flow_create(n, worker, peer_id, &k, lan_src, now, &f);
		if (err)
			return err;
	}
	flow_touch(f, now);
	if (v.proto == IPPROTO_TCP && (v.tcp_flags & 0x05))     /* FIN or RST */
		atomic_store_explicit(&f->tcp_closing, 1, memory_order_relaxed);
	set_addr(l3, family, (uint8_t *)ip_src(l3, family), f->rev.daddr, &v);
	set_port(v.sport, f->rev.dport, &v);
	if (t)
		memo_take(t, stamp, f, &f->fwd, now);
	return 0;
}

int nat_out(struct nat *n, unsigned worker, uint64_t peer_id, uint8_t *l3, uint32_t len, int family,
	    const uint8_t *lan_src, uint64_t now)
{
	return nat_out_remember(n, NULL, 0, worker, peer_id, l3, len, family, lan_src, now);
}

bool nat_in_remember(struct nat *n, struct nat_memos *t, uint64_t stamp, uint8_t *l3, uint32_t len, int family,
		     uint64_t now)
{
	struct l4_view v;
	struct nat_key k;
	struct nat_flow *f;

	if (!l4_parse(l3, len, family, &v))
		return false;
	if ((v.proto == IPPROTO_ICMP && v.icmp_type != ICMP_ECHO_REP4) ||
	    (v.proto == IPPROTO_ICMPV6 && v.icmp_type != ICMP_ECHO_REP6))
		return false;
	key_from(&k, l3, family, &v, true);
	f = lookup(n, n->rev, &k, false);
	if (!f)
		return false;
	flow_touch(f, now);
	if (!atomic_load_explicit(&f->established, memory_order_relaxed))
		atomic_store_explicit(&f->established, true, memory_order_relaxed);
	if (v.proto == IPPROTO_TCP && (v.tcp_flags & 0x05))
		atomic_store_explicit(&f->tcp_closing, 1, memory_order_relaxed);
	set_addr(l3, family, (uint8_t *)ip_dst(l3, family), f->fwd.saddr, &v);
	set_port(v.proto == IPPROTO_TCP || v.proto == IPPROTO_UDP ? v.dport : v.sport, f->fwd.sport, &v);
	if (t)
		memo_take(t, stamp, f, &f->rev, now);
	return true;
}

bool nat_in(struct nat *n, uint8_t *l3, uint32_t len, int family, uint64_t now)
{
	return nat_in_remember(n, NULL, 0, l3, len, family, now);
}

static uint64_t flow_timeout(const struct nat_flow *f)
{
	if (f->fwd.proto == IPPROTO_TCP)
		return atomic_load(&f->established) && !atomic_load(&f->tcp_closing) ?
		       NAT_TIMEOUT_TCP_EST_NS : NAT_TIMEOUT_TCP_TRANS_NS;
	if (f->fwd.proto == IPPROTO_UDP)
		return NAT_TIMEOUT_UDP_NS;
	return NAT_TIMEOUT_ICMP_NS;
}

unsigned nat_expire(struct nat *n, uint64_t now)
{
	struct cds_lfht_iter it;
	struct nat_flow *f;
	unsigned removed = 0;

	cds_lfht_for_each_entry(n->fwd, &it, f, fwd_node) {
		if (now - atomic_load(&f->last_seen) < flow_timeout(f))
			continue;
		if (cds_lfht_del(n->fwd, &f->fwd_node))
			continue;
		cds_lfht_del(n->rev, &f->rev_node);
		atomic_fetch_sub(&n->nflows, 1);
		atomic_fetch_sub(&n->peer_flows[f->peer_slot], 1);
		atomic_fetch_add(&n->gen, 1);   /* before RCU may free it: see struct nat_memo */
		mg_call_rcu(&f->rcu, flow_free_rcu);
		removed++;
	}
	return removed;
}

int nat_init(struct nat *n, unsigned nworkers)
{
	unsigned span = (NAT_PORT_MAX - NAT_PORT_MIN + 1) / nworkers;

	memset(n, 0, sizeof(*n));
	n->seed = ((uint64_t)randombytes_random() << 32) | randombytes_random();
	n->fwd = cds_lfht_new(1024, 1024, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
	n->rev = cds_lfht_new(1024, 1024, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
	n->pools = aligned_alloc(MG_CACHELINE, nworkers * sizeof(*n->pools));   /* size: whole lines */
	if (n->pools)
		memset(n->pools, 0, nworkers * sizeof(*n->pools));
	n->peer_flows = calloc(NAT_PEER_SLOTS, sizeof(*n->peer_flows));
	if (!n->fwd || !n->rev || !n->pools || !n->peer_flows || !span)
		goto err;
	n->npools = nworkers;
	for (unsigned w = 0; w < nworkers; w++) {
		struct nat_pool *p = &n->pools[w];

		p->flows = calloc(NAT_FLOWS_PER_WORKER, sizeof(*p->flows));
		if (!p->flows)
			goto err;
		for (unsigned i = 0; i < NAT_FLOWS_PER_WORKER; i++) {
			p->flows[i].pool = p;
			pool_put_local(p, &p->flows[i]);
		}
		p->port_lo = NAT_PORT_MIN + w * span;
		p->port_hi = p->port_lo + span - 1;
		p->next_port = p->port_lo;
	}
	return 0;
err:
	nat_uninit(n);
	return -ENOMEM;
}

/* After the workers stopped: drop every flow and wait for pending frees before freeing pools. */
void nat_uninit(struct nat *n)
{
	if (n->fwd)
		nat_expire(n, UINT64_MAX / 2);
	mg_rcu_barrier();
	if (n->fwd)
		cds_lfht_destroy(n->fwd, NULL);
	if (n->rev)
		cds_lfht_destroy(n->rev, NULL);
	for (unsigned w = 0; n->pools && w < n->npools; w++)
		free(n->pools[w].flows);
	free(n->pools);
	free(n->peer_flows);
	memset(n, 0, sizeof(*n));
}
