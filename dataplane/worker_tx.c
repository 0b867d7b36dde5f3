// SPDX-License-Identifier: GPL-2.0-only
/*
 * worker_tx.c - packets leaving: into the tunnel (peer by allowed IPs, current keypair, counter,
 * padding, one seal batch, outer headers in the frame headroom) and onto the LAN (next-hop MAC
 * from the kernel's tables). Packets that wait for a session or a neighbour are staged, not lost.
 */
/* liburcu's inline rcu_dereference()/quiescent state, not a library call per packet. */
#define _LGPL_SOURCE
#include <endian.h>
#include <errno.h>
#include "worker_tx.h"
#include "pkt.h"
#include "mss.h"
#include "icmp_err.h"
#include "tsmp.h"
#include "wireguard/messages.h"

/* Resolve the outer next hop; false if the packet was staged or dropped. */
static bool outer_hop(struct wctx *c, struct wpkt *p, uint8_t kind, uint64_t since)
{
	int ret = wk_hop(c, p->ep.family, p->ep.addr, &p->hop);

	if (!ret)
		return true;
	if (ret == -EAGAIN) {
		wk_resolve(c, p->hop.family, p->hop.nexthop);
		wk_stage(c, p, kind, since);
		return false;
	}
	wk_drop(c, p, MG_DROP_NO_ROUTE);
	return false;
}

/* Too big for the tunnel: a LAN sender learns the MTU (RFC 1191, RFC 4443), then the drop. Out
 * of line: the error packet's room stays off wk_tunnel's stack. */
void wk_tunnel_too_big(struct wctx *c, struct wpkt *p)
{
	struct wpkt err;

	if (p->origin == FROM_LAN && icmp_err_too_big(c, p, c->dev->mtu, &err))
		wk_lan(c, &err, 0);
	wk_drop(c, p, MG_DROP_TOO_BIG);
}

/* The outer headers to endpoint ep over next hop hop, from our listen port, lengths and
 * checksum zero, into hdr; returns the IPv4 header's sum (for wk_outer4_put). */
static uint32_t outer4_template(const struct wctx *c, uint8_t *hdr, const struct mg_endpoint *ep,
				const struct nl_l2hop *hop)
{
	struct iphdr *t = (void *)(hdr + ETH_HLEN_);

	eth_build(hdr, hop->dst_mac, hop->src_mac, AF_INET);
	ipudp_build(hdr + ETH_HLEN_, ep, hop->src_addr, c->listen_port, 0);
	t->tot_len = 0;
	t->check = 0;
	((struct udphdr *)(t + 1))->len = 0;
	return csum_add(0, t, IP4_HLEN);
}

/* wk_tunnel_path without a valid entry in the peer's slot: read, looked up, and kept. */
const struct wk_path_ent *wk_tunnel_path_miss(struct wctx *c, struct wpkt *p, struct peer *peer, unsigned slot,
					      uint64_t since)
{
	struct wk_path_ent *e = &c->path[slot];
	/* the IPv4 header built 4-byte aligned, as csum_add and the header stores want it */
	_Alignas(8) uint8_t hdr[2 + sizeof(e->hdr)];
	uint32_t seq;

	seq = peer_endpoint_get_seq(peer, &p->ep);
	if (!p->ep.family) {
		wk_drop(c, p, MG_DROP_NO_ROUTE);
		return NULL;
	}
	if (!mg_endpoint_is_derp(&p->ep) && !outer_hop(c, p, STAGE_TUNNEL, since))
		return NULL;
	e->id = peer->id;
	e->epoch = c->path_epoch;
	e->ep_seq = seq;
	e->tpl4 = p->ep.family == AF_INET && !mg_endpoint_is_derp(&p->ep);
	if (e->tpl4) {
		e->sum = outer4_template(c, hdr + 2, &p->ep, &p->hop);
		memcpy(e->hdr, hdr + 2, sizeof(e->hdr));
	}
	c->path_way[slot].ep = p->ep;
	c->path_way[slot].hop = p->hop;
	p->path = (uint8_t)slot;
	p->framed = e->tpl4;
	return e;
}

void wk_tunnel(struct wctx *c, struct wpkt *p, uint64_t since)
{
	wk_tunnel_in(c, p, since, false);
}

/*
 * Control's datagrams (handshakes, cookies, keepalives of its own) go to few endpoints: their
 * IPv4 outer headers come from a small hashed set of templates, compared field by field and
 * built again when another endpoint, next hop or listen port took the slot.
 */
static const struct wk_outer4 *outer4_other(struct wctx *c, const struct wpkt *p)
{
	struct wk_outer4 *o = &c->outer4[wk_addr_slot(AF_INET, p->ep.addr, WK_OUTER_SLOTS) ^
					 (p->ep.port & (WK_OUTER_SLOTS - 1))];

	if (!o->built || o->lport != c->listen_port || o->port != p->ep.port || memcmp(o->dst, p->ep.addr, 4) ||
	    memcmp(o->src, p->hop.src_addr, 4) || memcmp(o->dst_mac, p->hop.dst_mac, 6) ||
	    memcmp(o->src_mac, p->hop.src_mac, 6)) {
		o->sum = outer4_template(c, o->hdr + 2, &p->ep, &p->hop);
		o->built = true;
		o->lport = c->listen_port;
		o->port = p->ep.port;
		memcpy(o->dst, p->ep.addr, 4);
		memcpy(o->src, p->hop.src_addr, 4);
		memcpy(o->dst_mac, p->hop.dst_mac, 6);
		memcpy(o->src_mac, p->hop.src_mac, 6);
	}
	return o;
}

/* Outer Ethernet/IP/UDP in front of the WireGuard message at msg (mlen bytes), then transmit:
 * a sealed packet not framed as it joined the batch (IPv6, DERP), or control's datagram. */
static void send_outer(struct wctx *c, struct wpkt *p, uint8_t *msg, uint32_t mlen)
{
	uint32_t iplen = wk_outer_hlen(p->ep.family) - ETH_HLEN_;
	uint8_t *ip = msg - iplen;

	if (mg_endpoint_is_derp(&p->ep)) {
		wk_punt_relay(c, p, msg, mlen);     /* control sends it through DERP */
		return;
	}
	if (p->ep.family == AF_INET) {
		const struct wk_outer4 *o = outer4_other(c, p);

		wk_outer4_put(o->hdr + 2, o->sum, msg, mlen);
	} else {
		ipudp_build(ip, &p->ep, p->hop.src_addr, c->listen_port, mlen);
		eth_build(ip - ETH_HLEN_, p->hop.dst_mac, p->hop.src_mac, p->ep.family);
	}
	wk_tx(c, ip - ETH_HLEN_, ETH_HLEN_ + iplen + mlen);
}

/* After a batch's packets of keypair group g went out (the clock is the pass's): the byte
 * count, the timers, and a new session when this one is old or used up (g->next - 1 is the
 * highest counter sent). */
static void tx_keypair_run(struct wctx *c, const struct wk_kgroup *g)
{
	struct peer *peer = g->peer;
	struct keypair *kp = g->kp;

	peer_count_bytes(peer, c->wid, false, g->bytes);
	peer_ev_auth_tx(peer, c->now, g->data);
	if (g->next > REKEY_AFTER_MESSAGES ||
	    (kp->nk.i_am_initiator && noise_keypair_aged(&kp->nk, c->now, c->dev->rekey_after_time_ns)))
		wk_want_handshake(c, peer);
}

/*
 * Packets whose nonce would be REJECT_AFTER_MESSAGES or more leave the batch (compacted in
 * order) and wait for a new session, as wk_tunnel would have staged them; the keypair is dead.
 */
static __attribute__((noinline)) unsigned seal_spent(struct wctx *c, unsigned n, unsigned ng)
{
	unsigned m = 0;

	for (unsigned i = 0; i < n; i++) {
		struct wpkt *p = &c->enc[i];

		if (c->enc_ops[i].counter < REJECT_AFTER_MESSAGES) {
			if (m != i) {
				c->enc[m] = *p;
				c->enc_ops[m] = c->enc_ops[i];
			}
			m++;
			continue;
		}
		atomic_store(&p->kp->dead, true);
		wk_want_handshake(c, p->peer);
		wk_stage(c, p, STAGE_TUNNEL, p->since);
	}
	/* The groups count what is left (a group left empty sends nothing). */
	for (unsigned g = 0; g < ng; g++) {
		c->kgrp[g].bytes = 0;
		c->kgrp[g].data = false;
	}
	for (unsigned i = 0; i < m; i++) {
		struct wk_kgroup *g = &c->kgrp[c->enc[i].grp];

		g->bytes += sizeof(struct msg_data) + c->enc[i].plen + AEAD_TAG_LEN;
		g->data |= c->enc[i].len != 0;
		g->next = c->enc_ops[i].counter + 1;
	}
	return m;
}

/* The batch's packets into keypair groups (wctx.h), by their path slot; returns the count. */
static unsigned seal_groups(struct wctx *c, unsigned n)
{
	uint64_t batch = ++c->kbatch;
	unsigned ng = 0;

	for (unsigned i = 0; i < n; i++) {
		struct wpkt *p = &c->enc[i];
		unsigned g = c->kslot[p->path].g;

		if (c->kslot[p->path].batch != batch || c->kgrp[g].kp != p->kp) {
			g = ng++;
			c->kgrp[g].kp = p->kp;   /* next: seal_nonces */
			c->kgrp[g].peer = p->peer;
			c->kgrp[g].n = 0;
			c->kgrp[g].bytes = 0;
			c->kgrp[g].data = false;
			if (c->kslot[p->path].batch != batch) {   /* else another keypair holds the slot */
				c->kslot[p->path].batch = batch;
				c->kslot[p->path].g = (uint8_t)g;
			}
		}
		c->kgrp[g].n++;
		p->grp = (uint8_t)g;
	}
	return ng;
}

/*
 * Nonces. A worker takes the keypair's send counters a block at a time, with one fetch_add
 * (a locked instruction, and a barrier, which a batch interleaving many peers would otherwise
 * pay per packet), and keeps the block in its own line of the peer (struct peer_wslot). Two
 * workers sealing for one peer, and control's keepalives, still never share a counter.
 *
 * The receiver accepts a counter up to its window (8128 or more for the kernel and
 * wireguard-go, COUNTER_WINDOW_SIZE here) behind the highest it has seen, and the highest
 * anyone may have sent is below the keypair's counter: a block is used only while the
 * keypair's counter is at most SEAL_NONCE_STALE past the next counter in it (control's
 * keepalives move the counter meanwhile, one each, and other workers by their blocks). The
 * block's keypair is named by its serial, never reused, not by its address: a keypair freed
 * and another allocated at the same place must not inherit the block.
 */
_Static_assert(SEAL_NONCE_STALE < COUNTER_WINDOW_SIZE / 4, "seal_reserve: far inside the receiver's window");
_Static_assert(SEAL_BATCH <= SEAL_NONCE_BLOCK, "seal_reserve: a new block holds any batch");

static inline uint64_t seal_reserve(struct wctx *c, struct keypair *kp, struct peer *peer, unsigned n)
{
	_Atomic uint64_t *counter = &kp->nk.send_counter;
	struct peer_wslot *s;
	uint64_t first;

	if (unlikely(c->wid >= PEER_BYTE_SLOTS))
		return atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
	s = &peer->wslot[c->wid];
	first = s->nonce_next;
	if (likely(s->nonce_serial == kp->serial && s->nonce_end - first >= n &&
		   atomic_load_explicit(counter, memory_order_relaxed) - first <= SEAL_NONCE_STALE)) {
		s->nonce_next = first + n;
		return first;
	}
	first = atomic_fetch_add_explicit(counter, SEAL_NONCE_BLOCK, memory_order_relaxed);
	s->nonce_serial = kp->serial;
	s->nonce_next = first + n;
	s->nonce_end = first + SEAL_NONCE_BLOCK;
	return first;
}

static unsigned seal_nonces(struct wctx *c, unsigned n, unsigned ng)
{
	bool spent = false;

	for (unsigned g = 0; g < ng; g++)
		c->kgrp[g].next = seal_reserve(c, c->kgrp[g].kp, c->kgrp[g].peer, c->kgrp[g].n);
	for (unsigned i = 0; i < n; i++) {
		struct wpkt *p = &c->enc[i];
		struct msg_data *hdr = (struct msg_data *)(p->l3 - sizeof(*hdr));
		struct wk_kgroup *g = &c->kgrp[p->grp];
		uint64_t ctr = g->next++;

		spent |= ctr >= REJECT_AFTER_MESSAGES;
		hdr->counter = htole64(ctr);
		c->enc_ops[i].counter = ctr;
		/* the group's byte count and data flag here, where its line is at hand */
		g->bytes += sizeof(struct msg_data) + p->plen + AEAD_TAG_LEN;
		g->data |= p->len != 0;
	}
	return unlikely(spent) ? seal_spent(c, n, ng) : n;
}

/*
 * seal_groups and seal_nonces for a batch of one keypair's packets (one peer's traffic, the
 * common case): one group, no slot map, the counters handed out in order from one block.
 * The last counter is the highest, so it alone says whether the keypair is used up.
 */
static unsigned seal_one_group(struct wctx *c, unsigned n)
{
	struct wk_kgroup *g = &c->kgrp[0];
	uint64_t first, bytes = 0;
	bool data = false;

	*g = (struct wk_kgroup){ .kp = c->enc[0].kp, .peer = c->enc[0].peer, .n = n };
	first = seal_reserve(c, g->kp, g->peer, n);
	for (unsigned i = 0; i < n; i++) {
		struct wpkt *p = &c->enc[i];
		struct msg_data *hdr = (struct msg_data *)(p->l3 - sizeof(*hdr));

		hdr->counter = htole64(first + i);
		c->enc_ops[i].counter = first + i;
		bytes += p->plen;
		data |= p->len != 0;
	}
	g->next = first + n;
	g->bytes = bytes + n * (sizeof(struct msg_data) + AEAD_TAG_LEN);
	g->data = data;
	if (unlikely(g->next > REJECT_AFTER_MESSAGES)) {
		for (unsigned i = 0; i < n; i++)
			c->enc[i].grp = 0;
		return seal_spent(c, n, 1);
	}
	return n;
}

/* Whether the n packets of the seal batch are all of one keypair. */
static inline bool seal_one_keypair(const struct wctx *c, unsigned n)
{
	const struct keypair *kp = c->enc[0].kp;
	unsigned i = 1;

	while (i < n && c->enc[i].kp == kp)
		i++;
	return i == n;
}

void wk_flush_seal(struct wctx *c)
{
	unsigned n = c->nenc, ng, was, unframed = 0;
	uint64_t bytes = 0, unframed_bytes = 0;

	if (!n)
		return;
	was = wk_prof_to(c->prof, WK_PROF_SEAL_BEFORE);
	c->nenc = 0;
	if (seal_one_keypair(c, n)) {
		ng = 1;
		n = seal_one_group(c, n);
	} else {
		ng = seal_groups(c, n);
		n = seal_nonces(c, n, ng);
	}
	if (!n) {
		wk_prof_to(c->prof, was);
		return;
	}
	wk_prof_to(c->prof, WK_PROF_SEAL_AEAD);
	for (unsigned i = 0, k; i < n; i += k) {   /* calls of at most the backends' most */
		k = n - i < AEAD_BURST_MAX ? n - i : AEAD_BURST_MAX;
		wk_batch_hist(c, k);
		aead_seal_burst(c->enc_ops + i, k);
	}
	wk_prof_to(c->prof, WK_PROF_SEAL_AFTER);
	for (unsigned i = 0; i < n; i++) {
		struct wpkt *p = &c->enc[i];
		uint32_t mlen = sizeof(struct msg_data) + p->plen + AEAD_TAG_LEN;

		bytes += mlen;
		/* Over plain IPv4 the headers are in the frame (wk_outer4_put); it is counted with
		 * the others after the loop. */
		if (likely(p->framed)) {
			wk_tx_list(c, p->l3 - sizeof(struct msg_data) - UDP_HLEN - IP4_HLEN - ETH_HLEN_,
				   ETH_HLEN_ + IP4_HLEN + UDP_HLEN + mlen);
			continue;
		}
		unframed++;
		unframed_bytes += mlen;
		send_outer(c, p, p->l3 - sizeof(struct msg_data), mlen);
		if (p->ep.family == AF_INET6) {
			c->ctr->encap_packets6++;
			c->ctr->encap_bytes6 += mlen;
		} else {
			c->ctr->encap_packets_derp++;
			c->ctr->encap_bytes_derp += mlen;
		}
	}
	/* Byte counts, timers and the rekey test once per keypair and batch (a group whose every
	 * packet was staged by seal_spent sent nothing). */
	for (unsigned k = 0; k < ng; k++)
		if (c->kgrp[k].bytes)
			tx_keypair_run(c, &c->kgrp[k]);
	c->ctr->encap_packets += n;
	c->ctr->encap_bytes += bytes;
	c->ctr->tx_packets += n - unframed;
	c->ctr->tx_bytes += bytes - unframed_bytes + (n - unframed) * (ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	wk_prof_to(c->prof, was);
}

void wk_lan_slow(struct wctx *c, struct wpkt *p, uint64_t since)
{
	int ret;

	if (p->len > c->lan_mtu) {
		wk_drop(c, p, MG_DROP_TOO_BIG);
		return;
	}
	/* SYNs leaving the tunnel for the LAN: the LAN host must not offer more than the tunnel carries. */
	if (!since && p->origin == FROM_PEER && mss_clamp(p->l3, p->len, p->family, c->dev->mtu))
		c->ctr->mss_clamped++;
	ret = wk_hop(c, p->family, ip_dst(p->l3, p->family), &p->hop);
	if (ret == -EAGAIN) {
		wk_resolve(c, p->hop.family, p->hop.nexthop);
		wk_stage(c, p, STAGE_LAN, since);
		return;
	}
	if (ret) {
		wk_drop(c, p, MG_DROP_NO_ROUTE);
		return;
	}
	eth_build(p->l3 - ETH_HLEN_, p->hop.dst_mac, p->hop.src_mac, p->family);
	wk_tx(c, p->l3 - ETH_HLEN_, ETH_HLEN_ + p->len);
}

void wk_udp(struct wctx *c, struct wpkt *p, uint64_t since)
{
	if (!mg_endpoint_is_derp(&p->ep) && !outer_hop(c, p, STAGE_UDP, since))
		return;
	send_outer(c, p, p->l3, p->len);
}
