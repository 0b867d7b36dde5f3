// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_outermemo.c - the worker's template of outer headers (c->outer_in, worker_rx.c) changes
 * nothing a frame's fate depends on. Over the memory port with two live peers:
 *
 *   #1 differential: a frame altered from a valid data message (any byte of its outer headers
 *      and receiver index, its lengths, its source, the other peer's index, STUN's cookie,
 *      IPv4 options, a keepalive) is handled alone in a pass, where no template exists, and
 *      again right behind a valid message of peer 0 in the same pass, where it meets the
 *      template. The counters it moves, the frames it sends to the LAN and the endpoint its
 *      peer roams to must be the same both ways (behind the valid one: the valid one's own,
 *      measured alone, added).
 *   #2 the template is used: planted for the coming pass with peer 1's keypair under peer 0's
 *      index, it makes peer 0's next message fail to open (decrypt_failed), where the same
 *      message without it is forwarded; planted with no matching index, the lookup finds the
 *      right keypair.
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
#include "pktcheck.h"

static struct mem_router R;
static struct mem_far far[2];

/* What a pass did: the counters a received frame can move, and the frames it sent. */
struct outcome {
	uint64_t v[8 + MG_DROP_MAX];
	unsigned nout;
	uint32_t len[8];
	uint8_t out[8][256];
	struct mg_endpoint ep[2];        /* each peer's endpoint after the pass (roaming) */
};

static void counters_read(uint64_t *v)
{
	const struct mg_counters *k = R.c->ctr;
	unsigned i = 0;

	v[i++] = k->rx_packets;
	v[i++] = k->rx_bytes;
	v[i++] = k->tx_packets;
	v[i++] = k->tx_bytes;
	v[i++] = k->decap_packets;
	v[i++] = k->decap_bytes;
	v[i++] = k->punted;
	v[i++] = k->keepalives_rx;
	for (unsigned d = 0; d < MG_DROP_MAX; d++)
		v[i++] = k->drops[d];
}

static const char *counter_name(unsigned i)
{
	static const char *const n[8] = { "rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "decap_packets",
					  "decap_bytes", "punted", "keepalives_rx" };

	return i < 8 ? n[i] : mg_drop_label[i - 8];
}

/* One pass over what was pushed; its effect in o. */
static void pass(struct outcome *o)
{
	uint64_t before[8 + MG_DROP_MAX];
	struct io_desc d[16];
	unsigned n;

	counters_read(before);
	wk_poll(R.c);
	rcu_quiescent_state();
	counters_read(o->v);
	for (unsigned i = 0; i < 8 + MG_DROP_MAX; i++)
		o->v[i] -= before[i];
	o->nout = 0;
	while ((n = io_mem_tx_pop(&R.w->port, d, 16)))
		for (unsigned i = 0; i < n; i++) {
			if (o->nout < 8 && d[i].len <= sizeof(o->out[0])) {
				memcpy(o->out[o->nout], io_port_data(&R.w->port, d[i].addr), d[i].len);
				o->len[o->nout++] = d[i].len;
			}
			io_frame_put(&R.w->port, d[i].addr);
		}
	while (ring_peek(&R.w->punt))
		ring_release(&R.w->punt);
	for (int k = 0; k < 2; k++)
		peer_endpoint_get(far[k].peer, &o->ep[k]);
}

/* How a frame is altered after it is built (sealed, with a fresh counter). */
struct change {
	unsigned n;                      /* bytes set: off[i] = val[i] */
	unsigned off[4];
	uint8_t val[4];
	int dlen;                        /* added to the frame's length as received */
	bool keepalive;                  /* an empty message instead of an inner packet */
};

/* A data message of far[k] in frame buffer f, its inner packet a UDP datagram to the LAN host
 * with payload bytes (tag: its first), changed by ch. Returns the frame's length. */
static uint32_t frame_build(uint8_t *f, unsigned k, uint8_t tag, const struct change *ch)
{
	struct mg_endpoint us = { .family = AF_INET, .port = MEM_LISTEN_PORT };
	uint8_t *ip = f + ETH_HLEN_;
	struct msg_data *m = (void *)(ip + IP4_HLEN + UDP_HLEN);
	char src[16], dst[16];
	uint32_t plen = 0, mlen;
	struct aead_op op;

	if (!ch->keepalive) {
		inet_ntop(AF_INET, far[k].tun_ip, src, sizeof(src));
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

static void push(unsigned k, uint8_t tag, const struct change *ch)
{
	uint64_t base = io_frame_get(&R.w->port), a = base + io_rx_offset(base);
	uint32_t len;

	T_CHECK(base != UINT64_MAX, "frame pool empty");
	len = frame_build(io_port_data(&R.w->port, a), k, tag, ch);
	T_CHECK(io_mem_rx_push(&R.w->port, a, len), "rx push");
}

static uint32_t rnd(uint32_t n)
{
	return randombytes_uniform(n);
}

/* A change of one of the kinds above, at random. */
static void change_pick(struct change *ch, unsigned *peer)
{
	static const uint8_t stun[4] = { 0x21, 0x12, 0xa4, 0x42 };
	const unsigned idx = ETH_HLEN_ + IP4_HLEN + UDP_HLEN + 4;
	uint16_t v;

	memset(ch, 0, sizeof(*ch));
	*peer = rnd(4) == 0;             /* peer 1 now and then: another index than the template's */
	switch (rnd(11)) {
	case 0:                          /* one byte of the headers or the index */
	case 1:
		ch->n = 1;
		ch->off[0] = rnd(idx + 4);
		ch->val[0] = (uint8_t)rnd(256);
		break;
	case 2:                          /* two of them */
		ch->n = 2;
		for (int i = 0; i < 2; i++) {
			ch->off[i] = rnd(idx + 4);
			ch->val[i] = (uint8_t)rnd(256);
		}
		break;
	case 3:                          /* the frame's length */
		ch->dlen = (int)rnd(97) - 80;
		break;
	case 4:                          /* IPv4 tot_len, near its value or anything */
	case 5:                          /* UDP length, likewise */
		v = (uint16_t)(rnd(3) == 0 ? rnd(65536) : rnd(3) == 0 ? rnd(64) : 60 + rnd(120));
		ch->n = 2;
		ch->off[0] = ETH_HLEN_ + (rnd(2) ? 2 : IP4_HLEN + 4);
		ch->off[1] = ch->off[0] + 1;
		ch->val[0] = (uint8_t)(v >> 8);
		ch->val[1] = (uint8_t)v;
		break;
	case 6:                          /* STUN's cookie where the index is */
		ch->n = 4;
		for (int i = 0; i < 4; i++) {
			ch->off[i] = idx + (unsigned)i;
			ch->val[i] = stun[i];
		}
		break;
	case 7:                          /* another source address or port (it roams) */
		ch->n = 1;
		ch->off[0] = ETH_HLEN_ + (rnd(2) ? 12 + rnd(4) : IP4_HLEN + rnd(2));
		ch->val[0] = (uint8_t)rnd(256);
		break;
	case 8:                          /* IPv4 options claimed, a fragment bit, DF off */
		ch->n = 1;
		ch->off[0] = ETH_HLEN_ + (rnd(2) ? 0 : 6);
		ch->val[0] = ch->off[0] == ETH_HLEN_ ? (uint8_t)(0x46 + rnd(3)) : (uint8_t)(rnd(2) ? 0x20 : 0x00);
		break;
	case 9:                          /* a keepalive */
		ch->keepalive = true;
		break;
	default:                         /* nothing: the template's own kind */
		break;
	}
}

static bool outcome_check(unsigned t, const struct change *ch, const struct outcome *alone,
			  const struct outcome *base, const struct outcome *both)
{
	bool ok = true;

	for (unsigned i = 0; i < 8 + MG_DROP_MAX; i++)
		if (both->v[i] != alone->v[i] + base->v[i]) {
			T_CHECK(false, "#1 trial %u (change: %u bytes at %u.., dlen %d, keepalive %d): %s moved by %lu "
				"behind a valid message, %lu alone (+%lu for the valid one)", t, ch->n, ch->off[0],
				ch->dlen, ch->keepalive, counter_name(i), (unsigned long)both->v[i],
				(unsigned long)alone->v[i], (unsigned long)base->v[i]);
			ok = false;
		}
	if (both->nout != base->nout + alone->nout) {
		T_CHECK(false, "#1 trial %u: %u frames to the LAN behind a valid message, %u alone + %u", t,
			both->nout, alone->nout, base->nout);
		return false;
	}
	for (int k = 0; k < 2; k++)
		if (!mg_endpoint_equal(&both->ep[k], &alone->ep[k])) {
			T_CHECK(false, "#1 trial %u: peer %d roamed to another endpoint behind a valid message", t, k);
			ok = false;
		}
	for (unsigned i = 0; i < both->nout; i++) {
		const struct outcome *o = i < base->nout ? base : alone;
		unsigned j = i < base->nout ? i : i - base->nout;

		if (both->len[i] != o->len[j] || memcmp(both->out[i], o->out[j], both->len[i])) {
			T_CHECK(false, "#1 trial %u: LAN frame %u differs from the one sent without the template", t, i);
			ok = false;
		}
	}
	return ok;
}

int main(void)
{
	const struct change none = { 0 };
	struct outcome alone, base, both;
	unsigned accepted = 0, refused = 0, peer;
	struct change ch;

	if (sodium_init() < 0 || aead_init("auto"))
		return 1;
	rcu_register_thread();
	if (mem_router_init(&R, "omemo0", 1280) || mem_router_add_peer(&R, 0, true, &far[0]) ||
	    mem_router_add_peer(&R, 1, true, &far[1]))
		return printf("FAIL: in-memory router\n"), 1;

	/* #1: each of the three passes starts from both peers at their own endpoints (a valid
	 * message of each, in a pass of their own) */
	for (unsigned t = 0; t < 4000; t++) {
		change_pick(&ch, &peer);
		push(0, 0, &none);
		push(1, 0, &none);
		pass(&base);
		push(peer, 1, &ch);
		pass(&alone);
		push(0, 0, &none);
		push(1, 0, &none);
		pass(&base);
		push(0, 2, &none);
		pass(&base);
		T_CHECK(base.v[4] == 1 && base.nout == 1, "#1 trial %u: the valid message alone not forwarded", t);
		push(0, 0, &none);
		push(1, 0, &none);
		pass(&both);
		push(0, 2, &none);
		push(peer, 1, &ch);
		pass(&both);
		if (!outcome_check(t, &ch, &alone, &base, &both))
			break;
		if (alone.v[4])
			accepted++;
		else
			refused++;
	}
	printf("#1: %u altered frames authenticated, %u refused, the same with and without the template\n",
	       accepted, refused);
	T_CHECK(accepted > 500 && refused > 500, "#1 the changes did not cover both fates (%u, %u)", accepted, refused);

	/* #2: a pass with peer 0's message leaves its template; planted for the pass that wk_poll
	 * starts next, with peer 1's keypair under peer 0's index */
	struct keypair *kp1 = index_lookup_keypair(&R.dev->index, far[1].kp.remote_index);
	uint64_t fails = R.c->ctr->drops[MG_DROP_DECRYPT_FAILED];

	T_CHECK(kp1 != NULL, "#2 peer 1's keypair not in the index");
	push(0, 4, &none);
	pass(&base);
	T_CHECK(base.v[4] == 1 && R.c->outer_in.pass == R.c->pass, "#2 peer 0's message left no template");
	R.c->outer_in.pass = R.c->pass + 1;
	R.c->outer_in.kp = kp1;
	R.c->outer_in.peer = kp1->entry.peer;
	push(0, 5, &none);
	pass(&both);
	T_CHECK(both.v[4] == 0 && both.nout == 0 && R.c->ctr->drops[MG_DROP_DECRYPT_FAILED] == fails + 1,
		"#2 the planted keypair was not used (authenticated %lu, decrypt_failed +%lu)",
		(unsigned long)both.v[4], (unsigned long)(R.c->ctr->drops[MG_DROP_DECRYPT_FAILED] - fails));
	/* the same with an index that is no one's: looked up, forwarded */
	R.c->outer_in.pass = R.c->pass + 1;
	R.c->outer_in.index = ~R.c->outer_in.index;
	push(0, 6, &none);
	pass(&both);
	T_CHECK(both.v[4] == 1 && both.nout == 1, "#2 a message whose index the template does not hold was not "
		"looked up (authenticated %lu)", (unsigned long)both.v[4]);

	T_CHECK(mem_router_free(&R) == 0, "frames lost");
	rcu_unregister_thread();
	printf("%s\n", t_failures ? "FAILED" : "outermemo: all cases pass");
	return t_failures != 0;
}
