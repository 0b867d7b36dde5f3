// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_rxmemo.c - the worker's memos of received headers (worker_rx.c: c->outer_in, per pass,
 * for the tunnel's data messages; c->lan, per LAN flow and across passes, for plaintext from the
 * LAN; c->peerflow, per peer's flow to the LAN and across passes) change nothing a frame's fate
 * depends on. Over the memory port with two live peers:
 *
 *   #1 tunnel -> LAN, differential: a frame altered from a valid data message (any byte of its
 *      outer headers and receiver index, its lengths, its source, the other peer's index,
 *      STUN's cookie, IPv4 options, a fragment bit, a keepalive) is handled alone in a pass,
 *      where no memo exists, and again right behind two valid messages of peer 0 in one pass,
 *      where it meets the memo the first left and the second used. What it does must be the
 *      same both ways (behind the valid ones: plus what they did alone): the counters it moves,
 *      the frames it sends (LAN frames byte for byte; sealed messages by the peer whose key
 *      opens them, their outer destination and plaintext) and the endpoint its peer roams to.
 *   #2 the memo is used: planted for the coming pass with peer 1's keypair under peer 0's
 *      index, it makes peer 0's next message fail to open (decrypt_failed); planted with an
 *      index that is no one's, the message is looked up and forwarded.
 *   #3 LAN -> tunnel, differential as #1 (alone: with the flow memo emptied): a frame altered
 *      from a valid LAN packet to peer 0 (any byte of its Ethernet and IPv4 headers, its
 *      lengths, TTL 0-2, a spoofed source, another destination: the other peer, the LAN, the
 *      router, nowhere; a partial checksum, also on a TCP SYN of the valid packets' length,
 *      whose kept value is the UDP one's; a SYN to clamp, too big for the tunnel, IPv4 options,
 *      fragment bits).
 *   #4 the flow memo is used: planted with peer 1's keypair under peer 0's flow, the next LAN
 *      packet to peer 0 goes sealed to peer 1, in the passes after (the keypair holds while the
 *      peers' generation does); planted with peer 1 as the flow's peer and a keypair of an older
 *      generation, in a later pass, likewise (the peer is asked for its own); and with a
 *      keypair whose expiry passed, whatever the generation.
 *   #5 each flow keeps its own checksum value: a partial checksum to peer 1 of the protocol and
 *      length of peer 0's packets before it is completed; and an entry taken again after the
 *      tables changed keeps none of it (a wrong value planted under the key is not used).
 *   #6 the keypair dies after the memos were taken (control retires it): a message under it is
 *      refused as expired_key, a LAN packet is staged for the next session, whether the flow
 *      memo holds the keypair under the same generation of the peers or asks the peer again; a
 *      peer removed since is not sealed for (no_route, as without the memo).
 *   #7 the flow memo ends with the tables it stands for: a wrong peer planted in peer 0's entry
 *      is not used after the allowed IPs or our tailnet addresses change; and peer 0's address
 *      moved to peer 1 in the allowed IPs takes its flow there.
 *   #8 the peers' flow memo (c->peerflow, tunnel -> LAN) is used: peer 0's flow planted as
 *      peer 1's lets peer 1's message from peer 0's address through (refused without it); not
 *      after the advertised routes change; and a flow whose prefix is no longer advertised is
 *      dropped as no_route.
 *   #9 a new session installed and confirmed by control's own functions (the old keypair
 *      alive, now previous): the flow memo takes it up at once.
 *   #10 the SNAT memos (c->nat_out_memo, c->nat_in_memo) across passes: a peer's flow and the
 *      LAN's reply are translated from them in the pass after the one that looked them up, and
 *      not after nat_expire removed the flow: the peer's next packet makes a new flow in the
 *      table, and a reply to the old port is dropped as nat_unknown. A reply the memo takes
 *      (rx_nat_reply) with a partial checksum leaves with it completed; with TTL 1 it is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <urcu-qsbr.h>
#include "worker.h"
#include "wctx.h"
#include "io/mem.h"
#include "io/mem_router.h"
#include "crypto/aead.h"
#include "pkt.h"
#include "wireguard/messages.h"
#include "wireguard/allowedips.h"
#include "dataplane.h"
#include "pktcheck.h"

#define TRIALS 4000
#define NCTR (13 + MG_DROP_MAX)
#define NOUT 8
#define DECAP 4                          /* indices into outcome.v */
#define ENCAP 6

static struct mem_router R;
static struct mem_far far[2];

/* A frame a pass sent: to the LAN (peer -1, its bytes), or sealed for a peer (the peer whose
 * key opened it; its outer destination address and port, then its plaintext). */
struct sent {
	int peer;
	uint32_t len;
	uint8_t b[1600];
};

/* What a pass did: the counters a received frame can move, what it sent, where peers are. */
struct outcome {
	uint64_t v[NCTR];
	unsigned nout;
	struct sent out[NOUT];
	struct mg_endpoint ep[2];
};

static const char *const ctr_name[13] = { "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "decap_packets",
					  "decap_bytes", "encap_packets", "encap_bytes", "punted", "keepalives_rx",
					  "csum_completed", "mss_clamped", "icmp_sent" };

static void counters_read(uint64_t *v)
{
	const struct mg_counters *k = R.c->ctr;
	const uint64_t c[13] = { k->rx_packets, k->rx_bytes, k->tx_packets, k->tx_bytes, k->decap_packets,
				 k->decap_bytes, k->encap_packets, k->encap_bytes, k->punted, k->keepalives_rx,
				 k->csum_completed, k->mss_clamped, k->icmp_sent };

	memcpy(v, c, sizeof(c));
	for (unsigned d = 0; d < MG_DROP_MAX; d++)
		v[13 + d] = k->drops[d];
}

/* The frame at f (len bytes) as struct sent: a data message that one of the far ends opens, or
 * a LAN frame. */
static void sent_read(struct sent *s, const uint8_t *f, uint32_t len)
{
	const uint32_t hl = ETH_HLEN_ + IP4_HLEN + UDP_HLEN + sizeof(struct msg_data);
	const struct msg_data *m = (const void *)(f + ETH_HLEN_ + IP4_HLEN + UDP_HLEN);
	uint8_t buf[1600];

	s->peer = -1;
	if (len > hl + AEAD_TAG_LEN && len - hl <= sizeof(buf) && f[ETH_HLEN_ + 9] == IPPROTO_UDP &&
	    m->header.type == htole32(MESSAGE_DATA))
		for (int k = 0; k < 2; k++) {
			struct aead_op op = { .key = far[k].kp.recv_key, .counter = le64toh(m->counter),
					      .src = buf, .dst = buf, .len = len - hl - AEAD_TAG_LEN };

			memcpy(buf, f + hl, len - hl);
			if (aead_open_burst(&op, 1) == 1) {
				s->peer = k;
				memcpy(s->b, f + ETH_HLEN_ + 16, 4);                /* outer destination */
				memcpy(s->b + 4, f + ETH_HLEN_ + IP4_HLEN + 2, 2);  /* and port */
				memcpy(s->b + 6, buf, op.len);
				s->len = 6 + op.len;
				return;
			}
		}
	s->len = len < sizeof(s->b) ? len : (uint32_t)sizeof(s->b);
	memcpy(s->b, f, s->len);
}

/* One pass over what was pushed; its effect in o. */
static void pass(struct outcome *o)
{
	uint64_t before[NCTR];
	struct io_desc d[16];
	unsigned n;

	counters_read(before);
	wk_poll(R.c);
	rcu_quiescent_state();
	counters_read(o->v);
	for (unsigned i = 0; i < NCTR; i++)
		o->v[i] -= before[i];
	o->nout = 0;
	while ((n = io_mem_tx_pop(&R.w->port, d, 16)))
		for (unsigned i = 0; i < n; i++) {
			T_CHECK(o->nout < NOUT, "more frames sent than a trial makes");
			if (o->nout < NOUT)
				sent_read(&o->out[o->nout++], io_port_data(&R.w->port, d[i].addr), d[i].len);
			io_frame_put(&R.w->port, d[i].addr);
		}
	while (ring_peek(&R.w->punt))
		ring_release(&R.w->punt);
	for (int k = 0; k < 2; k++)
		peer_endpoint_get(far[k].peer, &o->ep[k]);
}

/* An address pair as the flow memos keep it (one 8-byte word, as loaded). */
static uint64_t pair_of(const uint8_t src[4], const uint8_t dst[4])
{
	uint8_t b[8];
	uint64_t w;

	memcpy(b, src, 4);
	memcpy(b + 4, dst, 4);
	memcpy(&w, b, 8);
	return w;
}

/* The flow memo's entry for the LAN host's flow to peer k, of the current tables (NULL: none).
 * By the whole pair: the differential cases leave entries for altered sources to the same
 * peer. */
static struct wk_lan_ent *lan_entry(unsigned k)
{
	uint64_t addrs = pair_of(mem_lan.host_ip, far[k].tun_ip);

	for (unsigned i = 0; i < WK_LAN_SLOTS; i++)
		if (R.c->lan[i].epoch == R.c->memo_epoch && R.c->lan[i].peer == far[k].peer &&
		    R.c->lan[i].addrs == addrs)
			return &R.c->lan[i];
	return NULL;
}

/* The peers' flow memo's entry for peer k's flow to the LAN host, of the current tables; by
 * the whole pair, likewise. */
static struct wk_peerflow_ent *peerflow_entry(unsigned k)
{
	uint64_t addrs = pair_of(far[k].tun_ip, mem_lan.host_ip);

	for (unsigned i = 0; i < WK_PEERFLOW_SLOTS; i++)
		if (R.c->peerflow[i].epoch == R.c->memo_epoch && R.c->peerflow[i].peer == far[k].peer &&
		    R.c->peerflow[i].addrs == addrs)
			return &R.c->peerflow[i];
	return NULL;
}

/* The advertised routes: the memory LAN's prefixes (lan), or the IPv6 one alone. */
static void routes_publish(bool lan)
{
	const struct mg_ipprefix r[2] = { { .family = AF_INET6, .cidr = 64, .addr = { 0xfd, 0, 0, 0x77 } },
					  { .family = AF_INET, .cidr = 24, .addr = { 192, 168, 77 } } };
	struct mg_routeset *set = mg_routeset_new(r, lan ? 2 : 1, false);

	T_CHECK(set != NULL, "allocation");
	if (set)
		dataplane_publish_routes(R.dev, set);
}

/* How a frame is altered after it is built. */
struct change {
	unsigned n;                      /* bytes set: off[i] = val[i] */
	unsigned off[4];
	uint8_t val[4];
	int dlen;                        /* added to the frame's length as received */
	bool keepalive;                  /* tunnel: an empty message instead of an inner packet */
	bool partial;                    /* LAN: the checksum an offloading sender leaves */
	bool syn;                        /* LAN: a TCP SYN with an MSS of 1460 */
	uint32_t payload;                /* LAN: payload bytes (0: 20) */
	unsigned src_of;                 /* tunnel: the inner source is far[src_of - 1]'s address (0: its own) */
};

/* A data message of far[k] in frame buffer f, its inner packet a UDP datagram to the LAN host
 * (tag: its first payload byte), sealed with a fresh counter, then changed by ch. Returns the
 * frame's length. */
static uint32_t tunnel_build(uint8_t *f, unsigned k, uint8_t tag, const struct change *ch)
{
	struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };
	uint8_t *ip = f + ETH_HLEN_;
	struct msg_data *m = (void *)(ip + IP4_HLEN + UDP_HLEN);
	char src[16], dst[16];
	uint32_t plen = 0, mlen;
	struct aead_op op;

	if (!ch->keepalive) {
		inet_ntop(AF_INET, far[ch->src_of ? ch->src_of - 1 : k].tun_ip, src, sizeof(src));
		inet_ntop(AF_INET, mem_lan.host_ip, dst, sizeof(dst));
		plen = (uint32_t)mkpkt(m->encrypted_data, 0, src, dst, IPPROTO_UDP, 4000 + tag, 53, 20);
		m->encrypted_data[IP4_HLEN + UDP_HLEN] = tag;
		ref_fix(m->encrypted_data, plen);
		while (plen % MESSAGE_PADDING_MULTIPLE)
			m->encrypted_data[plen++] = 0;
	}
	mlen = (uint32_t)sizeof(*m) + plen + AEAD_TAG_LEN;
	memcpy(us.addr, mem_lan.router_ip, 4);
	eth_build(f, mem_lan.router_mac, mem_lan.gw_mac, AF_INET);
	ipudp_build(ip, &us, far[k].ep_ip, MEM_FAR_PORT, mlen);
	m->header.type = htole32(MESSAGE_DATA);
	m->receiver_index = htole32(far[k].kp.remote_index);
	m->counter = htole64(far[k].send_counter);
	op = (struct aead_op){ .key = far[k].kp.send_key, .counter = far[k].send_counter++,
			       .src = m->encrypted_data, .dst = m->encrypted_data, .len = plen };
	aead_seal_burst(&op, 1);
	for (unsigned i = 0; i < ch->n; i++)
		f[ch->off[i]] = ch->val[i];
	return (uint32_t)((int)(ETH_HLEN_ + IP4_HLEN + UDP_HLEN + mlen) + ch->dlen);
}

/* A LAN host's packet to far[k]'s tailnet address in frame buffer f (UDP, or a TCP SYN; tag:
 * its source port's low byte and first payload byte), changed by ch. Returns the frame's length. */
static uint32_t lan_build(uint8_t *f, unsigned k, uint8_t tag, const struct change *ch)
{
	uint8_t *ip = f + ETH_HLEN_;
	char src[16], dst[16];
	uint32_t len;

	inet_ntop(AF_INET, mem_lan.host_ip, src, sizeof(src));
	inet_ntop(AF_INET, far[k].tun_ip, dst, sizeof(dst));
	eth_build(f, mem_lan.router_mac, mem_lan.host_mac, AF_INET);
	len = (uint32_t)mkpkt(ip, 0, src, dst, ch->syn ? IPPROTO_TCP : IPPROTO_UDP, 5000 + tag, 53,
			      ch->payload ? ch->payload : 20);
	if (ch->syn) {                   /* data offset 6: the MSS option in the first 4 bytes */
		static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };

		ip[IP4_HLEN + 12] = 6 << 4;
		memcpy(ip + IP4_HLEN + 20, mss, 4);
	} else {
		ip[IP4_HLEN + UDP_HLEN] = tag;
	}
	ref_fix(ip, len);
	if (ch->partial) {               /* the folded pseudo-header sum, not complemented */
		uint32_t off = ch->syn ? 16 : 6;
		uint16_t p = ref_sum(ip + 12, 8, ip[9] + (len - IP4_HLEN));

		ip[IP4_HLEN + off] = (uint8_t)(p >> 8);
		ip[IP4_HLEN + off + 1] = (uint8_t)p;
	}
	for (unsigned i = 0; i < ch->n; i++)
		f[ch->off[i]] = ch->val[i];
	return (uint32_t)((int)(ETH_HLEN_ + len) + ch->dlen);
}

static void push(bool lan, unsigned k, uint8_t tag, const struct change *ch)
{
	uint64_t base = io_frame_get(&R.w->port), a = base + io_rx_offset(base);
	uint8_t *f = io_port_data(&R.w->port, a);
	uint32_t len;

	T_CHECK(base != UINT64_MAX, "frame pool empty");
	len = lan ? lan_build(f, k, tag, ch) : tunnel_build(f, k, tag, ch);
	T_CHECK(io_mem_rx_push(&R.w->port, a, len), "rx push");
}

/* The LAN host's UDP reply from port 53 to the router's NAT port `port` (4000 + 40: the
 * tunnel packets' source port with tag 40); ttl: its TTL (0: as mkpkt makes it); partial: its
 * checksum as a sender that offloads it leaves it (the pseudo-header's folded sum). */
static void reply_push_as(uint16_t port, uint8_t ttl, bool partial)
{
	uint64_t base = io_frame_get(&R.w->port), a = base + io_rx_offset(base);
	uint8_t *f = io_port_data(&R.w->port, a);
	char src[16], dst[16];
	uint32_t len;

	T_CHECK(base != UINT64_MAX, "frame pool empty");
	inet_ntop(AF_INET, mem_lan.host_ip, src, sizeof(src));
	inet_ntop(AF_INET, mem_lan.router_ip, dst, sizeof(dst));
	eth_build(f, mem_lan.router_mac, mem_lan.host_mac, AF_INET);
	len = (uint32_t)mkpkt(f + ETH_HLEN_, 0, src, dst, IPPROTO_UDP, 53, port, 20);
	if (ttl)
		f[ETH_HLEN_ + 8] = ttl;
	ref_fix(f + ETH_HLEN_, len);
	if (partial) {
		uint8_t *ip = f + ETH_HLEN_;
		uint16_t v = ref_sum(ip + 12, 8, IPPROTO_UDP + (len - IP4_HLEN));

		ip[IP4_HLEN + 6] = (uint8_t)(v >> 8);
		ip[IP4_HLEN + 7] = (uint8_t)v;
	}
	T_CHECK(io_mem_rx_push(&R.w->port, a, ETH_HLEN_ + len), "rx push");
}

static void reply_push(uint16_t port)
{
	reply_push_as(port, 0, false);
}

static uint32_t rnd(uint32_t n)
{
	return randombytes_uniform(n);
}

static void set16(struct change *ch, unsigned off, uint16_t v)
{
	ch->off[ch->n] = off;
	ch->val[ch->n++] = (uint8_t)(v >> 8);
	ch->off[ch->n] = off + 1;
	ch->val[ch->n++] = (uint8_t)v;
}

/* A length near a packet's (60-180), small (0-63) or anything. */
static uint16_t len_pick(void)
{
	return (uint16_t)(rnd(3) == 0 ? rnd(65536) : rnd(3) == 0 ? rnd(64) : 60 + rnd(120));
}

/* Bytes 0..n-1 altered: one or two of them, to anything. */
static void bytes_pick(struct change *ch, unsigned n)
{
	unsigned k = 1 + rnd(2);

	for (unsigned i = 0; i < k; i++) {
		ch->off[ch->n] = rnd(n);
		ch->val[ch->n++] = (uint8_t)rnd(256);
	}
}

/* A change to a data message, at random; peer: whose message it is. */
static void tunnel_change(struct change *ch, unsigned *peer)
{
	static const uint8_t stun[4] = { 0x21, 0x12, 0xa4, 0x42 };
	const unsigned idx = ETH_HLEN_ + IP4_HLEN + UDP_HLEN + 4;

	memset(ch, 0, sizeof(*ch));
	*peer = rnd(4) == 0;             /* peer 1 now and then: another index than the memo's */
	switch (rnd(10)) {
	case 0:                          /* the headers or the index */
	case 1:
		bytes_pick(ch, idx + 4);
		break;
	case 2:                          /* the frame's length */
		ch->dlen = (int)rnd(97) - 80;
		break;
	case 3:                          /* IPv4 tot_len or UDP length */
		set16(ch, ETH_HLEN_ + (rnd(2) ? 2 : IP4_HLEN + 4), len_pick());
		break;
	case 4:                          /* STUN's cookie where the index is */
		for (int i = 0; i < 4; i++) {
			ch->off[ch->n] = idx + (unsigned)i;
			ch->val[ch->n++] = stun[i];
		}
		break;
	case 5:                          /* another source address or port (it roams) */
		ch->off[0] = ETH_HLEN_ + (rnd(2) ? 12 + rnd(4) : IP4_HLEN + rnd(2));
		ch->val[0] = (uint8_t)rnd(256);
		ch->n = 1;
		break;
	case 6:                          /* IPv4 options claimed, a fragment bit, DF off */
		ch->off[0] = ETH_HLEN_ + (rnd(2) ? 0 : 6);
		ch->val[0] = ch->off[0] == ETH_HLEN_ ? (uint8_t)(0x46 + rnd(3)) : (uint8_t)(rnd(2) ? 0x20 : 0x00);
		ch->n = 1;
		break;
	case 7:
		ch->keepalive = true;
		break;
	default:                         /* nothing: the memo's own kind */
		break;
	}
}

/* A change to a LAN packet, at random; peer: whose tailnet address it goes to. */
static void lan_change(struct change *ch, unsigned *peer)
{
	const unsigned src = ETH_HLEN_ + 12, dst = ETH_HLEN_ + 16;
	const uint8_t *to;

	memset(ch, 0, sizeof(*ch));
	*peer = rnd(4) == 0;
	switch (rnd(13)) {
	case 0:                          /* the Ethernet and IPv4 headers */
	case 1:
		bytes_pick(ch, ETH_HLEN_ + IP4_HLEN);
		break;
	case 2:                          /* the frame's length */
		ch->dlen = (int)rnd(70) - 60;
		break;
	case 3:                          /* IPv4 tot_len */
		set16(ch, ETH_HLEN_ + 2, len_pick());
		break;
	case 4:                          /* TTL 0, 1 or 2 */
		ch->off[0] = ETH_HLEN_ + 8;
		ch->val[0] = (uint8_t)rnd(3);
		ch->n = 1;
		break;
	case 5:                          /* a source the LAN may not use: the tailnet's, the router's */
		to = rnd(2) ? (const uint8_t[4]){ 100, 64, 0, (uint8_t)(9 + rnd(2)) } : mem_lan.router_ip;
		for (unsigned i = 0; i < 4; i++) {
			ch->off[ch->n] = src + i;
			ch->val[ch->n++] = to[i];
		}
		break;
	case 6:                          /* another destination: the LAN host, the router, anywhere */
		to = rnd(3) == 0 ? mem_lan.host_ip : rnd(2) ? mem_lan.router_ip : (const uint8_t[4]){ 203, 0, 113, 7 };
		for (unsigned i = 0; i < 4; i++) {
			ch->off[ch->n] = dst + i;
			ch->val[ch->n++] = to[i];
		}
		break;
	case 7:                          /* a partial checksum (a SYN of the valid packet's length), */
		ch->partial = true;      /* now and then on a fragment, which keeps it */
		ch->syn = rnd(2);
		ch->payload = ch->syn ? 8 : 20;
		if (rnd(3) == 0) {
			ch->off[0] = ETH_HLEN_ + 6;
			ch->val[0] = 0x20;
			ch->n = 1;
		}
		break;
	case 8:                          /* a SYN whose MSS is clamped */
		ch->syn = true;
		ch->payload = 8 + rnd(2) * 40;
		break;
	case 9:                          /* too big for the tunnel (1280) or just fitting */
		ch->payload = 1200 + rnd(100);
		break;
	case 10:                         /* IPv4 options claimed, a fragment bit */
		ch->off[0] = ETH_HLEN_ + (rnd(2) ? 0 : 6);
		ch->val[0] = ch->off[0] == ETH_HLEN_ ? (uint8_t)(0x46 + rnd(3)) : (uint8_t)(rnd(2) ? 0x20 : 0x00);
		ch->n = 1;
		break;
	default:
		break;
	}
}

/* Are b's frames of one kind (sealed: peer >= 0, else LAN frames), in order, a's of that kind
 * and then c's? */
static bool sent_match(const struct outcome *b, bool sealed, const struct outcome *a, const struct outcome *c)
{
	const struct outcome *parts[2] = { a, c };
	unsigned i = 0;

	for (int p = 0; p < 2; p++)
		for (unsigned j = 0; j < parts[p]->nout; j++) {
			const struct sent *s = &parts[p]->out[j];

			if ((s->peer >= 0) != sealed)
				continue;
			while (i < b->nout && (b->out[i].peer >= 0) != sealed)
				i++;
			if (i == b->nout || b->out[i].peer != s->peer || b->out[i].len != s->len ||
			    memcmp(b->out[i].b, s->b, s->len))
				return false;
			i++;
		}
	while (i < b->nout && (b->out[i].peer >= 0) != sealed)
		i++;
	return i == b->nout;
}

/* both (the valid frames, then the altered one, in one pass) did what base and alone did. */
static bool outcome_check(const char *what, unsigned t, const struct outcome *alone, const struct outcome *base,
			  const struct outcome *both)
{
	bool ok = true;

	for (unsigned i = 0; i < NCTR; i++)
		if (both->v[i] != alone->v[i] + base->v[i]) {
			T_CHECK(false, "%s trial %u: %s moved by %lu behind valid packets, %lu alone (+%lu for the "
				"valid ones)", what, t, i < 13 ? ctr_name[i] : mg_drop_label[i - 13],
				(unsigned long)both->v[i], (unsigned long)alone->v[i], (unsigned long)base->v[i]);
			ok = false;
		}
	for (int sealed = 0; sealed < 2; sealed++)
		if (!sent_match(both, sealed, base, alone)) {
			T_CHECK(false, "%s trial %u: the %s frames differ from those sent without the memo", what, t,
				sealed ? "sealed" : "LAN");
			ok = false;
		}
	for (int k = 0; k < 2; k++)
		if (!mg_endpoint_equal(&both->ep[k], &alone->ep[k])) {
			T_CHECK(false, "%s trial %u: peer %d roamed to another endpoint behind valid packets", what, t, k);
			ok = false;
		}
	return ok;
}

/*
 * TRIALS altered frames of one direction: each pass starts from both peers at their own
 * endpoints (a valid message of each, in a pass of their own). counted: index of the counter
 * that says a frame went through (decap_packets, encap_packets).
 */
static void differential(const char *what, bool lan, unsigned counted)
{
	const struct change none = { 0 };
	struct outcome alone, base, both, reset;
	unsigned through = 0, refused = 0, peer;
	struct change ch;

	for (unsigned t = 0; t < TRIALS; t++) {
		if (lan)
			lan_change(&ch, &peer);
		else
			tunnel_change(&ch, &peer);
		push(false, 0, 0, &none);
		push(false, 1, 0, &none);
		pass(&reset);
		memset(R.c->lan, 0, sizeof(R.c->lan));
		memset(R.c->peerflow, 0, sizeof(R.c->peerflow));
		push(lan, peer, 1, &ch);
		pass(&alone);
		push(false, 0, 0, &none);
		push(false, 1, 0, &none);
		pass(&reset);
		push(lan, 0, 2, &none);
		push(lan, 0, 3, &none);
		pass(&base);
		T_CHECK(base.v[counted] == 2 && base.nout == 2, "%s trial %u: the valid packets alone not forwarded",
			what, t);
		push(false, 0, 0, &none);
		push(false, 1, 0, &none);
		pass(&reset);
		push(lan, 0, 2, &none);
		push(lan, 0, 3, &none);
		push(lan, peer, 1, &ch);
		pass(&both);
		if (!outcome_check(what, t, &alone, &base, &both))
			break;
		if (alone.v[counted])
			through++;
		else
			refused++;
	}
	printf("%s: %u altered frames went through, %u did not, the same with and without the memo\n", what,
	       through, refused);
	T_CHECK(through > TRIALS / 8 && refused > TRIALS / 8, "%s the changes did not cover both fates (%u, %u)",
		what, through, refused);
}

int main(void)
{
	const struct change none = { 0 };
	struct outcome o;
	struct keypair *kp1;
	uint64_t fails;

	if (sodium_init() < 0 || aead_init("auto"))
		return 1;
	rcu_register_thread();
	if (mem_router_init(&R, "rxmemo0", 1280) || mem_router_add_peer(&R, 0, true, &far[0]) ||
	    mem_router_add_peer(&R, 1, true, &far[1]))
		return printf("FAIL: in-memory router\n"), 1;
	kp1 = index_lookup_keypair(&R.dev->index, far[1].kp.remote_index);
	T_CHECK(kp1 != NULL && kp1 == far[1].peer->cur, "peer 1's keypair not in the index");

	differential("#1", false, DECAP);

	/* #2: a pass with peer 0's message leaves its memo, planted for the pass wk_poll starts next */
	fails = R.c->ctr->drops[MG_DROP_DECRYPT_FAILED];
	push(false, 0, 4, &none);
	pass(&o);
	T_CHECK(o.v[DECAP] == 1 && R.c->outer_in.pass == R.c->pass, "#2 peer 0's message left no memo");
	R.c->outer_in.pass = R.c->pass + 1;
	R.c->outer_in.kp = kp1;
	push(false, 0, 5, &none);
	pass(&o);
	T_CHECK(o.v[DECAP] == 0 && o.nout == 0 && R.c->ctr->drops[MG_DROP_DECRYPT_FAILED] == fails + 1,
		"#2 the planted keypair was not used (authenticated %lu, decrypt_failed +%lu)",
		(unsigned long)o.v[DECAP], (unsigned long)(R.c->ctr->drops[MG_DROP_DECRYPT_FAILED] - fails));
	R.c->outer_in.pass = R.c->pass + 1;
	R.c->outer_in.index = ~R.c->outer_in.index;
	push(false, 0, 6, &none);
	pass(&o);
	T_CHECK(o.v[DECAP] == 1 && o.nout == 1, "#2 a message whose index the memo does not hold was not "
		"looked up (authenticated %lu)", (unsigned long)o.v[DECAP]);

	differential("#3", true, ENCAP);

	/* #4 */
	{
		struct wk_lan_ent *e;

		push(true, 0, 7, &none);
		pass(&o);
		e = lan_entry(0);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 0 && e && e->peer_gen == R.c->peer_gen,
			"#4 the packet to peer 0 left no memo");
		if (e)
			e->kp = kp1;
		push(true, 0, 8, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 1,
			"#4 the planted keypair was not used (sealed %lu, for peer %d)", (unsigned long)o.v[ENCAP],
			o.nout ? o.out[0].peer : -2);
		push(false, 0, 0, &none);        /* a pass of other traffic between */
		pass(&o);
		/* peer 1 planted, with peer 0's keypair as found under an older generation of the
		 * peers: the keypair is not taken, the peer is asked for its own */
		if (e) {
			e->peer = far[1].peer;
			e->kp = far[0].peer->cur;
			e->peer_gen = R.c->peer_gen - 1;
		}
		push(true, 0, 9, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 1,
			"#4 the planted peer was not used a pass later (sealed %lu, for peer %d)",
			(unsigned long)o.v[ENCAP], o.nout ? o.out[0].peer : -2);
		/* an entry whose keypair's expiry passed asks the peer again, whatever the generation
		 * (peer 0's own keypair planted as peer 1's flow's, expired: peer 1's is found) */
		if (e) {
			e->kp = far[0].peer->cur;
			e->peer_gen = R.c->peer_gen;
			e->kp_expires = 1;
		}
		push(true, 0, 10, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 1 && e && e->kp == far[1].peer->cur &&
			e->kp_expires == far[1].peer->cur->nk.birthdate_ns + REJECT_AFTER_TIME_NS,
			"#4 an expired entry's keypair was used (sealed %lu, for peer %d)", (unsigned long)o.v[ENCAP],
			o.nout ? o.out[0].peer : -2);
		memset(R.c->lan, 0, sizeof(R.c->lan));
	}

	/* #5: each flow's own checksum value; and none kept by an entry taken again */
	{
		const struct change partial = { .partial = true };
		struct mg_addrset *set = calloc(1, sizeof(*set));
		struct wk_lan_ent *e;

		push(true, 0, 10, &none);
		push(true, 0, 11, &none);
		push(true, 1, 12, &none);
		push(true, 1, 13, &partial);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 4 && o.v[10] == 1, "#5 sealed %lu of 4, checksums completed %lu of 1",
			(unsigned long)o.v[ENCAP], (unsigned long)o.v[10]);
		T_CHECK(o.nout == 4 && o.out[3].peer == 1 && ref_valid(o.out[3].b + 6, o.out[3].len - 6),
			"#5 the partial checksum reached peer 1 not completed");
		/* peer 0's entry keeps the value for its UDP length; planted wrong, then the tables
		 * change (our tailnet addresses: none, as before), and the entry is taken again */
		e = lan_entry(0);
		T_CHECK(e && e->csum_key != 0, "#5 peer 0's flow kept no checksum value");
		T_CHECK(set != NULL, "allocation");
		if (e && set) {
			e->csum_value ^= 0x5555;
			dataplane_publish_addrs(R.dev, set);
			push(true, 0, 14, &none);
			push(true, 0, 15, &partial);
			pass(&o);
			T_CHECK(o.v[ENCAP] == 2 && o.v[10] == 1 && o.nout == 2 && o.out[1].peer == 0 &&
				ref_valid(o.out[1].b + 6, o.out[1].len - 6),
				"#5 the entry taken again used its old checksum value (completed %lu)",
				(unsigned long)o.v[10]);
		}
	}

	/* #6: the keypair dies (control retires it) after the memos were taken: a message under
	 * it is refused as expired, a LAN packet waits for a new session, as without the memos */
	{
		struct keypair *kp0 = index_lookup_keypair(&R.dev->index, far[0].kp.remote_index);
		uint64_t expired = R.c->ctr->drops[MG_DROP_EXPIRED_KEY], noroute;
		struct wk_lan_ent *e;

		T_CHECK(kp0 != NULL, "#6 peer 0's keypair not in the index");
		push(false, 0, 16, &none);
		push(true, 0, 17, &none);
		pass(&o);
		e = lan_entry(0);
		T_CHECK(o.v[DECAP] == 1 && o.v[ENCAP] == 1 && R.c->outer_in.pass == R.c->pass && e &&
			e->peer_gen == R.c->peer_gen, "#6 the valid packets left no memos");
		R.c->outer_in.pass = R.c->pass + 1;
		atomic_store(&kp0->dead, true);  /* the flow memo's generation still holds */
		push(false, 0, 18, &none);
		push(true, 0, 19, &none);
		pass(&o);
		T_CHECK(o.v[DECAP] == 0 && R.c->ctr->drops[MG_DROP_EXPIRED_KEY] == expired + 1,
			"#6 a message under the dead keypair was not refused (authenticated %lu)", (unsigned long)o.v[DECAP]);
		T_CHECK(o.v[ENCAP] == 0 && o.nout == 0 && R.c->stage_head - R.c->stage_tail == 1,
			"#6 the LAN packet was not staged (sealed %lu, staged %u)", (unsigned long)o.v[ENCAP],
			R.c->stage_head - R.c->stage_tail);
		/* the same once the peers' generation moved on (as keypair_retire moves it), where the
		 * flow memo asks the peer for its keypair again */
		peer_gen_bump();
		push(true, 0, 20, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 0 && o.nout == 0 && R.c->stage_head - R.c->stage_tail == 2,
			"#6 a pass later the LAN packet was not staged (sealed %lu, staged %u)",
			(unsigned long)o.v[ENCAP], R.c->stage_head - R.c->stage_tail);
		/* peer 1's flow memo, then peer 1 removed (marked dead and the generation moved on, as
		 * peer_retire does first) */
		push(true, 1, 21, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 1 && lan_entry(1) != NULL, "#6 the packet to peer 1 left no memo");
		noroute = R.c->ctr->drops[MG_DROP_NO_ROUTE];
		atomic_store(&far[1].peer->dead, true);
		peer_gen_bump();
		push(true, 1, 22, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 0 && R.c->ctr->drops[MG_DROP_NO_ROUTE] == noroute + 1,
			"#6 a packet to a removed peer was sealed (sealed %lu, no_route +%lu)", (unsigned long)o.v[ENCAP],
			(unsigned long)(R.c->ctr->drops[MG_DROP_NO_ROUTE] - noroute));
		atomic_store(&far[1].peer->dead, false);
		atomic_store(&kp0->dead, false);
		while (R.c->stage_head != R.c->stage_tail) {   /* the staged packets back to the pool */
			struct stage_ent s;

			if (wk_stage_pop(R.c, &s))
				io_frame_put(&R.w->port, s.pkt.addr);
		}
		wk_stage_drained(R.c);
	}

	/* #7: the flow memo ends with the tables it stands for */
	{
		static const uint8_t other[4] = { 10, 99, 0, 0 };
		struct mg_addrset *set = calloc(1, sizeof(*set));
		struct wk_lan_ent *e;

		T_CHECK(set != NULL, "allocation");
		push(true, 0, 23, &none);
		pass(&o);
		e = lan_entry(0);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 0 && e, "#7 the packet to peer 0 left no memo");
		if (e)
			e->peer = far[1].peer;
		T_CHECK(allowedips_insert(&R.dev->allowedips, AF_INET, other, 16, far[1].peer) == 0,
			"#7 allowed IPs: insert");
		push(true, 0, 24, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 0,
			"#7 after the allowed IPs changed the planted peer was used (for peer %d)", o.nout ? o.out[0].peer : -2);
		e = lan_entry(0);
		if (e)
			e->peer = far[1].peer;
		if (set)
			dataplane_publish_addrs(R.dev, set);
		push(true, 0, 25, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 0,
			"#7 after our addresses changed the planted peer was used (for peer %d)", o.nout ? o.out[0].peer : -2);
		/* peer 0's address moves to peer 1: its flow follows */
		T_CHECK(allowedips_remove(&R.dev->allowedips, AF_INET, far[0].tun_ip, 32, far[0].peer) == 0 &&
			allowedips_insert(&R.dev->allowedips, AF_INET, far[0].tun_ip, 32, far[1].peer) == 0,
			"#7 allowed IPs: move");
		push(true, 0, 26, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 1,
			"#7 the flow did not follow its address to peer 1 (for peer %d)", o.nout ? o.out[0].peer : -2);
		T_CHECK(allowedips_remove(&R.dev->allowedips, AF_INET, far[0].tun_ip, 32, far[1].peer) == 0 &&
			allowedips_insert(&R.dev->allowedips, AF_INET, far[0].tun_ip, 32, far[0].peer) == 0 &&
			allowedips_remove(&R.dev->allowedips, AF_INET, other, 16, far[1].peer) == 0,
			"#7 allowed IPs: restore");
	}

	/* #8: the peers' flow memo: a peer's inner source and destination that passed the source
	 * check and went to the LAN */
	{
		const struct change as0 = { .src_of = 1 };   /* inner source: peer 0's address */
		uint64_t spoofed = R.c->ctr->drops[MG_DROP_SOURCE_NOT_ALLOWED], noroute;
		struct wk_peerflow_ent *e;

		push(false, 0, 30, &none);
		pass(&o);
		e = peerflow_entry(0);
		T_CHECK(o.v[DECAP] == 1 && o.nout == 1 && o.out[0].peer == -1 && e,
			"#8 peer 0's message to the LAN left no memo");
		push(false, 1, 37, &as0);        /* the same addresses from another peer: its own check */
		pass(&o);
		T_CHECK(o.nout == 0 && R.c->ctr->drops[MG_DROP_SOURCE_NOT_ALLOWED] == ++spoofed,
			"#8 peer 1's message from peer 0's address passed as peer 0's flow");
		if (e)
			e->peer = far[1].peer;  /* planted: the flow as peer 1's */
		push(false, 1, 31, &as0);
		pass(&o);
		T_CHECK(o.v[DECAP] == 1 && o.nout == 1 && o.out[0].peer == -1 &&
			R.c->ctr->drops[MG_DROP_SOURCE_NOT_ALLOWED] == spoofed,
			"#8 the planted flow was not used (to the LAN: %u)", o.nout);
		memset(R.c->peerflow, 0, sizeof(R.c->peerflow));
		push(false, 1, 32, &as0);
		pass(&o);
		T_CHECK(o.nout == 0 && R.c->ctr->drops[MG_DROP_SOURCE_NOT_ALLOWED] == spoofed + 1,
			"#8 peer 1's message from peer 0's address was not refused without the memo");
		/* planted again; then the advertised routes change (to the same set) */
		push(false, 0, 33, &none);
		pass(&o);
		e = peerflow_entry(0);
		T_CHECK(e != NULL, "#8 peer 0's message to the LAN left no memo");
		if (e)
			e->peer = far[1].peer;
		routes_publish(true);
		push(false, 1, 34, &as0);
		pass(&o);
		T_CHECK(o.nout == 0 && R.c->ctr->drops[MG_DROP_SOURCE_NOT_ALLOWED] == spoofed + 2,
			"#8 after the advertised routes changed the planted flow was used");
		/* the LAN's prefix no longer advertised: peer 0's flow, memoised, goes nowhere */
		push(false, 0, 35, &none);
		pass(&o);
		T_CHECK(o.nout == 1 && peerflow_entry(0) != NULL, "#8 peer 0's message to the LAN left no memo");
		noroute = R.c->ctr->drops[MG_DROP_NO_ROUTE];
		routes_publish(false);
		push(false, 0, 36, &none);
		pass(&o);
		T_CHECK(o.v[DECAP] == 1 && o.nout == 0 && R.c->ctr->drops[MG_DROP_NO_ROUTE] == noroute + 1,
			"#8 a flow to a prefix no longer advertised was forwarded (sent %u, no_route +%lu)", o.nout,
			(unsigned long)(R.c->ctr->drops[MG_DROP_NO_ROUTE] - noroute));
		routes_publish(true);
	}

	/* #9 */
	{
		struct keypair *nk = keypair_new(), *old = far[0].peer->cur;

		push(true, 0, 37, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 0 && lan_entry(0) != NULL,
			"#9 the packet to peer 0 left no memo");
		T_CHECK(nk != NULL, "#9 keypair_new");
		if (nk) {
			memcpy(&nk->nk, &kp1->nk, sizeof(nk->nk));
			nk->nk.i_am_initiator = false;
			atomic_store(&nk->nk.send_counter, 1u << 20);
			nk->entry.peer = far[0].peer;
			peer_install_keypair(&R.dev->index, far[0].peer, nk);
			peer_rotate_next(&R.dev->index, far[0].peer);
		}
		T_CHECK(nk && far[0].peer->cur == nk && far[0].peer->prev == old && !atomic_load(&old->dead),
			"#9 the new session is not current with the old one previous");
		push(true, 0, 38, &none);
		pass(&o);
		T_CHECK(o.v[ENCAP] == 1 && o.nout == 1 && o.out[0].peer == 1,
			"#9 the flow memo kept the previous keypair (sealed %lu, for peer %d)", (unsigned long)o.v[ENCAP],
			o.nout ? o.out[0].peer : -2);
	}

	/* #10 */
	{
		uint64_t before, stamp;
		uint16_t port[3];

		R.dev->snat = true;
		for (int round = 0; round < 3; round++) {
			if (round == 2) {
				stamp = R.c->nat_stamp;
				T_CHECK(nat_expire(&R.dev->nat, mg_now() + 30 * 86400 * NSEC_PER_SEC) == 1 &&
					atomic_load(&R.dev->nat.nflows) == 0, "#10 nat_expire did not remove the flow");
			}
			push(false, 0, 40, &none);
			pass(&o);
			T_CHECK(o.nout == 1 && o.out[0].peer == -1 && !memcmp(o.out[0].b + ETH_HLEN_ + 12, mem_lan.router_ip, 4),
				"#10 round %d: peer 0's packet did not leave translated", round);
			port[round] = (uint16_t)(o.out[0].b[ETH_HLEN_ + IP4_HLEN] << 8 | o.out[0].b[ETH_HLEN_ + IP4_HLEN + 1]);
			T_CHECK(atomic_load(&R.dev->nat.nflows) == 1, "#10 round %d: %lu flows in the table", round,
				(unsigned long)atomic_load(&R.dev->nat.nflows));
			if (round == 2)
				T_CHECK(R.c->nat_stamp != stamp, "#10 the removal gave no new stamp");
			/* The LAN's reply to the old port, in rounds 0-1 the flow's: sealed to peer 0's
			 * endpoint while the flow lives (from the memo in round 1; under the keys #9 gave
			 * peer 0), dropped after. */
			before = R.c->ctr->drops[MG_DROP_NAT_UNKNOWN];
			reply_push(port[0]);
			pass(&o);
			if (round < 2)
				T_CHECK(o.nout == 1 && o.out[0].peer >= 0 && !memcmp(o.out[0].b, far[0].ep_ip, 4),
					"#10 round %d: the reply did not reach peer 0", round);
			else
				T_CHECK(o.nout == 0 && R.c->ctr->drops[MG_DROP_NAT_UNKNOWN] == before + 1,
					"#10 a reply to a removed flow's port was forwarded (sent %u)", o.nout);
		}
		T_CHECK(port[1] == port[0], "#10 the flow's port changed within its life");
		/* The flow of round 2 from the memo: a reply with a partial checksum leaves with it
		 * completed (the client gets a valid datagram), one with TTL 1 is dropped. */
		push(false, 0, 40, &none);
		pass(&o);
		reply_push(port[2]);             /* through the table: the reply memo takes the flow */
		pass(&o);
		T_CHECK(o.nout == 1, "#10 the reply to the new flow's port did not reach peer 0");
		before = R.c->ctr->csum_completed;
		reply_push_as(port[2], 0, true);
		pass(&o);
		T_CHECK(o.nout == 1 && o.out[0].peer >= 0 && R.c->ctr->csum_completed == before + 1 &&
			o.out[0].len >= 6 + IP4_HLEN + UDP_HLEN &&
			ref_valid(o.out[0].b + 6, (uint32_t)(o.out[0].b[8] << 8 | o.out[0].b[9])),
			"#10 a reply with a partial checksum did not leave completed");
		before = R.c->ctr->drops[MG_DROP_TTL_EXCEEDED];
		reply_push_as(port[2], 1, false);
		pass(&o);
		T_CHECK(o.nout == 0 && R.c->ctr->drops[MG_DROP_TTL_EXCEEDED] == before + 1,
			"#10 a reply with TTL 1 was not dropped as ttl_exceeded");
		R.dev->snat = false;
	}

	free(rcu_xchg_pointer(&R.dev->addrs, NULL));
	T_CHECK(mem_router_free(&R) == 0, "frames lost");
	rcu_unregister_thread();
	printf("%s\n", t_failures ? "FAILED" : "rxmemo: all cases pass");
	return t_failures != 0;
}
