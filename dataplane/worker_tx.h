/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * worker_tx.h - packets leaving a worker (worker_tx.c): into the tunnel (peer, keypair, seal
 * batch, outer headers) and onto the LAN. Each consumes the packet: sealed and sent, staged
 * (no session or no next-hop MAC yet), or dropped with a reason. since = 0 for a new packet,
 * its first time for a staged retry (the stage timeout counts from there).
 */
#ifndef MG_WORKER_TX_H
#define MG_WORKER_TX_H

#include <endian.h>
#include <stddef.h>
#include "wctx.h"
#include "mss.h"
#include "pkt.h"
#include "tsmp.h"
#include "wireguard/messages.h"

void wk_tunnel(struct wctx *c, struct wpkt *p, uint64_t since);
/* Seals the batch wk_tunnel gathered and hands each message to its outer headers. */
void wk_flush_seal(struct wctx *c);
/* wk_tunnel's parts out of line: too big for the tunnel (an ICMP error to a LAN sender, then the
 * drop); the peer's path without a valid cache entry in its slot. */
void wk_tunnel_too_big(struct wctx *c, struct wpkt *p);
const struct wk_path_ent *wk_tunnel_path_miss(struct wctx *c, struct wpkt *p, struct peer *peer, unsigned slot,
					      uint64_t since);
/* Onto the LAN in every case (MTU, MSS clamp, next hop, staging); wk_lan takes it when the next
 * hop is cached. */
void wk_lan_slow(struct wctx *c, struct wpkt *p, uint64_t since);

/* The Ethernet header to next hop h: both MACs in one 12-byte copy (they are adjacent there). */
static inline void wk_eth_hop(uint8_t *eth, const struct nl_l2hop *h, int family)
{
	_Static_assert(offsetof(struct nl_l2hop, dst_mac) == 0 && offsetof(struct nl_l2hop, src_mac) == 6,
		       "the MACs lead struct nl_l2hop, destination first");
	memcpy(eth, h, 12);
	*(uint16_t *)(eth + 12) = htons(family == AF_INET ? ETHERTYPE_IP : ETHERTYPE_IPV6);
}

/* Onto the LAN: inline for a next hop this worker already knows (most packets); always, since
 * the compiler otherwise kept an out-of-line copy and a call per packet out of the tunnel. */
static inline __attribute__((always_inline)) void wk_lan(struct wctx *c, struct wpkt *p, uint64_t since)
{
	const struct nl_l2hop *h;

	if (likely(p->len <= c->lan_mtu && (h = wk_hop_cached(c, p->family, ip_dst(p->l3, p->family))))) {
		/* SYNs leaving the tunnel for the LAN: the LAN host must not offer more than the
		 * tunnel carries. */
		if (!since && p->origin == FROM_PEER && mss_clamp(p->l3, p->len, p->family, c->dev->mtu))
			c->ctr->mss_clamped++;
		wk_eth_hop(p->l3 - ETH_HLEN_, h, p->family);
		wk_tx(c, p->l3 - ETH_HLEN_, ETH_HLEN_ + p->len);
		return;
	}
	wk_lan_slow(c, p, since);
}
void wk_udp(struct wctx *c, struct wpkt *p, uint64_t since);   /* p->l3 = WireGuard message, p->ep = dst */

/*
 * Into the tunnel (wk_tunnel is this, out of line). Inline here for the classification of LAN
 * packets, which sends most packets this way: a call per packet saved and restored six
 * registers. other_slot: the caller knows p_in is not the seal batch's next slot.
 */
static inline uint32_t wk_outer_hlen(int family)
{
	return ETH_HLEN_ + (family == AF_INET ? IP4_HLEN : IP6_HLEN) + UDP_HLEN;
}

/* Room in the frame before l3 for `head` bytes and after l3+len for `tail` bytes. */
static inline bool wk_frame_room(struct wctx *c, const uint8_t *l3, uint32_t head, uint32_t tail_end)
{
	uint64_t off = wk_addr(c, l3);
	uint64_t base = io_frame_base(off);

	return off - base >= head && off - base + tail_end <= IO_FRAME_SIZE;
}

static inline bool wk_keypair_usable(const struct wctx *c, const struct keypair *kp)
{
	return kp && !atomic_load_explicit(&kp->dead, memory_order_relaxed) &&
	       !noise_keypair_expired(&kp->nk, c->now);
}

/*
 * Into the tunnel from the LAN or the host: TSMP is the router's own to send, never a host's
 * (tailscaled drops it from its TUN too: a LAN host must not speak for the router); a flow the
 * LAN starts is remembered (flowtrack.h) while there is a packet filter, so that its replies
 * pass it, or SNAT, so that they keep their source. A reply nat_in translated (natted) starts
 * nothing.
 */
/*
 * Whether the packet at l3 is an unfragmented TCP or UDP packet (IPv4 without options, or IPv6
 * with TCP/UDP right after the fixed header) of the flow this worker noted last in this pass:
 * then noting it again would change nothing (the table is this worker's alone, nothing was
 * noted since, and the pass's clock is the same). Else the caller notes it, and it becomes the
 * flow noted last, or, not being such a packet, clears the memo (its note may evict the
 * remembered flow's entry). A bulk flow's burst asks the flow table once instead of per packet
 * (key, keyed hash, bucket compare).
 */
static inline bool wk_flow_noted(struct wctx *c, const uint8_t *l3, uint32_t len, int family, uint8_t proto)
{
	struct wk_flow_key k;

	if (!wk_flow_key(&k, l3, len, family, proto)) {
		c->flow_noted.pass = 0;
		return false;
	}
	if (c->flow_noted.pass == c->pass && wk_flow_key_eq(&c->flow_noted.k, &k))
		return true;
	c->flow_noted.pass = c->pass;
	c->flow_noted.k = k;
	return false;
}

static inline __attribute__((always_inline)) bool wk_tunnel_from_us(struct wctx *c, struct wpkt *p, uint8_t proto,
								     bool natted)
{
	if (unlikely(proto == TSMP_PROTO)) {
		wk_drop(c, p, MG_DROP_TSMP);
		return false;
	}
	if (!natted && c->note_flows && !wk_flow_noted(c, p->l3, p->len, p->family, proto)) {
		enum flowtrack_note n = flowtrack_note_out(&c->dev->flows, c->wid, p->l3, p->len,
							   p->family, c->now);

		c->ctr->flows_tracked += n != FLOWTRACK_NONE;
		c->ctr->flows_evicted += n == FLOWTRACK_EVICTED;
	}
	return true;
}

/*
 * The peer's way out, from the worker's path cache (wctx.h) while the peer's endpoint sequence
 * number and the path epoch are unchanged; else read (the seqlock), looked up, and kept. Over
 * plain IPv4 the packet then needs only the entry (its outer headers, written by
 * wk_outer4_put); otherwise it carries its endpoint and next hop (p->ep, p->hop). NULL if the
 * packet was staged or dropped.
 */
static inline __attribute__((always_inline)) const struct wk_path_ent *
wk_tunnel_path(struct wctx *c, struct wpkt *p, struct peer *peer, uint64_t since)
{
	uint64_t id = peer->id;
	unsigned slot = id & (WK_PATH_SLOTS - 1);
	const struct wk_path_ent *e = &c->path[slot];

	if (unlikely(e->id != id || e->epoch != c->path_epoch || e->ep_seq != peer_endpoint_seq(peer)))
		return wk_tunnel_path_miss(c, p, peer, slot, since);
	p->path = (uint8_t)slot;
	p->framed = e->tpl4;
	if (likely(e->tpl4)) {
		p->ep.family = AF_INET;
		return e;
	}
	p->ep = c->path_way[slot].ep;
	nl_l2hop_copy(&p->hop, &c->path_way[slot].hop);
	return e;
}

/* Outer Ethernet, IPv4 and UDP headers hdr (lengths and checksum zero; sum: the IPv4 header's)
 * in front of the WireGuard message at msg, mlen bytes long, with the lengths and the checksum:
 * the sum plus tot_len, folded (RFC 1071's sum does not depend on the order of its words). For
 * a peer's path entry and for control's templates alike. */
static inline void wk_outer4_put(const uint8_t *hdr, uint32_t sum, uint8_t *msg, uint32_t mlen)
{
	uint8_t *eth = msg - UDP_HLEN - IP4_HLEN - ETH_HLEN_;
	struct iphdr *ip = (void *)(eth + ETH_HLEN_);
	struct udphdr *udp = (void *)(eth + ETH_HLEN_ + IP4_HLEN);

	wk_v16 h0, h1, h2;

	/* 42 bytes as three 16-byte moves (the last two overlap): left to itself, the compiler
	 * makes some inlined copies a `rep movsb`, which costs more than the rest of the header. */
	_Static_assert(ETH_HLEN_ + IP4_HLEN + UDP_HLEN == 42, "wk_outer4_put: the copy's size");
	memcpy(&h0, hdr, 16);
	memcpy(&h1, hdr + 16, 16);
	memcpy(&h2, hdr + 26, 16);
	memcpy(eth, &h0, 16);
	memcpy(eth + 16, &h1, 16);
	memcpy(eth + 26, &h2, 16);
	ip->tot_len = htons(IP4_HLEN + UDP_HLEN + mlen);
	ip->check = htons(csum_fold(sum + IP4_HLEN + UDP_HLEN + mlen));
	udp->len = htons(UDP_HLEN + mlen);
}

/*
 * wk_tunnel_in with p_in's address, length, family, origin and natted handed over by a caller
 * that has them in registers (the LAN classification, which has just stored them in p_in: loading
 * two of its byte fields as one word stalled on store forwarding there). known: the usable
 * keypair of the destination's peer, as the caller found it in this pass (rx_frame's LAN flow memo),
 * which has built p_in in the seal batch's next slot; or NULL to look the peer and its keypair up.
 * Returns the keypair the packet joined the seal batch under, or NULL if it was staged or dropped.
 */
static inline __attribute__((always_inline)) struct keypair *
wk_tunnel_fields(struct wctx *c, struct wpkt *p_in, uint8_t *l3, uint32_t len, int family, uint8_t origin,
		 bool natted, uint64_t since, bool other_slot, struct keypair *known)
{
	/* Built in the seal batch's next slot: the fields that matter before sealing are copied
	 * there first (copying all of it would also copy what is rewritten below). It joins the
	 * batch by a count; a staged or dropped packet leaves the slot unused. */
	unsigned n = c->nenc;            /* read once: frame stores below may alias it */
	struct wpkt *p = &c->enc[n];
	uint32_t mtu = c->dev->mtu, plen;
	uint8_t proto = tsmp_ip_proto(l3, family);   /* read once: TSMP, flows, the MSS clamp */
	struct peer *peer;
	struct msg_data *hdr;
	struct aead_op *op;
	const struct wk_path_ent *path;
	struct keypair *kp;
	bool framed;

	if (!known && (other_slot || p != p_in)) {
		p->addr = p_in->addr;
		p->l3 = l3;
		p->len = len;
		p->family = family;
		p->origin = origin;
	}
	if (!since && origin != FROM_PEER && !wk_tunnel_from_us(c, p, proto, natted))
		return NULL;
	peer = known ? known->entry.peer : wk_allowedips(c, family, ip_dst(l3, family));
	if (!known && (!peer || atomic_load_explicit(&peer->dead, memory_order_relaxed))) {
		wk_drop(c, p, MG_DROP_NO_ROUTE);
		return NULL;
	}
	p->peer = peer;                 /* the destination from here on (the stage bound counts it) */
	if (len > mtu) {
		wk_tunnel_too_big(c, p);
		return NULL;
	}
	if (!since && origin != FROM_LOCAL && proto == IPPROTO_TCP && len >= 40 &&
	    mss_clamp_tcp(l3, len, family, mtu))
		c->ctr->mss_clamped++;
	kp = known ? known : mg_rcu_dereference(peer->cur);
	if (!known && !wk_keypair_usable(c, kp)) {
		wk_want_handshake(c, peer);
		wk_stage(c, p, STAGE_TUNNEL, since);
		return NULL;
	}
	if (!(path = wk_tunnel_path(c, p, peer, since)))
		return NULL;
	framed = path->tpl4;             /* in a register: the frame stores below may alias p */
	/* Padding to 16 bytes, never past the MTU (whitepaper 5.4.6; len <= mtu here). */
	plen = (len + MESSAGE_PADDING_MULTIPLE - 1) & ~(MESSAGE_PADDING_MULTIPLE - 1);
	if (plen > mtu)
		plen = mtu;
	if (!wk_frame_room(c, l3, wk_outer_hlen(p->ep.family) + sizeof(*hdr), plen + AEAD_TAG_LEN)) {
		wk_drop(c, p, MG_DROP_TOO_BIG);
		return NULL;
	}
	if (plen > len)                  /* often none: no libc call for nothing */
		memset(l3 + len, 0, plen - len);
	hdr = (struct msg_data *)(l3 - sizeof(*hdr));
	hdr->header.type = htole32(MESSAGE_DATA);
	hdr->receiver_index = htole32(kp->nk.remote_index);
	if (framed)
		wk_outer4_put(path->hdr, path->sum, (uint8_t *)hdr, sizeof(*hdr) + plen + AEAD_TAG_LEN);
	p->kp = kp;
	p->plen = plen;
	p->since = since;                /* the nonce is reserved in wk_flush_seal */
	op = &c->enc_ops[n];
	op->key = kp->nk.send_key;
	op->src = op->dst = l3;
	op->len = plen;
	c->nenc = ++n;
	if (n == SEAL_BATCH)
		wk_flush_seal(c);
	return kp;
}

static inline __attribute__((always_inline)) void wk_tunnel_in(struct wctx *c, struct wpkt *p_in, uint64_t since,
								  bool other_slot)
{
	wk_tunnel_fields(c, p_in, p_in->l3, p_in->len, p_in->family, p_in->origin, p_in->natted, since, other_slot, NULL);
}

#endif
