// SPDX-License-Identifier: GPL-2.0-only
/*
 * worker_rx.c - frames from the NIC: classify, then WireGuard data in (open, replay window,
 * roaming, source check) and the forwarding decision for what came out of the tunnel.
 *
 * Order of checks, cheapest first (kernel receive.c): length and type, index lookup, key age,
 * then the AEAD in one batch, then the replay window, then the allowed-IPs source check.
 */
/* liburcu's inline rcu_dereference()/quiescent state, not a library call per packet. */
#define _LGPL_SOURCE
#include <endian.h>
#include <errno.h>
#include <unistd.h>
#include "worker_rx.h"
#include "worker_tx.h"
#include "pkt.h"
#include "tsmp.h"
#include "wireguard/messages.h"

static bool is_tailnet_local(struct mg_device *dev, int family, const uint8_t *addr)
{
	const struct mg_addrset *s = mg_rcu_dereference(dev->addrs);

	/* Constant-size compares: inlined (this runs for every packet out of the tunnel). */
	for (size_t i = 0; s && i < s->n; i++)
		if (s->a[i].family == family &&
		    (family == AF_INET ? !memcmp(s->a[i].addr, addr, 4) : !memcmp(s->a[i].addr, addr, 16)))
			return true;
	return false;
}

/* The set control published last (SIGHUP may swap it): read once, inside this loop's read side. */
static bool is_advertised(struct mg_device *dev, int family, const uint8_t *addr)
{
	const struct mg_routeset *s = mg_rcu_dereference(dev->routes);

	for (size_t i = 0; i < s->n; i++)
		if (mg_prefix_contains(&s->r[i], family, addr))
			return true;
	return false;
}

/*
 * Anti-spoofing on the way from the LAN into the tunnel (and to a NAT flow): the tailnet's
 * ranges (100.64.0.0/10, fd7a:115c:a1e0::/48) live behind the tunnel, and the router's own
 * addresses (tailnet or LAN) never arrive from its NIC; a LAN host claiming one would speak to
 * peers as the router or as another tailnet node. Outer WireGuard sources are not checked: a peer
 * behind a carrier-grade NAT may well come from 100.64.0.0/10.
 */
static const uint8_t tailnet6_prefix[6] = { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0 };

static __attribute__((noinline)) bool lan_src_check(struct wctx *c, const struct wpkt *p, const uint8_t *src)
{
	if (p->family == AF_INET ? src[0] == 100 && (src[1] & 0xc0) == 64 : !memcmp(src, tailnet6_prefix, 6))
		return true;
	if (is_tailnet_local(c->dev, p->family, src) || wk_is_local(c, p->family, src))
		return true;
	c->lan_src.pass = c->pass;
	c->lan_src.family = (uint8_t)p->family;
	memcpy(c->lan_src.addr, src, p->family == AF_INET ? 4 : 16);
	return false;
}

static inline bool lan_src_spoofed(struct wctx *c, const struct wpkt *p, const uint8_t *l3, int family)
{
	const uint8_t *src = ip_src(l3, family);

	/* The last source found clean in this pass (the answer depends on the address alone, and
	 * the tables it reads are this pass's): a LAN flow's packets ask once per burst. */
	if (c->lan_src.pass == c->pass && c->lan_src.family == family &&
	    wk_addr_eq(c->lan_src.addr, family, src))
		return false;
	return lan_src_check(c, p, src);
}

/* Plaintext from the LAN about to be NATed or sealed (at l3, len bytes, p's): not spoofed
 * (dropped otherwise), and its partial checksum, if the sender offloaded one, completed before
 * NAT adjusts it. */
static inline __attribute__((always_inline)) bool lan_plaintext_ok(struct wctx *c, struct wpkt *p, uint8_t *l3,
								   uint32_t len, int family)
{
	if (lan_src_spoofed(c, p, l3, family)) {
		wk_drop(c, p, MG_DROP_SPOOFED_SOURCE);
		return false;
	}
	if (l4_csum_complete_partial(l3, len, family))
		c->ctr->csum_completed++;
	return true;
}

/* Local delivery to the host stack. Off the forwarding path: one write per packet is accepted here. */
static void deliver_local(struct wctx *c, struct wpkt *p)
{
	if (write(c->dev->tun_fd, p->l3, p->len) != (ssize_t)p->len) {
		wk_drop(c, p, MG_DROP_TUN_FULL);
		return;
	}
	c->ctr->local_delivered++;
	io_frame_put(&c->w->port, p->addr);
}

/* SNAT towards the LAN: the source becomes our address on the route to the destination, unless
 * the packet answers a flow the LAN started (left as it is, counted). False: drop for *why. */
static bool snat_out(struct wctx *c, struct wpkt *p, const struct peer *from, enum mg_drop *why)
{
	struct nl_l2hop hop;
	int err = -EADDRNOTAVAIL;

	/* A flow translated before under the same tables: no key, no table, and no hop (the
	 * snapshot that gave its destination one is still the current one). */
	if (nat_memo_translate(&c->nat_out_memo, c->nat_stamp, false, p->l3, p->len, p->family, c->now, NULL))
		return true;
	if (wk_hop(c, p->family, ip_dst(p->l3, p->family), &hop) != -ENETUNREACH)
		err = nat_out_remember(&c->dev->nat, &c->nat_out_memo, c->nat_stamp, c->wid, from->id, p->l3,
				       p->len, p->family, hop.src_addr, c->now);
	if (err == NAT_PASS) {
		c->ctr->nat_lan_replies++;
		return true;
	}
	*why = err == -EDQUOT ? MG_DROP_NAT_PEER_LIMIT : MG_DROP_NAT_FAILED;
	return !err;
}

/* Where a destination out of the tunnel goes; depends on the address alone. */
enum wk_route { ROUTE_LOCAL, ROUTE_PEER, ROUTE_LAN, ROUTE_NONE };

/*
 * In order: one of our tailnet addresses (the TUN device), another peer's allowed IP (back
 * into the tunnel), the router's LAN address (the TUN device: the kernel takes it from there),
 * an advertised route (the LAN), else nothing.
 */
static __attribute__((noinline)) uint8_t route_miss(struct wctx *c, struct wk_route_ent *e, int family,
						    const uint8_t *dst)
{
	struct peer *to = NULL;
	uint8_t v;

	if (is_tailnet_local(c->dev, family, dst))
		v = ROUTE_LOCAL;
	else if ((to = wk_allowedips(c, family, dst)))
		v = ROUTE_PEER;
	else if (wk_is_local(c, family, dst))
		v = ROUTE_LOCAL;
	else
		v = is_advertised(c->dev, family, dst) ? ROUTE_LAN : ROUTE_NONE;
	e->pass = c->pass;
	e->family = (uint8_t)family;
	e->verdict = v;
	memcpy(e->addr, dst, family == AF_INET ? 4 : 16);
	e->peer = to;
	c->route_last = e;
	return v;
}

/*
 * The verdict above, remembered for the rest of the pass like wk_allowedips (wctx.h): the
 * address sets, the allowed-IPs trie and the netlink snapshot it reads are the ones this pass
 * dereferenced, and a burst carries few inner destinations. Four lookups per packet become one.
 */
static inline uint8_t route_of(struct wctx *c, int family, const uint8_t *dst, struct peer **to)
{
	struct wk_route_ent *e = c->route_last;

	if (!(e->pass == c->pass && e->family == family && wk_addr_eq(e->addr, family, dst))) {
		e = &c->route[wk_addr_slot(family, dst, WK_ROUTE_SLOTS)];
		if (!(e->pass == c->pass && e->family == family && wk_addr_eq(e->addr, family, dst)))
			route_miss(c, e, family, dst);
		c->route_last = e;
	}
	*to = e->peer;
	return e->verdict;
}

/* The way on for verdict v (to: the peer of a ROUTE_PEER destination). */
static inline __attribute__((always_inline)) void route_verdict(struct wctx *c, struct wpkt *p, struct peer *from,
								   uint8_t v, struct peer *to)
{
	enum mg_drop why;

	if (unlikely(v != ROUTE_LAN)) {
		if (v == ROUTE_LOCAL) {
			deliver_local(c, p);
			return;
		}
		if (v == ROUTE_NONE || to == from) {
			wk_drop(c, p, MG_DROP_NO_ROUTE);
			return;
		}
		if (!ip_dec_ttl(p->l3, p->family)) {
			wk_drop(c, p, MG_DROP_TTL_EXCEEDED);
			return;
		}
		wk_tunnel(c, p, 0);
		return;
	}
	if (!ip_dec_ttl(p->l3, p->family)) {
		wk_drop(c, p, MG_DROP_TTL_EXCEEDED);
		return;
	}
	if (c->snat && !snat_out(c, p, from, &why)) {
		wk_drop(c, p, why);
		return;
	}
	wk_lan(c, p, 0);
}

static inline __attribute__((always_inline)) void route_inner(struct wctx *c, struct wpkt *p, struct peer *from)
{
	struct peer *to;
	uint8_t v = route_of(c, p->family, ip_dst(p->l3, p->family), &to);

	route_verdict(c, p, from, v, to);
}

void wk_route_inner(struct wctx *c, struct wpkt *p, struct peer *from)
{
	route_inner(c, p, from);
}

/* The keypair of a data message (msg) if its index names one that is alive and young enough;
 * else p is dropped and NULL returned. */
static inline __attribute__((always_inline)) struct keypair *rx_data_keypair(struct wctx *c, struct wpkt *p,
									     const uint8_t *msg)
{
	const struct msg_data *hdr = (const void *)msg;
	struct keypair *kp = index_lookup_keypair(&c->dev->index, le32toh(hdr->receiver_index));

	if (!kp) {
		wk_drop(c, p, MG_DROP_UNKNOWN_INDEX);
		return NULL;
	}
	if (atomic_load_explicit(&kp->dead, memory_order_relaxed) ||
	    noise_keypair_expired(&kp->nk, c->now)) {
		wk_drop(c, p, MG_DROP_EXPIRED_KEY);
		return NULL;
	}
	return kp;
}

/* A data message (msg, mlen bytes) whose keypair kp checked out joins the open batch. peer:
 * kp's, taken now, while kp's line is in cache (after the AEAD it may have been evicted).
 * in_place: p is the batch's next slot (rx_frame builds it there), else it is copied there. */
static inline __attribute__((always_inline)) void rx_data(struct wctx *c, struct wpkt *p, struct keypair *kp,
							     struct peer *peer, uint8_t *msg, uint32_t mlen,
							     bool in_place)
{
	const struct msg_data *hdr = (const void *)msg;
	struct aead_op *op = &c->dec_ops[c->ndec];

	p->kp = kp;
	p->peer = peer;
	p->l3 = msg;
	p->len = mlen;
	op->key = kp->nk.recv_key;
	op->counter = le64toh(hdr->counter);
	op->src = op->dst = msg + sizeof(*hdr);
	op->len = mlen - sizeof(*hdr) - AEAD_TAG_LEN;
	if (!in_place)
		c->dec[c->ndec] = *p;
	c->ndec++;
	if (c->ndec == OPEN_BATCH)
		wk_flush_open(c);
}

/*
 * The WireGuard port is shared with disco and STUN (as in tailscale's magicsock): disco starts
 * with its magic, STUN has the RFC 5389 magic cookie at offset 4 and its first two bits clear.
 * A WireGuard message never matches either: its type's three high bytes are zero.
 */
static const uint8_t disco_magic[6] = { 'T', 'S', 0xf0, 0x9f, 0x92, 0xac };

static int rx_shared_port(const uint8_t *msg, uint32_t mlen)
{
	if (mlen >= sizeof(disco_magic) && !memcmp(msg, disco_magic, sizeof(disco_magic)))
		return PUNT_DISCO;
	if (mlen >= 20 && !(msg[0] & 0xc0) && msg[4] == 0x21 && msg[5] == 0x12 && msg[6] == 0xa4 && msg[7] == 0x42)
		return PUNT_STUN;
	return 0;
}

static void rx_wireguard(struct wctx *c, struct wpkt *p, uint8_t *msg, uint32_t mlen)
{
	struct keypair *kp;
	uint32_t type;
	int kind = rx_shared_port(msg, mlen);

	if (kind) {
		if (mlen > PUNT_DATA_MAX) {
			wk_drop(c, p, MG_DROP_TOO_BIG);
			return;
		}
		wk_punt(c, kind, &p->ep, msg, mlen);
		c->ctr->punted++;
		io_frame_put(&c->w->port, p->addr);
		return;
	}
	if (mlen < 4) {
		wk_drop(c, p, MG_DROP_TOO_SHORT);
		return;
	}
	memcpy(&type, msg, 4);
	type = le32toh(type);
	switch (type) {
	case MESSAGE_DATA:
		if (mlen < MESSAGE_MINIMUM_LENGTH) {
			wk_drop(c, p, MG_DROP_TOO_SHORT);
			return;
		}
		if ((kp = rx_data_keypair(c, p, msg)))
			rx_data(c, p, kp, kp->entry.peer, msg, mlen, p == &c->dec[c->ndec]);
		return;
	case MESSAGE_HANDSHAKE_INITIATION:
	case MESSAGE_HANDSHAKE_RESPONSE:
	case MESSAGE_HANDSHAKE_COOKIE:
		if (mlen != (type == 1 ? sizeof(struct msg_initiation) : type == 2 ?
			     sizeof(struct msg_response) : sizeof(struct msg_cookie))) {
			wk_drop(c, p, MG_DROP_TOO_SHORT);
			return;
		}
		wk_punt(c, PUNT_HANDSHAKE, &p->ep, msg, mlen);
		c->ctr->punted++;
		io_frame_put(&c->w->port, p->addr);
		return;
	default:
		wk_drop(c, p, MG_DROP_BAD_TYPE);
	}
}

void wk_rx_relayed(struct wctx *c, struct wpkt *p)
{
	rx_wireguard(c, p, p->l3, p->len);
}

/* Outer UDP to our listen port (the caller found the destination is ours)? Then returns the
 * payload. */
static inline __attribute__((always_inline)) uint8_t *udp_to_us(struct wctx *c, struct wpkt *p, uint8_t *l3,
								 uint32_t len, int family, uint32_t *mlen)
{
	const struct udphdr *udp;
	uint32_t hl, ulen;

	/* l3, len and family are the packet's, in registers: p's fields would be loaded again
	 * after every store through a byte pointer. */
	if (family == AF_INET) {
		const struct iphdr *ip = (const void *)l3;

		if (ip->protocol != IPPROTO_UDP || (ip->frag_off & htons(0x3fff)))
			return NULL;
		hl = ip->ihl * 4u;
	} else {
		if (l3[6] != IPPROTO_UDP)
			return NULL;
		hl = IP6_HLEN;
	}
	if (len < hl + UDP_HLEN)
		return NULL;
	udp = (const void *)(l3 + hl);
	ulen = ntohs(udp->len);
	if (ntohs(udp->dest) != c->listen_port || ulen < UDP_HLEN || ulen > len - hl)
		return NULL;
	memset(&p->ep, 0, sizeof(p->ep));
	p->ep.family = (uint8_t)family;
	p->ep.port = ntohs(udp->source);
	if (family == AF_INET)           /* constant sizes: inlined */
		memcpy(p->ep.addr, ip_src(l3, AF_INET), 4);
	else
		memcpy(p->ep.addr, ip_src(l3, AF_INET6), 16);
	*mlen = ulen - UDP_HLEN;
	return l3 + hl + UDP_HLEN;
}

/*
 * The outer headers of a tunnel's data messages repeat from one to the next but for a few
 * fields. rx_outer_mask keeps the bytes of an IPv4 frame (without options) that rx_frame's
 * general checks compare with a fixed value: our MAC, the ethertype, version and header length,
 * the fragment bits, UDP, the destination address (ours: it was, in this pass), our port, the
 * type. A frame equal to the last data message taken in this pass (c->outer_in) under the mask
 * passes all of those as that one did; its lengths, receiver index and source are its own
 * (under the memo's index, the memo's keypair). The bytes left out are read by no check (source
 * MAC, TOS, ID, TTL, checksums) or checked one by one below (lengths, source, index).
 */
typedef uint64_t rx_v2u64 __attribute__((vector_size(16)));

/* Both memos' first 16 bytes: our MAC, the ethertype, IPv4 without options (0x45). */
#define RX_MASK_ETH { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0 }

static const wk_v16 rx_outer_mask[3] = {
	RX_MASK_ETH,
	{ 0, 0, 0, 0, 0x3f, 0xff, 0, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff },             /* IPv4 from tot_len */
	{ 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 },     /* UDP port, type */
};
#define RX_OUTER_LEN (ETH_HLEN_ + IP4_HLEN + UDP_HLEN + MESSAGE_MINIMUM_LENGTH)

/* 16 bytes of a frame as a vector (any alignment). */
static inline wk_v16 rx_load16(const uint8_t *p)
{
	wk_v16 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Does the frame at eth (at least RX_OUTER_LEN bytes) match c->outer_in (of this pass) under the
 * mask? Three 16-byte compares in place of the general checks. */
static inline bool rx_outer_known(const struct wctx *c, const uint8_t *eth)
{
	wk_v16 d = ((rx_load16(eth) ^ c->outer_in.hdr[0]) & rx_outer_mask[0]) |
		   ((rx_load16(eth + 16) ^ c->outer_in.hdr[1]) & rx_outer_mask[1]) |
		   ((rx_load16(eth + 32) ^ c->outer_in.hdr[2]) & rx_outer_mask[2]);
	rx_v2u64 q = (rx_v2u64)d;

	return !(q[0] | q[1]);
}

/* rx_frame's general checks took the IPv4 frame at eth, its data message keyed by kp: the frame
 * becomes the template. */
static void rx_outer_note(struct wctx *c, const uint8_t *eth, struct keypair *kp)
{
	for (int i = 0; i < 3; i++)
		c->outer_in.hdr[i] = rx_load16(eth + 16 * i) & rx_outer_mask[i];
	c->outer_in.pass = c->pass;
	memcpy(&c->outer_in.index, eth + ETH_HLEN_ + IP4_HLEN + UDP_HLEN + 4, 4);
	c->outer_in.kp = kp;
}

/*
 * A frame that rx_outer_known matched (p: the open batch's next slot): its own checks, those
 * of ip_packet_len, udp_to_us and a data message's length, in that order of the values they
 * guard. True if it joined the open batch; false leaves it to the general checks (which drop
 * it, or punt it, for the reason they find), having changed nothing but the memo's keypair.
 */
static inline __attribute__((always_inline)) bool rx_outer_data(struct wctx *c, struct wpkt *p, uint8_t *eth,
								    uint32_t len)
{
	uint8_t *ip = eth + ETH_HLEN_, *msg = ip + IP4_HLEN + UDP_HLEN;
	uint32_t tot = (uint32_t)ip[2] << 8 | ip[3], ulen = (uint32_t)ip[24] << 8 | ip[25], index;
	struct keypair *kp;

	if (tot > len - ETH_HLEN_ || ulen + IP4_HLEN > tot || ulen < UDP_HLEN + MESSAGE_MINIMUM_LENGTH)
		return false;
	memcpy(&index, msg + 4, 4);
	/* The memo's keypair may have died in this pass since (control retired it, or a seal batch
	 * used it up): then it is asked again, as the general checks do for every message. */
	if (index != c->outer_in.index || atomic_load_explicit(&c->outer_in.kp->dead, memory_order_relaxed)) {
		/* Another keypair (many peers behind one address, or a new session): looked up, and
		 * remembered. A STUN message's cookie sits where the index does. */
		if (!memcmp(msg + 4, (const uint8_t[4]){ 0x21, 0x12, 0xa4, 0x42 }, 4))
			return false;
		kp = index_lookup_keypair(&c->dev->index, le32toh(index));
		if (!kp || atomic_load_explicit(&kp->dead, memory_order_relaxed) ||
		    noise_keypair_expired(&kp->nk, c->now))
			return false;
		c->outer_in.index = index;
		c->outer_in.kp = kp;
	}
	/* The endpoint field by field, as udp_to_us: a copy of one just built (wider loads over
	 * narrower stores) would wait for those stores, every packet where sources interleave. */
	memset(&p->ep, 0, sizeof(p->ep));
	p->ep.family = AF_INET;
	p->ep.port = (uint16_t)(ip[IP4_HLEN] << 8 | ip[IP4_HLEN + 1]);
	memcpy(p->ep.addr, ip + 12, 4);
	p->family = AF_INET;
	rx_data(c, p, c->outer_in.kp, c->outer_in.kp->entry.peer, msg, ulen - UDP_HLEN, true);
	return true;
}

/*
 * The same for plaintext from the LAN, per flow and across passes (c->lan): what the general
 * checks and the way into the tunnel decide once per address pair of an IPv4 frame without
 * options is that the source is not spoofed and the destination not ours (the snapshot's
 * addresses, our tailnet addresses), and the destination's peer (allowed IPs). An entry keeps
 * the pair and the peer while those tables stay as they were (memo_epoch); a frame with our MAC,
 * IPv4, a 20-byte header and that pair goes to the same peer. Everything else is read from the
 * frame itself, as on the general path: its length, the protocol and fragment bits (TSMP,
 * checksum completion, flow note, MSS clamp), TTL, MTU, the peer's keypair and path.
 */
static const wk_v16 rx_lan_mask = RX_MASK_ETH;

/* Once per pass: a new memo_epoch (every flow memo entry void) when a table the entries stand
 * for, or the packet filter (by its serial), changed since the last pass, with our MAC in
 * lan_hdr; a new nat_stamp then, and when a NAT flow was removed (after this worker's last
 * quiescent state: see struct nat_memo). */
static inline void rx_memo_epoch(struct wctx *c)
{
	uint64_t addrs_gen = atomic_load_explicit(&c->dev->addrs_gen, memory_order_acquire);
	uint64_t routes_gen = atomic_load_explicit(&c->dev->routes_gen, memory_order_acquire);
	uint64_t nat_g = nat_gen(&c->dev->nat);
	uint64_t filter = c->filter ? c->filter->serial : 0;

	if (unlikely(nat_g != c->memo_nat_gen)) {
		c->memo_nat_gen = nat_g;
		c->nat_stamp++;
	}
	if (likely(c->memo_epoch && c->nl_gen == c->memo_nl_gen && c->aip_gen == c->memo_aip_gen &&
		   addrs_gen == c->memo_addrs_gen && routes_gen == c->memo_routes_gen &&
		   filter == c->memo_filter))
		return;
	c->nat_stamp++;                  /* from 1: an entry's 0 is "never taken" */
	c->memo_nl_gen = c->nl_gen;
	c->memo_aip_gen = c->aip_gen;
	c->memo_addrs_gen = addrs_gen;
	c->memo_routes_gen = routes_gen;
	c->memo_filter = filter;
	if (!++c->memo_epoch)            /* 0 is "never taken" */
		c->memo_epoch = 1;
	memset(&c->lan_hdr, 0, sizeof(c->lan_hdr));
	memcpy(&c->lan_hdr, c->mac, 6);
	c->lan_hdr[12] = ETHERTYPE_IP >> 8;
	c->lan_hdr[13] = ETHERTYPE_IP & 0xff;
	c->lan_hdr[14] = 0x45;
}

/* The entry of an address pair (frame bytes 26-33, as loaded). */
static inline struct wk_lan_ent *rx_lan_slot(struct wctx *c, uint64_t addrs)
{
	_Static_assert(WK_LAN_SLOTS == WK_PAIR_SLOTS, "rx_lan_slot: one slot per wk_pair_slot value");
	return &c->lan[wk_pair_slot(addrs)];
}

/* The entry of an address pair (as loaded) if it holds under this epoch's tables, or NULL. */
static inline struct wk_lan_ent *rx_lan_entry(struct wctx *c, uint64_t addrs)
{
	struct wk_lan_ent *e = rx_lan_slot(c, addrs);

	return e->addrs == addrs && e->epoch == c->memo_epoch ? e : NULL;
}

/* The entry the LAN frame at eth (at least 34 bytes) matches, or NULL. */
static inline struct wk_lan_ent *rx_lan_known(struct wctx *c, const uint8_t *eth)
{
	struct wk_lan_ent *e;
	uint64_t addrs;
	rx_v2u64 q;

	memcpy(&addrs, eth + 26, 8);
	if (!(e = rx_lan_entry(c, addrs)))
		return NULL;
	q = (rx_v2u64)((rx_load16(eth) ^ c->lan_hdr) & rx_lan_mask);
	return q[0] | q[1] ? NULL : e;
}

/*
 * l4_csum_complete_partial for a frame that matched e (IPv4 without options, e's addresses): the
 * value a partial checksum would hold depends on the protocol and the length besides, and is
 * kept for the last of those (a bulk flow's packets mostly have one length). A fragment that
 * matches the value is left alone by l4_csum_partial_finish, as it would be by
 * l4_csum_partial_value.
 */
static inline bool rx_lan_partial(struct wk_lan_ent *e, uint8_t *ip, uint32_t tot)
{
	uint32_t key = (uint32_t)ip[9] << 16 | tot;

	if (key != e->csum_key) {
		e->csum_key = key;
		e->csum_value = l4_csum_partial_value(ip, tot, AF_INET, &e->csum_at);
	}
	return l4_csum_partial_test(ip, tot, AF_INET, e->csum_value, e->csum_at);
}

/* The entry's keypair, found now: e's peer's current one. */
static inline void rx_lan_take(struct wctx *c, struct wk_lan_ent *e, struct keypair *kp)
{
	e->kp = kp;
	e->peer_gen = c->peer_gen;
	e->kp_expires = noise_keypair_expiry(&kp->nk);
}

/*
 * e's peer's keypair for this frame: the one the entry found, while no peer changed since
 * (peer_gen: it is still the current one, and the peer not removed), it has not died (used up by
 * a seal batch, or retired) and is young enough; else the peer's current one, if the peer is
 * still there and the keypair usable. NULL: the general path takes the frame (and stages it,
 * or drops it). Two compares on the worker's own line and the keypair's dead flag, instead of
 * the peer's line and two of the keypair's.
 */
static inline struct keypair *rx_lan_keypair(struct wctx *c, struct wk_lan_ent *e)
{
	struct keypair *kp = e->kp;

	if (unlikely(e->peer_gen != c->peer_gen || c->now >= e->kp_expires)) {
		if (atomic_load_explicit(&e->peer->dead, memory_order_relaxed))
			return NULL;
		kp = mg_rcu_dereference(e->peer->cur);
		if (!wk_keypair_usable(c, kp))
			return NULL;
		rx_lan_take(c, e, kp);
		return kp;
	}
	return atomic_load_explicit(&kp->dead, memory_order_relaxed) ? NULL : kp;
}

/* The seal batch's next slot p for an IPv4 packet from the LAN at ip (tot bytes; its frame at
 * port offset addr): what wk_tunnel_fields reads of a slot its caller built. */
static inline void rx_lan_slot_init(struct wpkt *p, uint64_t addr, uint8_t *ip, uint32_t tot)
{
	p->addr = addr + ETH_HLEN_;
	p->l3 = ip;
	p->len = tot;
	p->family = AF_INET;
	p->origin = FROM_LAN;
}

/* A LAN frame (at port offset addr) that rx_lan_known matched with e: the checks of its own
 * that the general path makes, in its order, then into the tunnel to e's peer, built in the
 * seal batch's next slot from the start. False (nothing done) if its length is not one
 * ip_packet_len takes, or e's peer has no usable keypair. */
static inline __attribute__((always_inline)) bool rx_lan_data(struct wctx *c, uint64_t addr, uint8_t *eth,
								  uint32_t len, struct wk_lan_ent *e)
{
	struct wpkt *p = &c->enc[c->nenc];
	uint8_t *ip = eth + ETH_HLEN_;
	uint32_t tot = (uint32_t)ip[2] << 8 | ip[3];
	struct keypair *kp;

	if (tot < IP4_HLEN || tot > len - ETH_HLEN_ || !(kp = rx_lan_keypair(c, e)))
		return false;
	rx_lan_slot_init(p, addr, ip, tot);
	if (rx_lan_partial(e, ip, tot))
		c->ctr->csum_completed++;
	if (!ip_dec_ttl(ip, AF_INET)) {
		wk_drop(c, p, MG_DROP_TTL_EXCEEDED);
		return true;
	}
	wk_tunnel_fields(c, p, ip, tot, AF_INET, FROM_LAN, false, 0, false, kp);
	return true;
}

/* The general path sent an IPv4 LAN frame without options (source and destination: addrs, as
 * loaded) into the seal batch under kp: its entry. */
static inline void rx_lan_note(struct wctx *c, uint64_t addrs, struct keypair *kp)
{
	struct wk_lan_ent *e = rx_lan_slot(c, addrs);

	e->addrs = addrs;
	e->epoch = c->memo_epoch;
	e->csum_key = 0;
	e->peer = kp->entry.peer;
	rx_lan_take(c, e, kp);
}

/*
 * A LAN host's reply to a SNAT flow (IPv4 without options, TCP or UDP) that the reply memo
 * holds (c->nat_in_memo): what the general checks decide once per flow under the memo's stamp
 * (the frame is ours and not WireGuard, its destination ours, its source not spoofed, its flow
 * known) is the memo's entry; the frame's own checks follow in the general path's order (length,
 * partial checksum, translation, TTL), then into the tunnel, built in the seal batch's next slot,
 * to the peer of the translated pair by the LAN flow memo, or looked up and remembered there.
 * False (the frame untouched) if the memo does not hold the frame's flow.
 */
static inline __attribute__((always_inline)) bool rx_nat_reply(struct wctx *c, uint64_t addr, uint8_t *eth,
								   uint32_t len)
{
	struct wpkt *p = &c->enc[c->nenc];
	uint8_t *ip = eth + ETH_HLEN_;
	uint32_t tot = (uint32_t)ip[2] << 8 | ip[3];
	rx_v2u64 q = (rx_v2u64)((rx_load16(eth) ^ c->lan_hdr) & rx_lan_mask);
	struct wk_lan_ent *e;
	struct keypair *kp;
	uint32_t src, dst;
	uint64_t addrs;
	bool completed;

	if (q[0] | q[1] || tot < IP4_HLEN || tot > len - ETH_HLEN_)
		return false;
	memcpy(&src, ip + 12, 4);        /* the LAN host, which the translation keeps */
	/* (a datagram to our listening port is for udp_to_us to judge) */
	if (ip[9] == IPPROTO_UDP && tot >= IP4_HLEN + UDP_HLEN &&
	    (uint32_t)(ip[IP4_HLEN + 2] << 8 | ip[IP4_HLEN + 3]) == c->listen_port)
		return false;
	if (!nat_memo_translate(&c->nat_in_memo, c->nat_stamp, true, ip, tot, AF_INET, c->now, &completed))
		return false;
	c->ctr->csum_completed += completed;
	rx_lan_slot_init(p, addr, ip, tot);
	if (!ip_dec_ttl(ip, AF_INET)) {
		wk_drop(c, p, MG_DROP_TTL_EXCEEDED);
		return true;
	}
	/* The translated pair, as frame bytes 26-33 would load: the destination (the tailnet
	 * client) by a load of the size the translation stored it with, which the store forwards
	 * to (an 8-byte load over it waits for the store to reach the cache, every packet). */
	memcpy(&dst, ip + 16, 4);
	addrs = (uint64_t)dst << 32 | src;
	if ((e = rx_lan_entry(c, addrs)) && (kp = rx_lan_keypair(c, e))) {
		wk_tunnel_fields(c, p, ip, tot, AF_INET, FROM_LAN, true, 0, false, kp);
		return true;
	}
	kp = wk_tunnel_fields(c, p, ip, tot, AF_INET, FROM_LAN, true, 0, false, NULL);
	if (kp)
		rx_lan_note(c, addrs, kp);
	return true;
}

/* The open batch's next slot p for the frame at eth (port offset addr), before it is classified:
 * only what every way out reads (an initializer would clear all of it, a `rep stos` per frame).
 * A data message gets its keypair and counter in rx_data, the endpoint in udp_to_us; wk_tunnel
 * copies what it needs into its own slot; a drop reads the address only. */
static inline void rx_slot_init(struct wpkt *p, uint64_t addr, uint8_t *eth)
{
	p->addr = addr + ETH_HLEN_;
	p->l3 = eth + ETH_HLEN_;
	p->origin = FROM_LAN;
	p->natted = false;
}

/* rx_frame's general checks, for a frame at eth (port offset addr, len bytes) that no flow memo
 * took; p: the open batch's next slot. */
static __attribute__((noinline)) void rx_frame_general(struct wctx *c, struct wpkt *p, uint64_t addr, uint8_t *eth,
							uint32_t len)
{
	uint16_t et;
	uint8_t *msg;
	uint32_t mlen, ilen;
	struct keypair *kp;
	uint64_t addrs;
	int family = 0;
	bool local, lan;

	rx_slot_init(p, addr, eth);
	if (len < ETH_HLEN_ + IP4_HLEN) {
		wk_drop(c, p, MG_DROP_TOO_SHORT);
		return;
	}
	/* Only frames sent to our MAC are ours: a NIC in promiscuous mode (a bridge port, a
	 * capture, a DPDK port) or a broadcast to a routed address would otherwise be forwarded,
	 * where the kernel drops what is not PACKET_HOST (ip_forward). */
	if (memcmp(eth, c->mac, 6)) {
		wk_drop(c, p, MG_DROP_NOT_OUR_MAC);
		return;
	}
	memcpy(&et, eth + 12, 2);
	ilen = ip_packet_len(eth + ETH_HLEN_, len - ETH_HLEN_, &family);
	p->len = ilen;
	p->family = family;
	if (!ilen || (ntohs(et) != ETHERTYPE_IP && ntohs(et) != ETHERTYPE_IPV6)) {
		wk_drop(c, p, MG_DROP_MALFORMED);
		return;
	}
	/* Asked once per frame: WireGuard must be for one of our addresses, and so is a NAT reply. */
	local = wk_is_local(c, family, ip_dst(eth + ETH_HLEN_, family));
	msg = local ? udp_to_us(c, p, eth + ETH_HLEN_, ilen, family, &mlen) : NULL;
	if (msg) {
		/* Most are data messages: type 4 (so never disco, whose magic starts with 'T') and
		 * not taken for STUN (rx_shared_port's test, in its order), then rx_data directly. */
		if (likely(mlen >= MESSAGE_MINIMUM_LENGTH && !memcmp(msg, (const uint8_t[4]){ MESSAGE_DATA }, 4) &&
			   memcmp(msg + 4, (const uint8_t[4]){ 0x21, 0x12, 0xa4, 0x42 }, 4))) {
			if ((kp = rx_data_keypair(c, p, msg))) {
				if (family == AF_INET && eth[ETH_HLEN_] == 0x45)
					rx_outer_note(c, eth, kp);
				rx_data(c, p, kp, kp->entry.peer, msg, mlen, true);
			}
		} else
			rx_wireguard(c, p, msg, mlen);
		return;
	}
	/* Addressed to us but not WireGuard: a reply to a NAT flow (the XDP program steers only the
	 * NAT port range here). */
	if (local) {
		if (!lan_plaintext_ok(c, p, eth + ETH_HLEN_, ilen, family))
			return;
		if (!c->snat ||
		    (!nat_memo_translate(&c->nat_in_memo, c->nat_stamp, true, p->l3, p->len, p->family, c->now, NULL) &&
		     !nat_in_remember(&c->dev->nat, &c->nat_in_memo, c->nat_stamp, p->l3, p->len, p->family,
				      c->now))) {
			wk_drop(c, p, MG_DROP_NAT_UNKNOWN);
			return;
		}
		/* Forwarded as the reply's router: one hop less, as for any packet it routes. */
		if (!ip_dec_ttl(p->l3, family)) {
			wk_drop(c, p, MG_DROP_TTL_EXCEEDED);
			return;
		}
		p->natted = true;
		wk_tunnel_fields(c, p, p->l3, ilen, family, FROM_LAN, true, 0, true, NULL);   /* p: the open batch's slot */
		return;
	}
	/* Plaintext from the LAN that the XDP program judged tunnel-bound. */
	if (!lan_plaintext_ok(c, p, eth + ETH_HLEN_, ilen, family))
		return;
	if (!ip_dec_ttl(eth + ETH_HLEN_, family)) {
		wk_drop(c, p, MG_DROP_TTL_EXCEEDED);
		return;
	}
	/* Only an IPv4 frame without options gets an entry (c->lan): its addresses, loaded before
	 * wk_tunnel_fields writes the message header over the Ethernet header. */
	lan = family == AF_INET && eth[ETH_HLEN_] == 0x45;
	memcpy(&addrs, eth + 26, 8);
	kp = wk_tunnel_fields(c, p, eth + ETH_HLEN_, ilen, family, FROM_LAN, false, 0, true, NULL);
	if (lan && kp)
		rx_lan_note(c, addrs, kp);
}

/* One received frame at port offset addr (its Ethernet header), len bytes: inline in the burst
 * loop below, which every frame passes; a frame neither flow memo takes goes through the general
 * checks, out of line (the loop keeps its registers for the memos' ways). */
static inline __attribute__((always_inline)) void rx_frame(struct wctx *c, uint64_t addr, uint32_t len)
{
	uint8_t *eth = wk_data(c, addr);
	/* The open batch's next slot is the scratch (c->ndec < OPEN_BATCH here: rx_data flushes a full
	 * batch): a data message stays where it is and joins the batch by a count, with no copy (a
	 * copy right after the field writes below stalls on store forwarding); anything else leaves
	 * it before the slot is used. */
	struct wpkt *p = &c->dec[c->ndec];
	struct wk_lan_ent *e;

	if (c->outer_in.pass == c->pass && len >= RX_OUTER_LEN && rx_outer_known(c, eth)) {
		rx_slot_init(p, addr, eth);
		if (rx_outer_data(c, p, eth, len))
			return;
	}
	if (len >= ETH_HLEN_ + IP4_HLEN && (e = rx_lan_known(c, eth)) && rx_lan_data(c, addr, eth, len, e))
		return;
	if (c->snat && len >= ETH_HLEN_ + IP4_HLEN && rx_nat_reply(c, addr, eth, len))
		return;
	rx_frame_general(c, p, addr, eth, len);
}

/* The two cache lines that hold a frame's Ethernet, IP, UDP and WireGuard headers. */
static inline void rx_prefetch(const uint8_t *area, const struct io_desc *d)
{
	const uint8_t *eth = area + d->addr;

	__builtin_prefetch(eth);
	__builtin_prefetch(eth + 63);
}

/*
 * Classifying a frame starts with a cache miss on its headers (a NIC writes them to memory or
 * L3; frames 4 KiB apart also share few L1 sets), so the headers of the next few frames are
 * fetched while this one is classified. The descriptors past the last repeat it, so that the
 * loop prefetches without a bound test.
 */
void wk_rx_burst(struct wctx *c, struct io_desc *rx, unsigned n)
{
	const uint8_t *area = c->area;
	uint64_t bytes = 0;

	rx_memo_epoch(c);                /* also for relayed and staged packets: even with no frames */
	if (!n)
		return;
	for (unsigned i = 0; i < WK_RX_PREFETCH; i++)
		rx[n + i] = rx[n - 1];
	for (unsigned i = 0; i < WK_RX_PREFETCH; i++)
		rx_prefetch(area, &rx[i]);
	for (unsigned i = 0; i < n; i++) {
		rx_prefetch(area, &rx[i + WK_RX_PREFETCH]);
		bytes += rx[i].len;
		rx_frame(c, rx[i].addr, rx[i].len);
	}
	c->ctr->rx_packets += n;         /* once per burst */
	c->ctr->rx_bytes += bytes;
}

/*
 * Roaming: the peer's endpoint becomes the source of its latest authenticated packet. Packets
 * of one batch are handled in order, so a packet from the same peer and source as the one just
 * checked needs no second check (the endpoint seqlock read and compare, per packet otherwise).
 */
static void rx_roam(struct wctx *c, struct peer *peer, const struct mg_endpoint *src)
{
	if (peer == c->roamed.peer && mg_endpoint_equal(&c->roamed.ep, src))
		return;
	if (!peer_endpoint_is(peer, src))
		peer_endpoint_roam(peer, src);
	c->roamed.peer = peer;
	c->roamed.ep = *src;
}

/*
 * TSMP is for the router itself (tsmp.h): a ping to one of our tailnet addresses, or to an
 * address we route for the peer (tailscaled answers any), goes back as a pong to the peer it
 * came from (its source passed that peer's allowed IPs); everything else ends here. tailscaled
 * does this before its packet filter, so a router without a policy yet still answers.
 * The pong may be 2 bytes longer than the ping: the tag it came with is behind it.
 */
static void rx_tsmp(struct wctx *c, struct wpkt *p)
{
	const uint8_t *dst = ip_dst(p->l3, p->family);
	uint32_t len;

	if ((is_tailnet_local(c->dev, p->family, dst) || is_advertised(c->dev, p->family, dst)) &&
	    (len = tsmp_ping_to_pong(p->l3, p->len, p->family))) {
		p->len = len;
		p->origin = FROM_PEER;       /* an answer to the peer: no LAN-side checks in wk_tunnel */
		c->ctr->tsmp_pongs++;
		wk_tunnel(c, p, 0);
		return;
	}
	wk_drop(c, p, MG_DROP_TSMP);
}

/* The flow memo's entry for a peer's inner source and destination (as loaded). */
static inline struct wk_peerflow_ent *rx_peer_flow_slot(struct wctx *c, uint64_t addrs)
{
	_Static_assert(WK_PEERFLOW_SLOTS == WK_PAIR_SLOTS, "rx_peer_flow_slot: one slot per wk_pair_slot value");
	return &c->peerflow[wk_pair_slot(addrs)];
}

/* Whether peer's IPv4 packet from and to addrs passed the source check and went to the LAN
 * under this epoch's tables. */
static inline bool rx_peer_flow_known(struct wctx *c, const struct peer *peer, uint64_t addrs)
{
	const struct wk_peerflow_ent *e = rx_peer_flow_slot(c, addrs);

	return e->addrs == addrs && e->peer == peer && e->epoch == c->memo_epoch;
}

static inline void rx_peer_flow_note(struct wctx *c, struct peer *peer, uint64_t addrs)
{
	struct wk_peerflow_ent *e = rx_peer_flow_slot(c, addrs);

	e->addrs = addrs;
	e->peer = peer;
	e->epoch = c->memo_epoch;
	e->ruled_proto = 0;
}

/*
 * The tailnet ACL as tailscaled applies it (wgengine/filter RunIn): no filter, a static router:
 * everything; no policy yet: nothing; then what the rules allow, and a reply to a flow the LAN
 * started (flowtrack.h). tailscaled asks its flow table before the rules; the answer is the
 * same either way, and asking the rules first spares the table for most packets.
 */
static bool rx_filter_pass(struct wctx *c, const struct wpkt *p, bool pair)
{
	const struct filter *f = c->filter;
	struct wk_peerflow_ent *pf = NULL;
	struct wk_flow_key k;
	bool memo, reply, opens = true;

	if (!f)
		return true;
	if (f->allow_none)
		return false;
	memo = wk_flow_key(&k, p->l3, p->len, p->family, tsmp_ip_proto(p->l3, p->family));
	if (memo && k.proto == IPPROTO_TCP) {
		const uint8_t *tcp = p->l3 + (p->family == AF_INET ? IP4_HLEN : IP6_HLEN);

		opens = tcp + 14 > p->l3 + p->len || (tcp[13] & 0x12) == 0x02;
	}
	/*
	 * The flow the rules let in last between this peer's pair of addresses, across passes.
	 * pair: the flow memo's slot holds the pair under memo_epoch (rx_authenticated found it
	 * there, or in c->flow4, which names the pair the batch last found or noted there), and
	 * a new filter moves memo_epoch. The rules would say the same again: they read nothing
	 * of the packet but its protocol, addresses, destination port and (TCP) whether it
	 * opens. A TCP segment that opens a connection (SYN without ACK) is answered so only if
	 * one that opens was let in: the others pass whatever the rules say (filter.h), so their
	 * verdict says nothing about a SYN of the same ports. Replies are not kept: the flow
	 * table's answer changes as its flows expire.
	 */
	if (pair && memo) {
		pf = rx_peer_flow_slot(c, k.addrs[0]);
		if (pf->ruled_proto == k.proto && pf->ruled_ports == k.ports && (pf->ruled_opens || !opens))
			return true;
	}
	/* A packet of the flow this filter let in last, in this pass: the same answer, for the
	 * same reason (the rules are the same, and the flow table is as at the pass's instant);
	 * for opening TCP segments as above. */
	if (memo && c->filter_ok.pass == c->pass && c->filter_ok.f == f && (c->filter_ok.opens || !opens) &&
	    wk_flow_key_eq(&c->filter_ok.k, &k)) {
		c->ctr->flow_replies += c->filter_ok.reply;
		return true;
	}
	/* The rules first: what they let in needs no flow table (a TCP segment past its SYN, or
	 * any flow a policy allows); a reply is what they would have dropped. */
	reply = !filter_allows(f, p->l3, p->len, p->family);
	if (reply && !flowtrack_is_reply(&c->dev->flows, p->l3, p->len, p->family, c->now))
		return false;
	c->ctr->flow_replies += reply;
	if (pf && !reply) {
		pf->ruled_proto = k.proto;
		pf->ruled_ports = k.ports;
		pf->ruled_opens = opens;
	}
	if (memo) {
		c->filter_ok.pass = c->pass;
		c->filter_ok.f = f;
		c->filter_ok.k = k;
		c->filter_ok.reply = reply;
		c->filter_ok.opens = opens;
	}
	return true;
}

/*
 * Once per run of one keypair's packets in a batch (the clock is the pass's, so a second
 * packet of the run would store the same values): the timers (data = the run carries data),
 * key confirmation and the last-minute rekey.
 */
static inline __attribute__((always_inline)) void rx_keypair_run(struct wctx *c, struct keypair *kp,
								    struct peer *peer, bool data)
{
	peer_ev_auth_rx(peer, c->now, data);
	if (kp == mg_rcu_dereference(peer->next) && !atomic_load(&peer->confirm_next)) {
		atomic_store(&peer->confirm_next, true);
		device_wake_control(c->dev);
	}
	if (kp->nk.i_am_initiator &&
	    noise_keypair_aged(&kp->nk, c->now, REJECT_AFTER_TIME_NS - KEEPALIVE_TIMEOUT_NS - REKEY_TIMEOUT_NS) &&
	    !atomic_exchange(&kp->nk.sent_lastminute_handshake, true))
		wk_want_handshake(c, peer);
}

/* After authentication (rx_keypair_run done for its run): roaming, counters, then the inner
 * packet's checks and its way on. */
static void rx_authenticated(struct wctx *c, struct wpkt *p, struct peer *peer)
{
	uint32_t ilen = p->len - MESSAGE_MINIMUM_LENGTH;
	uint64_t addrs = 0;
	int family = 0;
	bool same = false;
	struct peer *to;
	uint8_t v;

	rx_roam(c, peer, &p->ep);
	if (unlikely(p->ep.family == AF_INET6)) {
		c->ctr->decap_packets6++;
		c->ctr->decap_bytes6 += p->len;
	} else if (unlikely(mg_endpoint_is_derp(&p->ep))) {
		c->ctr->decap_packets_derp++;
		c->ctr->decap_bytes_derp += p->len;
	}
	p->l3 += sizeof(struct msg_data);
	if (!ilen) {
		c->ctr->keepalives_rx++;
		io_frame_put(&c->w->port, p->addr);
		return;
	}
	p->len = ip_packet_len(p->l3, ilen, &family);
	p->family = (uint8_t)family;
	if (!p->len) {
		wk_drop(c, p, MG_DROP_MALFORMED);
		return;
	}
	/* The IPv4 source and destination of the packet before from this peer in this batch, or
	 * of a flow of this peer's in the flow memo, if it went to the LAN: then its source check
	 * and route verdict are this one's (both depend on the addresses alone, and the tables). */
	if (p->family == AF_INET) {
		memcpy(&addrs, p->l3 + 12, 8);
		same = c->flow4.peer == peer && c->flow4.addrs == addrs;
		if (!same && rx_peer_flow_known(c, peer, addrs)) {
			same = true;
			c->flow4.peer = peer;
			c->flow4.addrs = addrs;
		}
	}
	/* Cryptokey routing, receive side: the inner source must belong to the peer that sealed it. */
	if (!same && wk_allowedips(c, p->family, ip_src(p->l3, p->family)) != peer) {
		wk_drop(c, p, MG_DROP_SOURCE_NOT_ALLOWED);
		return;
	}
	if (unlikely(tsmp_ip_proto(p->l3, p->family) == TSMP_PROTO)) {
		rx_tsmp(c, p);
		return;
	}
	if (!rx_filter_pass(c, p, same)) {
		wk_drop(c, p, MG_DROP_FILTERED);
		return;
	}
	p->origin = FROM_PEER;
	if (same) {
		route_verdict(c, p, peer, ROUTE_LAN, NULL);
		return;
	}
	v = route_of(c, p->family, ip_dst(p->l3, p->family), &to);
	if (v == ROUTE_LAN && p->family == AF_INET) {
		c->flow4.peer = peer;
		c->flow4.addrs = addrs;
		rx_peer_flow_note(c, peer, addrs);
	}
	route_verdict(c, p, peer, v, to);
}

/*
 * After a run of one keypair's packets in the open batch (pkts of them fresh, bytes long; data:
 * one of them carried data; peer: the keypair's, as rx_data took it from the index entry):
 * received bytes (whole messages, like the kernel) and the per-keypair work of rx_keypair_run.
 * Always inline: with two callers gcc kept a copy out of line, a call per run, which a burst
 * interleaving peers pays per packet.
 */
static inline __attribute__((always_inline)) void rx_run_end(struct wctx *c, struct keypair *kp,
								   struct peer *peer, unsigned pkts, uint64_t bytes,
								   bool data)
{
	if (!pkts)
		return;
	rx_keypair_run(c, kp, peer, data);
	peer_count_bytes(peer, c->wid, true, bytes);
}

/*
 * The AEAD over the batch, then in one pass the replay window (one lock per run of a keypair:
 * workers may share a peer after RSS changes; the device's only worker has no one to share it
 * with, since control writes a window only before the keypair is published), the per-run work
 * and the counters; then each fresh packet's way on, in order. The decap counters once per batch.
 */
void wk_flush_open(struct wctx *c)
{
	struct keypair *locked = NULL;
	struct peer *lpeer = NULL;       /* locked's */
	uint64_t ok, fresh = 0, bytes = 0, total = 0;
	unsigned n = c->ndec, pkts = 0, run = 0, was;
	bool data = false;

	if (!n)
		return;
	was = wk_prof_to(c->prof, WK_PROF_OPEN_AEAD);
	c->ndec = 0;
	wk_batch_hist(c, n);
	ok = aead_open_burst(c->dec_ops, n);
	wk_prof_to(c->prof, WK_PROF_OPEN_AFTER);
	for (unsigned i = 0; i < n; i++) {
		struct wpkt *p = &c->dec[i];

		if (!(ok >> i & 1)) {
			wk_drop(c, p, MG_DROP_DECRYPT_FAILED);
			continue;
		}
		if (p->kp != locked) {
			if (locked) {
				if (!c->sole)
					keypair_replay_unlock(locked);
				rx_run_end(c, locked, lpeer, run, bytes, data);
			}
			locked = p->kp;
			lpeer = p->peer;
			if (!c->sole)
				keypair_replay_lock(locked);
			run = 0;
			bytes = 0;
			data = false;
		}
		if (!replay_check(&p->kp->nk.replay, c->dec_ops[i].counter)) {
			wk_drop(c, p, MG_DROP_REPLAY);
			continue;
		}
		fresh |= 1ULL << i;
		pkts++;
		run++;
		bytes += p->len;
		total += p->len;
		data |= p->len != MESSAGE_MINIMUM_LENGTH;
	}
	if (locked) {
		if (!c->sole)
			keypair_replay_unlock(locked);
		rx_run_end(c, locked, lpeer, run, bytes, data);
	}
	c->ctr->decap_packets += pkts;
	c->ctr->decap_bytes += total;
	c->roamed.peer = NULL;
	c->flow4.peer = NULL;
	for (unsigned i = 0; i < n; i++)
		if (fresh >> i & 1)
			rx_authenticated(c, &c->dec[i], c->dec[i].peer);
	wk_prof_to(c->prof, was);
}
