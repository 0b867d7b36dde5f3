// SPDX-License-Identifier: GPL-2.0-only
/*
 * handshake.c - WireGuard handshake messages on the control thread: initiations and responses
 * (Noise IKpsk2 in dataplane/wireguard/noise.c), cookie replies under load, keepalives.
 *
 * Admission (kernel wg_receive_handshake_packet): not under load + valid mac1 -> process; under
 * load + valid mac1 + valid mac2 + rate limit ok -> process; under load without mac2 -> cookie
 * reply; anything else -> drop. Endpoints roam only on a consumed handshake, never on a cookie.
 */
#include <endian.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "handshake.h"
#include "apply.h"
#include "crypto/aead.h"
#include "wireguard/messages.h"
#include "wireguard/hash.h"
#include "keyfmt.h"

bool ctl_send_udp(struct mg_ctl *dev, const struct mg_endpoint *dst, const void *msg, uint16_t len)
{
	struct worker *w = &dev->dp.workers[0];
	struct txreq *r = ring_reserve(&w->txq);

	if (!r || len > TXREQ_DATA_MAX) {
		dev->handshake_drops[MG_HS_DROP_NOT_SENT]++;
		return false;
	}
	r->kind = TXREQ_UDP;
	r->len = len;
	r->dst = *dst;
	memcpy(r->data, msg, len);
	ring_commit(&w->txq);
	return true;
}

static void count(struct mg_ctl *dev, unsigned type, int dir)
{
	if (type < 4)
		dev->handshakes[type][dir]++;
}

void hs_send_initiation(struct mg_ctl *dev, struct peer *p, uint64_t now, bool is_retry)
{
	struct msg_initiation msg;
	struct mg_endpoint ep;
	uint8_t ts[12];

	/* At most one initiation per REKEY_TIMEOUT (kernel send.c), retries are the timer's. */
	if (!is_retry && p->last_sent_handshake_ns && now - p->last_sent_handshake_ns < REKEY_TIMEOUT_NS)
		return;
	if (!is_retry)
		p->handshake_attempts = 0;
	peer_endpoint_get(p, &ep);
	if (!ep.family || !dev->identity.has_identity)
		return;
	index_remove(&dev->dp.index, &p->hs_entry);
	if (index_insert(&dev->dp.index, &p->hs_entry))
		return;
	tai64n_now(ts);
	if (!noise_create_initiation(&dev->identity, &p->hs, &msg, p->hs_entry.index, ts))
		return;
	cookie_add_mac_to_packet(&p->cookie, &msg, sizeof(msg), now);
	if (ctl_send_udp(dev, &ep, &msg, sizeof(msg))) {
		atomic_fetch_add(&p->tx_bytes, sizeof(msg));
		peer_ev_auth_tx(p, now, false);
		count(dev, MESSAGE_HANDSHAKE_INITIATION, 1);
	}
	p->last_sent_handshake_ns = now;
	/* Retransmit after REKEY_TIMEOUT plus up to a third of a second of jitter. */
	p->retransmit_due_ns = now + REKEY_TIMEOUT_NS + randombytes_uniform(REKEY_TIMEOUT_JITTER_MAX_NS);
	sodium_memzero(&msg, sizeof(msg));
}

void hs_send_keepalive(struct mg_ctl *dev, struct peer *p, uint64_t now)
{
	struct keypair *kp = p->cur;
	uint8_t buf[sizeof(struct msg_data) + AEAD_TAG_LEN];
	struct msg_data *hdr = (void *)buf;
	struct aead_op op;
	struct mg_endpoint ep;

	if (!kp || atomic_load(&kp->dead) || noise_keypair_expired(&kp->nk, now)) {
		atomic_store(&p->want_handshake, true);
		return;
	}
	peer_endpoint_get(p, &ep);
	if (!ep.family)
		return;
	hdr->header.type = htole32(MESSAGE_DATA);
	hdr->receiver_index = htole32(kp->nk.remote_index);
	op.counter = atomic_fetch_add(&kp->nk.send_counter, 1);
	hdr->counter = htole64(op.counter);
	op.key = kp->nk.send_key;
	op.src = op.dst = buf + sizeof(*hdr);
	op.len = 0;
	aead_seal_burst(&op, 1);
	if (ctl_send_udp(dev, &ep, buf, sizeof(buf))) {
		atomic_fetch_add(&p->tx_bytes, sizeof(buf));
		peer_ev_auth_tx(p, now, false);
	}
}

static struct noise_handshake *lookup_static(void *ctx, const uint8_t key[32])
{
	struct peer *p = dev_peer_find(ctx, key);

	return p ? &p->hs : NULL;
}

static struct noise_handshake *lookup_index(void *ctx, uint32_t index)
{
	struct mg_ctl *dev = ctx;
	struct index_entry *e = index_lookup(&dev->dp.index, index);

	return e && !e->keypair ? &e->peer->hs : NULL;
}

/* A session derived from the handshake: the keypair takes the handshake's index. */
static void session_derived(struct mg_ctl *dev, struct peer *p, uint64_t now)
{
	struct keypair *kp = keypair_new();

	if (!kp)
		return;
	if (!noise_derive_keypair(&p->hs, &kp->nk, now)) {
		free(kp);
		return;
	}
	replay_init(&kp->nk.replay);
	kp->entry.peer = p;
	index_replace(&dev->dp.index, &p->hs_entry, &kp->entry);
	peer_install_keypair(&dev->dp.index, p, kp);
	p->zero_keys_due_ns = now + 3 * REJECT_AFTER_TIME_NS;
}

static const enum mg_hs_drop reject_reason[] = {
	[NOISE_REJECT_DECRYPT] = MG_HS_DROP_DECRYPT,     [NOISE_REJECT_UNKNOWN_PEER] = MG_HS_DROP_UNKNOWN_PEER,
	[NOISE_REJECT_TIMESTAMP] = MG_HS_DROP_TIMESTAMP, [NOISE_REJECT_REPLAY] = MG_HS_DROP_REPLAY,
	[NOISE_REJECT_FLOOD] = MG_HS_DROP_FLOOD,
};

/*
 * A peer whose initiations stop being newer than the last one it sent is either replayed or has
 * a clock that went back (a router without an RTC before NTP): it cannot connect until
 * its clock passes the old timestamp, as with the kernel. Say so, once a minute per peer.
 */
static void log_replay(struct peer *p, uint64_t now)
{
	char key[KEYFMT_BASE64_LEN + 1];

	if (p->replay_logged_ns && now - p->replay_logged_ns < 60 * NSEC_PER_SEC)
		return;
	p->replay_logged_ns = now;
	keyfmt_base64_encode(key, p->public_key);
	fprintf(stderr, "meshgate: peer %.8s: initiation refused, its timestamp is not newer than the last one "
		"accepted (a replay, or the peer's clock went back; it connects again once its clock passes "
		"the old time, or after the peer is removed and re-added)\n", key);
}

static void consume_initiation(struct mg_ctl *dev, const struct punt_msg *m, uint64_t now)
{
	struct noise_handshake *hs;
	struct noise_verdict v;
	struct msg_response resp;
	struct peer *p;

	hs = noise_consume_initiation_verdict(&dev->identity, (const void *)m->data, lookup_static, dev, now, &v);
	if (!hs) {
		dev->handshake_drops[reject_reason[v.why]]++;
		if (v.why == NOISE_REJECT_REPLAY)
			log_replay(container_of(v.hs, struct peer, hs), now);
		return;
	}
	p = container_of(hs, struct peer, hs);
	peer_endpoint_roam(p, &m->src);
	atomic_fetch_add(&p->rx_bytes, m->len);
	peer_ev_auth_rx(p, now, false);
	index_remove(&dev->dp.index, &p->hs_entry);
	if (index_insert(&dev->dp.index, &p->hs_entry) ||
	    !noise_create_response(hs, &resp, p->hs_entry.index))
		return;
	cookie_add_mac_to_packet(&p->cookie, &resp, sizeof(resp), now);
	session_derived(dev, p, now);
	if (ctl_send_udp(dev, &m->src, &resp, sizeof(resp))) {
		atomic_fetch_add(&p->tx_bytes, sizeof(resp));
		peer_ev_auth_tx(p, now, false);
		count(dev, MESSAGE_HANDSHAKE_RESPONSE, 1);
	}
	sodium_memzero(&resp, sizeof(resp));
}

static void consume_response(struct mg_ctl *dev, const struct punt_msg *m, uint64_t now)
{
	struct noise_handshake *hs;
	struct peer *p;

	hs = noise_consume_response(&dev->identity, (const void *)m->data, lookup_index, dev);
	if (!hs) {
		bool known = lookup_index(dev, le32toh(((const struct msg_response *)m->data)->receiver_index));

		dev->handshake_drops[known ? MG_HS_DROP_DECRYPT : MG_HS_DROP_UNKNOWN_INDEX]++;
		return;
	}
	p = container_of(hs, struct peer, hs);
	peer_endpoint_roam(p, &m->src);
	atomic_fetch_add(&p->rx_bytes, m->len);
	peer_ev_auth_rx(p, now, false);
	session_derived(dev, p, now);
	/* Handshake complete (initiator): stop retransmitting, confirm the key with a keepalive. */
	p->retransmit_due_ns = 0;
	p->handshake_attempts = 0;
	atomic_store(&p->last_handshake_real_ns, mg_realtime());
	hs_send_keepalive(dev, p, now);
}

static void consume_cookie(struct mg_ctl *dev, const struct punt_msg *m, uint64_t now)
{
	const struct msg_cookie *c = (const void *)m->data;
	struct index_entry *e = index_lookup(&dev->dp.index, le32toh(c->receiver_index));

	if (!e)
		dev->handshake_drops[MG_HS_DROP_UNKNOWN_INDEX]++;
	else if (!cookie_message_consume(&e->peer->cookie, c, now))
		dev->handshake_drops[MG_HS_DROP_BAD_COOKIE]++;
}

static uint32_t sender_index(const struct punt_msg *m)
{
	uint32_t idx;

	memcpy(&idx, m->data + 4, 4);    /* initiation and response both carry it at offset 4 */
	return le32toh(idx);
}

static void send_cookie_reply(struct mg_ctl *dev, const struct punt_msg *m, uint64_t now)
{
	struct msg_cookie reply;
	size_t alen = m->src.family == AF_INET ? 4 : 16;

	cookie_message_create(&dev->cookie, &reply, m->data, m->len, sender_index(m), m->src.addr, alen,
			      htons(m->src.port), now);
	if (ctl_send_udp(dev, &m->src, &reply, sizeof(reply)))
		count(dev, MESSAGE_HANDSHAKE_COOKIE, 1);
}

void hs_receive(struct mg_ctl *dev, const struct punt_msg *m, uint64_t now)
{
	bool under_load = now < dev->under_load_until_ns;
	size_t alen = m->src.family == AF_INET ? 4 : 16;
	enum cookie_mac_state st;
	unsigned type = m->data[0];

	count(dev, type, 0);
	if (type == MESSAGE_HANDSHAKE_COOKIE) {
		consume_cookie(dev, m, now);
		return;
	}
	st = cookie_validate_packet(&dev->cookie, m->data, m->len, m->src.addr, alen, htons(m->src.port),
				    under_load, now);
	if (st == INVALID_MAC) {
		dev->handshake_drops[MG_HS_DROP_BAD_MAC1]++;
		return;
	}
	if (under_load) {
		if (st == VALID_MAC_BUT_NO_COOKIE) {
			send_cookie_reply(dev, m, now);
			return;
		}
		if (!ratelimiter_allow(&dev->ratelimiter, m->src.family, m->src.addr, now)) {
			dev->handshake_drops[MG_HS_DROP_RATE_LIMITED]++;
			return;
		}
	}
	if (type == MESSAGE_HANDSHAKE_INITIATION)
		consume_initiation(dev, m, now);
	else
		consume_response(dev, m, now);
}
