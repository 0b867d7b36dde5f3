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

static uint32_t outer_hlen(int family)
{
	return ETH_HLEN_ + (family == AF_INET ? IP4_HLEN : IP6_HLEN) + UDP_HLEN;
}

/* Room in the frame before l3 for `head` bytes and after l3+len for `tail` bytes. */
static bool frame_room(struct wctx *c, const uint8_t *l3, uint32_t head, uint32_t tail_end)
{
	uint64_t off = io_port_addr(&c->w->port, l3);
	uint64_t base = io_frame_base(off);

	return off - base >= head && off - base + tail_end <= IO_FRAME_SIZE;
}

static bool keypair_usable(const struct wctx *c, const struct keypair *kp)
{
	return kp && !atomic_load_explicit(&kp->dead, memory_order_relaxed) &&
	       c->now - kp->nk.birthdate_ns < REJECT_AFTER_TIME_NS;
}

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
static __attribute__((noinline)) void tunnel_too_big(struct wctx *c, struct wpkt *p)
{
	struct wpkt err;

	if (p->origin == FROM_LAN && icmp_err_too_big(c, p, c->dev->mtu, &err))
		wk_lan(c, &err, 0);
	wk_drop(c, p, MG_DROP_TOO_BIG);
}

/*
 * Into the tunnel from the LAN or the host: TSMP is the router's own to send, never a host's
 * (tailscaled drops it from its TUN too: a LAN host must not speak for the router); a flow the
 * LAN starts is remembered (flowtrack.h) while there is a packet filter, so that its replies
 * pass it, or SNAT, so that they keep their source. A reply nat_in translated starts nothing.
 */
static bool tunnel_from_us(struct wctx *c, struct wpkt *p)
{
	uint8_t proto = tsmp_ip_proto(p->l3, p->family);

	if (unlikely(proto == TSMP_PROTO)) {
		wk_drop(c, p, MG_DROP_TSMP);
		return false;
	}
	if (!p->natted && (c->dev->snat || rcu_dereference(c->dev->filter))) {
		enum flowtrack_note n = flowtrack_note_out(&c->dev->flows, c->w->id, p->l3, p->len,
							   p->family, c->now);

		c->ctr->flows_tracked += n != FLOWTRACK_NONE;
		c->ctr->flows_evicted += n == FLOWTRACK_EVICTED;
	}
	return true;
}

void wk_tunnel(struct wctx *c, struct wpkt *p_in, uint64_t since)
{
	/* Built in the seal batch's next slot, copied there first: copying it whole at the end,
	 * right after the field writes below, would stall on store forwarding. It joins the batch
	 * by a count; a staged or dropped packet leaves the slot unused. */
	struct wpkt *p = &c->enc[c->nenc];
	struct peer *peer;
	struct msg_data *hdr;
	struct aead_op *op;
	struct keypair *kp;
	uint32_t plen;

	*p = *p_in;
	if (!since && p->origin != FROM_PEER && !tunnel_from_us(c, p))
		return;
	peer = wk_allowedips(c, p->family, ip_dst(p->l3, p->family));
	if (!peer || atomic_load_explicit(&peer->dead, memory_order_relaxed)) {
		wk_drop(c, p, MG_DROP_NO_ROUTE);
		return;
	}
	p->peer = peer;                 /* the destination from here on (the stage bound counts it) */
	if (p->len > c->dev->mtu) {
		tunnel_too_big(c, p);
		return;
	}
	if (!since && p->origin != FROM_LOCAL && mss_clamp(p->l3, p->len, p->family, c->dev->mtu))
		c->ctr->mss_clamped++;
	kp = mg_rcu_dereference(peer->cur);
	if (!keypair_usable(c, kp)) {
		wk_want_handshake(c, peer);
		wk_stage(c, p, STAGE_TUNNEL, since);
		return;
	}
	peer_endpoint_get(peer, &p->ep);
	if (!p->ep.family) {
		wk_drop(c, p, MG_DROP_NO_ROUTE);
		return;
	}
	if (!mg_endpoint_is_derp(&p->ep) && !outer_hop(c, p, STAGE_TUNNEL, since))
		return;
	/* Padding to 16 bytes, never past the MTU (whitepaper 5.4.6). */
	plen = (p->len + MESSAGE_PADDING_MULTIPLE - 1) & ~(MESSAGE_PADDING_MULTIPLE - 1);
	if (plen > c->dev->mtu)
		plen = p->len > c->dev->mtu ? p->len : c->dev->mtu;
	if (!frame_room(c, p->l3, outer_hlen(p->ep.family) + sizeof(*hdr), plen + AEAD_TAG_LEN)) {
		wk_drop(c, p, MG_DROP_TOO_BIG);
		return;
	}
	p->counter = atomic_fetch_add_explicit(&kp->nk.send_counter, 1, memory_order_relaxed);
	if (p->counter >= REJECT_AFTER_MESSAGES) {
		atomic_store(&kp->dead, true);
		wk_want_handshake(c, peer);
		wk_stage(c, p, STAGE_TUNNEL, since);
		return;
	}
	if (plen > p->len)               /* often none: no libc call for nothing */
		memset(p->l3 + p->len, 0, plen - p->len);
	hdr = (struct msg_data *)(p->l3 - sizeof(*hdr));
	hdr->header.type = htole32(MESSAGE_DATA);
	hdr->receiver_index = htole32(kp->nk.remote_index);
	hdr->counter = htole64(p->counter);
	p->peer = peer;
	p->kp = kp;
	p->plen = plen;
	op = &c->enc_ops[c->nenc];
	op->key = kp->nk.send_key;
	op->counter = p->counter;
	op->src = op->dst = p->l3;
	op->len = plen;
	c->nenc++;
	if (c->nenc == BURST)
		wk_flush_seal(c);
}

/*
 * A burst goes to few endpoints, so the IPv4 outer header is built once per endpoint and pass
 * (ipudp_build with no payload: every field but the two lengths and the checksum) and copied in
 * front of each message; the checksum is the template's sum plus tot_len, folded (RFC 1071: the
 * sum is order-independent, so adding the one word later gives the same result).
 */
static void outer4_write(struct wctx *c, const struct wpkt *p, uint8_t *eth, uint32_t mlen)
{
	struct wk_outer4 *o = &c->outer4[(p->ep.addr[3] ^ p->ep.port) & (WK_OUTER_SLOTS - 1)];
	struct iphdr *ip = (void *)(eth + ETH_HLEN_);
	struct udphdr *udp = (void *)(eth + ETH_HLEN_ + IP4_HLEN);

	if (o->pass != c->pass || o->port != p->ep.port || memcmp(o->dst, p->ep.addr, 4) ||
	    memcmp(o->src, p->hop.src_addr, 4) || memcmp(o->dst_mac, p->hop.dst_mac, 6) ||
	    memcmp(o->src_mac, p->hop.src_mac, 6)) {
		struct iphdr *t = (void *)(o->hdr + 2 + ETH_HLEN_);

		eth_build(o->hdr + 2, p->hop.dst_mac, p->hop.src_mac, AF_INET);
		ipudp_build(o->hdr + 2 + ETH_HLEN_, &p->ep, p->hop.src_addr, c->listen_port, 0);
		t->tot_len = 0;
		t->check = 0;
		((struct udphdr *)(t + 1))->len = 0;
		o->sum = csum_add(0, t, IP4_HLEN);
		o->pass = c->pass;
		o->port = p->ep.port;
		memcpy(o->dst, p->ep.addr, 4);
		memcpy(o->src, p->hop.src_addr, 4);
		memcpy(o->dst_mac, p->hop.dst_mac, 6);
		memcpy(o->src_mac, p->hop.src_mac, 6);
	}
	memcpy(eth, o->hdr + 2, sizeof(o->hdr) - 2);
	ip->tot_len = htons(IP4_HLEN + UDP_HLEN + mlen);
	ip->check = htons(csum_fold(o->sum + IP4_HLEN + UDP_HLEN + mlen));
	udp->len = htons(UDP_HLEN + mlen);
}

/* Outer Ethernet/IP/UDP in front of the WireGuard message at msg (mlen bytes), then transmit. */
static void send_outer(struct wctx *c, struct wpkt *p, uint8_t *msg, uint32_t mlen)
{
	uint32_t iplen = outer_hlen(p->ep.family) - ETH_HLEN_;
	uint8_t *ip = msg - iplen;

	if (mg_endpoint_is_derp(&p->ep)) {
		wk_punt_relay(c, p, msg, mlen);     /* control sends it through DERP */
		return;
	}
	if (p->ep.family == AF_INET) {
		outer4_write(c, p, ip - ETH_HLEN_, mlen);
	} else {
		ipudp_build(ip, &p->ep, p->hop.src_addr, c->listen_port, mlen);
		eth_build(ip - ETH_HLEN_, p->hop.dst_mac, p->hop.src_mac, p->ep.family);
	}
	wk_tx(c, ip - ETH_HLEN_, ETH_HLEN_ + iplen + mlen);
}

static void rekey_check(struct wctx *c, struct peer *peer, struct keypair *kp, uint64_t counter)
{
	if (counter >= REKEY_AFTER_MESSAGES ||
	    (kp->nk.i_am_initiator && c->now - kp->nk.birthdate_ns >= c->dev->rekey_after_time_ns))
		wk_want_handshake(c, peer);
}

void wk_flush_seal(struct wctx *c)
{
	unsigned n = c->nenc;
	struct peer *run = NULL;
	uint64_t run_bytes = 0;

	if (!n)
		return;
	c->nenc = 0;
	wk_batch_hist(c, n);
	aead_seal_burst(c->enc_ops, n);
	for (unsigned i = 0; i < n; i++) {
		struct wpkt *p = &c->enc[i];
		uint32_t mlen = sizeof(struct msg_data) + p->plen + AEAD_TAG_LEN;

		send_outer(c, p, p->l3 - sizeof(struct msg_data), mlen);
		/* One atomic add per run of packets to the same peer, not per packet. */
		if (p->peer != run) {
			if (run)
				atomic_fetch_add_explicit(&run->tx_bytes, run_bytes, memory_order_relaxed);
			run = p->peer;
			run_bytes = 0;
		}
		run_bytes += mlen;
		peer_ev_auth_tx(p->peer, c->now, p->len != 0);
		rekey_check(c, p->peer, p->kp, p->counter);
		c->ctr->encap_packets++;
		c->ctr->encap_bytes += mlen;
		if (p->ep.family == AF_INET6) {
			c->ctr->encap_packets6++;
			c->ctr->encap_bytes6 += mlen;
		} else if (unlikely(mg_endpoint_is_derp(&p->ep))) {
			c->ctr->encap_packets_derp++;
			c->ctr->encap_bytes_derp += mlen;
		}
	}
	if (run)
		atomic_fetch_add_explicit(&run->tx_bytes, run_bytes, memory_order_relaxed);
}

void wk_lan(struct wctx *c, struct wpkt *p, uint64_t since)
{
	int ret;

	if (p->len > nl_snapshot_mtu(c->nl)) {
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
