// SPDX-License-Identifier: GPL-2.0-only
/*
 * disco.c - disco messages and the per-peer path state.
 *
 * Packet: magic[6] || sender disco key[32] || nonce[24] || box, where box = Poly1305 tag[16] ||
 * XSalsa20 ciphertext (crypto_box_easy layout) under the precomputed Curve25519 shared key.
 * Plaintext: type[1] || version[1] || body; trailing bytes are ignored (forward compatibility).
 *   Ping        TxID[12] || sender node key[32] (optional) || zero padding
 *   Pong        TxID[12] || source IP[16] (v4 as ::ffff:a.b.c.d) || source port[2] BE
 *   CallMeMaybe n x (IP[16] || port[2] BE)
 *
 * Path rules, for our own sending:
 *   - a peer is "active" for 45 s after disco_peer_active();
 *   - while active and without a trusted path: ping every candidate not pinged in the last 5 s,
 *     and if a ping went out, send our endpoints in a CallMeMaybe through DERP;
 *   - a Pong matching a pending TxID (pings expire after 5 s) makes that endpoint the best path
 *     if none is trusted or it is faster; trust lasts 6.5 s from the Pong;
 *   - while active with a trusted path: heartbeat the best endpoint every 3 s, and re-probe all
 *     endpoints every minute unless the best one answers within 5 ms;
 *   - while active, a UDP Ping from an endpoint that is not our trusted path is pinged back at
 *     once (at most once a second per endpoint), so a path the peer is probing gets proven from
 *     our side within a round trip instead of at the next 5 s probe.
 * Any valid Ping is answered at once, whatever the state: peers decide their own paths. A Pong
 * through DERP is accepted (counted) but proves nothing about UDP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sodium.h>
#include "disco.h"
#include "dataplane.h"       /* struct punt_msg */
#include "vec.h"

#define PING_BODY_MIN   DISCO_TXID_LEN
#define PING_BODY_KEY   (DISCO_TXID_LEN + 32)
#define PONG_BODY       (DISCO_TXID_LEN + 18)
#define EP_WIRE_LEN     18
#define DERP_MAGIC_IP   "\x7f\x03\x03\x28"              /* 127.3.3.40: "via DERP" */

struct disco_ep {
	struct mg_endpoint ep;
	uint8_t origin;                  /* ORIGIN_* bits: why this endpoint is a candidate */
	uint8_t txid[DISCO_TXID_LEN];    /* pending ping (public, random) */
	uint64_t ping_sent_ns;           /* 0 = no ping pending */
	uint64_t last_ping_ns;           /* for the 5 s per-endpoint ping gap */
	uint64_t last_pong_ns;
	uint64_t latency_ns;
	uint64_t seen_ns;                /* last time netmap, CallMeMaybe or a ping named it */
};
enum { ORIGIN_NETMAP = 1, ORIGIN_CMM = 2, ORIGIN_PING = 4 };

struct disco_peer {
	uint8_t node_key[32];
	uint8_t disco_key[32];
	uint8_t shared[crypto_box_BEFORENMBYTES];
	size_t n_eps;
	struct disco_ep eps[DISCO_PEER_EPS_MAX];
	int best;                        /* index into eps, -1 = none */
	uint64_t trust_until_ns;
	uint64_t active_until_ns;
	uint64_t last_full_probe_ns;
};

struct disco {
	struct disco_ops ops;
	uint8_t priv[32], pub[32];
	struct disco_peer *peers;        /* control thread only; small, scanned linearly */
	size_t n_peers, cap_peers;
	struct mg_endpoint self_eps[DISCO_CMM_MAX];
	size_t n_self;
	disco_derp_send_fn derp_send;
	void *derp_arg;
	disco_path_fn on_path;
	void *path_arg;
	struct disco_stats st;
};

/* --- encoding ------------------------------------------------------------------------- */

static void ep_put(uint8_t out[EP_WIRE_LEN], const struct mg_endpoint *ep)
{
	memset(out, 0, 16);
	if (ep->family == AF_INET) {
		out[10] = out[11] = 0xff;        /* IPv4-mapped IPv6 */
		memcpy(out + 12, ep->addr, 4);
	} else {
		memcpy(out, ep->addr, 16);
	}
	out[16] = ep->port >> 8;
	out[17] = ep->port & 0xff;
}

static void ep_get(struct mg_endpoint *ep, const uint8_t in[EP_WIRE_LEN])
{
	static const uint8_t v4mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(ep, 0, sizeof(*ep));
	if (!memcmp(in, v4mapped, sizeof(v4mapped))) {
		ep->family = AF_INET;
		memcpy(ep->addr, in + 12, 4);
	} else {
		ep->family = AF_INET6;
		memcpy(ep->addr, in, 16);
	}
	ep->port = (uint16_t)(in[16] << 8 | in[17]);
}

static void parse_cmm(struct disco_msg *m, const uint8_t *b, size_t blen)
{
	/* v != 0 or a ragged length means "no endpoints", not an error (TS:disco/disco.go). */
	m->n_eps = 0;
	if (m->version != 0 || blen % EP_WIRE_LEN)
		return;
	for (size_t off = 0; off < blen && m->n_eps < DISCO_CMM_MAX; off += EP_WIRE_LEN)
		ep_get(&m->eps[m->n_eps++], b + off);
}

int disco_parse(struct disco_msg *m, const uint8_t *p, size_t len)
{
	const uint8_t *b = p + 2;
	size_t blen;

	if (len < 2)
		return -EINVAL;
	memset(m, 0, sizeof(*m));
	m->type = p[0];
	m->version = p[1];
	blen = len - 2;
	switch (m->type) {
	case DISCO_PING:
		if (blen < PING_BODY_MIN)
			return -EINVAL;
		memcpy(m->txid, b, DISCO_TXID_LEN);
		if (blen >= PING_BODY_KEY) {
			m->has_node_key = true;
			memcpy(m->node_key, b + DISCO_TXID_LEN, 32);
			m->padding = (uint16_t)(blen - PING_BODY_KEY);
		} else {
			m->padding = (uint16_t)(blen - PING_BODY_MIN);
		}
		return 0;
	case DISCO_PONG:
		if (blen < PONG_BODY)
			return -EINVAL;
		memcpy(m->txid, b, DISCO_TXID_LEN);
		ep_get(&m->src, b + DISCO_TXID_LEN);
		return 0;
	case DISCO_CALL_ME_MAYBE:
		parse_cmm(m, b, blen);
		return 0;
	default:
		return -EPROTONOSUPPORT;
	}
}

int disco_build(uint8_t *out, size_t cap, const struct disco_msg *m)
{
	size_t len = 2 + DISCO_TXID_LEN;

	switch (m->type) {
	case DISCO_PING:
		len += (m->has_node_key ? 32 : 0) + m->padding;
		break;
	case DISCO_PONG:
		len += 18;
		break;
	case DISCO_CALL_ME_MAYBE:
		if (m->n_eps > DISCO_CMM_MAX)
			return -EINVAL;
		len = 2 + EP_WIRE_LEN * m->n_eps;
		break;
	default:
		return -EINVAL;
	}
	if (len > cap)
		return -ENOSPC;
	out[0] = m->type;
	out[1] = m->version;
	if (m->type == DISCO_CALL_ME_MAYBE) {
		for (size_t i = 0; i < m->n_eps; i++)
			ep_put(out + 2 + EP_WIRE_LEN * i, &m->eps[i]);
		return (int)len;
	}
	memcpy(out + 2, m->txid, DISCO_TXID_LEN);
	if (m->type == DISCO_PONG) {
		ep_put(out + 2 + DISCO_TXID_LEN, &m->src);
	} else {
		uint8_t *pad = out + 2 + DISCO_TXID_LEN;

		if (m->has_node_key) {
			memcpy(pad, m->node_key, 32);
			pad += 32;
		}
		memset(pad, 0, m->padding);
	}
	return (int)len;
}

bool disco_looks_like(const uint8_t *pkt, size_t len)
{
	return len >= DISCO_MAGIC_LEN + DISCO_KEY_LEN && !memcmp(pkt, DISCO_MAGIC, DISCO_MAGIC_LEN);
}

int disco_seal(uint8_t *out, size_t cap, const uint8_t sender_pub[32], const uint8_t shared[32],
	       const uint8_t *nonce, const uint8_t *plain, size_t plen)
{
	uint8_t *n = out + DISCO_MAGIC_LEN + DISCO_KEY_LEN;

	if (cap < DISCO_HDR_LEN + DISCO_TAG_LEN || plen > cap - DISCO_HDR_LEN - DISCO_TAG_LEN)
		return -ENOSPC;
	memcpy(out, DISCO_MAGIC, DISCO_MAGIC_LEN);
	memcpy(out + DISCO_MAGIC_LEN, sender_pub, DISCO_KEY_LEN);
	if (nonce)
		memcpy(n, nonce, DISCO_NONCE_LEN);
	else
		randombytes_buf(n, DISCO_NONCE_LEN);    /* random nonces: 192 bits never repeat */
	crypto_box_easy_afternm(out + DISCO_HDR_LEN, plain, plen, n, shared);
	return (int)(DISCO_HDR_LEN + DISCO_TAG_LEN + plen);
}

int disco_open(uint8_t *plain, size_t cap, const uint8_t shared[32], const uint8_t *pkt, size_t len)
{
	size_t clen;

	if (len < DISCO_HDR_LEN + DISCO_TAG_LEN)
		return -EINVAL;
	clen = len - DISCO_HDR_LEN;
	if (clen - DISCO_TAG_LEN > cap)
		return -ENOSPC;
	/* crypto_box_open verifies the tag in constant time before decrypting. */
	if (crypto_box_open_easy_afternm(plain, pkt + DISCO_HDR_LEN, clen,
					 pkt + DISCO_MAGIC_LEN + DISCO_KEY_LEN, shared))
		return -EBADMSG;
	return (int)(clen - DISCO_TAG_LEN);
}

/* --- peers ---------------------------------------------------------------------------- */

static bool ep_equal(const struct mg_endpoint *a, const struct mg_endpoint *b)
{
	size_t alen = a->family == AF_INET ? 4 : 16;

	return a->family == b->family && a->port == b->port && !memcmp(a->addr, b->addr, alen);
}

static struct disco_peer *peer_by_node(const struct disco *d, const uint8_t node_key[32])
{
	/* Public keys: memcmp is fine. */
	for (size_t i = 0; i < d->n_peers; i++)
		if (!memcmp(d->peers[i].node_key, node_key, 32))
			return &d->peers[i];
	return NULL;
}

static struct disco_peer *peer_by_disco(const struct disco *d, const uint8_t disco_key[32])
{
	for (size_t i = 0; i < d->n_peers; i++)
		if (!memcmp(d->peers[i].disco_key, disco_key, 32))
			return &d->peers[i];
	return NULL;
}

static struct disco_ep *ep_find(struct disco_peer *p, const struct mg_endpoint *ep)
{
	for (size_t i = 0; i < p->n_eps; i++)
		if (ep_equal(&p->eps[i].ep, ep))
			return &p->eps[i];
	return NULL;
}

/* When the table is full, a source learned only from a ping (anyone who holds a valid box can
 * add those) makes room: the one heard from longest ago, never the best path. */
static struct disco_ep *ep_evict(struct disco_peer *p)
{
	struct disco_ep *victim = NULL;

	for (size_t i = 0; i < p->n_eps; i++) {
		struct disco_ep *e = &p->eps[i];

		if (e->origin != ORIGIN_PING || (int)i == p->best)
			continue;
		if (!victim || e->seen_ns < victim->seen_ns)
			victim = e;
	}
	return victim;
}

/* Adds @ep with @origin (or ORs the origin in). NULL when the table is full. */
static struct disco_ep *ep_add(struct disco_peer *p, const struct mg_endpoint *ep, uint8_t origin,
			       uint64_t now)
{
	struct disco_ep *e = ep_find(p, ep);

	if (!e) {
		if (ep->family != AF_INET && ep->family != AF_INET6)
			return NULL;
		if (p->n_eps < DISCO_PEER_EPS_MAX)
			e = &p->eps[p->n_eps++];
		else if (!(e = ep_evict(p)))
			return NULL;
		memset(e, 0, sizeof(*e));
		e->ep = *ep;
	}
	e->origin |= origin;
	if (now)
		e->seen_ns = now;
	return e;
}

/* Drops the @origin bit from every endpoint and removes those left with none; keeps `best`
 * pointing at the same endpoint (or none). */
static void ep_clear_origin(struct disco_peer *p, uint8_t origin)
{
	size_t j = 0;
	int best = -1;

	for (size_t i = 0; i < p->n_eps; i++) {
		p->eps[i].origin &= (uint8_t)~origin;
		if (!p->eps[i].origin)
			continue;
		if ((int)i == p->best)
			best = (int)j;
		p->eps[j++] = p->eps[i];
	}
	p->n_eps = j;
	p->best = best;
	if (best < 0)
		p->trust_until_ns = 0;
}

int disco_peer_set(struct disco *d, const uint8_t node_key[32], const uint8_t disco_key[32],
		   const struct mg_endpoint *eps, size_t n_eps)
{
	static const uint8_t zero[32];
	struct disco_peer *p = peer_by_node(d, node_key);

	if (sodium_is_zero(disco_key, 32)) {
		disco_peer_remove(d, node_key);
		return 0;
	}
	if (!p) {
		if (mg_vec_grow((void **)&d->peers, &d->cap_peers, d->n_peers, sizeof(*d->peers)))
			return -ENOMEM;
		p = &d->peers[d->n_peers++];
		memset(p, 0, sizeof(*p));
		memcpy(p->node_key, node_key, 32);
		p->best = -1;
	}
	if (memcmp(p->disco_key, disco_key, 32)) {
		/* A new disco key is a restarted peer: old pings and trust mean nothing. */
		memcpy(p->disco_key, disco_key, 32);
		if (crypto_box_beforenm(p->shared, disco_key, d->priv))
			memcpy(p->shared, zero, sizeof(zero));  /* low-order key: nothing opens */
		p->n_eps = 0;
		p->best = -1;
		p->trust_until_ns = 0;
	}
	ep_clear_origin(p, ORIGIN_NETMAP);
	for (size_t i = 0; i < n_eps; i++)
		ep_add(p, &eps[i], ORIGIN_NETMAP, 0);
	return 0;
}

void disco_peer_remove(struct disco *d, const uint8_t node_key[32])
{
	struct disco_peer *p = peer_by_node(d, node_key);

	if (!p)
		return;
	sodium_memzero(p->shared, sizeof(p->shared));
	*p = d->peers[--d->n_peers];
}

void disco_peer_active(struct disco *d, const uint8_t node_key[32], uint64_t now)
{
	struct disco_peer *p = peer_by_node(d, node_key);

	if (p)
		p->active_until_ns = now + DISCO_SESSION_ACTIVE_NS;
}

bool disco_peer_path(const struct disco *d, const uint8_t node_key[32], uint64_t now,
		     struct mg_endpoint *out)
{
	const struct disco_peer *p = peer_by_node(d, node_key);

	if (!p || p->best < 0 || now >= p->trust_until_ns)
		return false;
	*out = p->eps[p->best].ep;
	return true;
}

bool disco_peer_last_path(const struct disco *d, const uint8_t node_key[32], struct mg_endpoint *out)
{
	const struct disco_peer *p = peer_by_node(d, node_key);

	if (!p || p->best < 0)
		return false;
	*out = p->eps[p->best].ep;
	return true;
}

/* --- sending -------------------------------------------------------------------------- */

/* Seals @m for @p and sends it over UDP to @dst, or through DERP when @dst is NULL: region
 * @region, 0 = the peer's home. */
static bool send_msg(struct disco *d, struct disco_peer *p, const struct mg_endpoint *dst, int region,
		     const struct disco_msg *m)
{
	uint8_t plain[DISCO_PKT_MAX - DISCO_HDR_LEN - DISCO_TAG_LEN], pkt[DISCO_PKT_MAX];
	int plen, len;
	bool ok;

	plen = disco_build(plain, sizeof(plain), m);
	if (plen < 0)
		return false;
	len = disco_seal(pkt, sizeof(pkt), d->pub, p->shared, NULL, plain, (size_t)plen);
	if (len < 0)
		return false;
	if (dst)
		ok = d->ops.send_udp && d->ops.send_udp(d->ops.arg, dst, pkt, (uint16_t)len);
	else
		ok = d->derp_send && d->derp_send(d->derp_arg, p->node_key, region, pkt, (uint16_t)len);
	if (!ok)
		d->st.tx_fail++;
	return ok;
}

static void send_ping(struct disco *d, struct disco_peer *p, struct disco_ep *e, uint64_t now)
{
	struct disco_msg m = { .type = DISCO_PING };

	randombytes_buf(m.txid, sizeof(m.txid));
	/* Our node key lets the peer map the ping to us even if disco keys collide. */
	if (d->ops.node_key && d->ops.node_key(d->ops.arg, m.node_key))
		m.has_node_key = true;
	e->last_ping_ns = now;
	if (!send_msg(d, p, &e->ep, 0, &m))
		return;
	memcpy(e->txid, m.txid, DISCO_TXID_LEN);
	e->ping_sent_ns = now;
	d->st.tx_ping++;
}

static void send_call_me_maybe(struct disco *d, struct disco_peer *p)
{
	struct disco_msg m = { .type = DISCO_CALL_ME_MAYBE, .n_eps = d->n_self };

	if (!d->derp_send || !d->n_self)
		return;
	memcpy(m.eps, d->self_eps, d->n_self * sizeof(m.eps[0]));
	if (send_msg(d, p, NULL, 0, &m))
		d->st.tx_cmm++;
}

/* Pings every candidate whose last ping is at least 5 s old; true if any went out. */
static bool ping_all(struct disco *d, struct disco_peer *p, uint64_t now)
{
	bool sent = false;

	for (size_t i = 0; i < p->n_eps; i++) {
		struct disco_ep *e = &p->eps[i];

		if (e->last_ping_ns && now - e->last_ping_ns < DISCO_PING_INTERVAL_NS)
			continue;
		send_ping(d, p, e, now);
		sent = true;
	}
	return sent;
}

/* --- receiving ------------------------------------------------------------------------ */

/*
 * A peer that pings us over UDP is probing a path we may not trust yet: ping it back at once (at
 * most once a second per endpoint) instead of waiting for the 5 s probe round, so both sides
 * prove the path within one round trip of each other. Tailscale gets the same effect from the
 * CallMeMaybe its peer sends alongside; our netmap peers may not send one. Also while we are
 * idle towards it: a peer probes because it is about to send, and our replies must not be left
 * on DERP (which may go away with the control server) for up to a probe round.
 */
#define PING_BACK_GAP_NS DISCO_NS(1000)

static void ping_back(struct disco *d, struct disco_peer *p, struct disco_ep *e, uint64_t now)
{
	if (!e)
		return;
	if (p->best >= 0 && now < p->trust_until_ns && &p->eps[p->best] == e)
		return;                                  /* already trusted: heartbeats do the rest */
	if (e->last_ping_ns && now - e->last_ping_ns < PING_BACK_GAP_NS)
		return;
	send_ping(d, p, e, now);
}

/* Ping: answer with a Pong carrying the TxID and the source we saw - over UDP to that source,
 * or through DERP with 127.3.3.40:<region> as source, on that same region (the path the peer
 * probed; its home may differ: TS magicsock replies to the DERP address the ping came from).
 * A UDP source becomes a candidate. */
static void on_ping(struct disco *d, struct disco_peer *p, const struct disco_msg *m,
		    const struct mg_endpoint *src, int region, uint64_t now)
{
	struct disco_msg pong = { .type = DISCO_PONG };

	d->st.rx_ping++;
	memcpy(pong.txid, m->txid, DISCO_TXID_LEN);
	if (src) {
		pong.src = *src;
	} else {
		pong.src.family = AF_INET;
		memcpy(pong.src.addr, DERP_MAGIC_IP, 4);
		pong.src.port = (uint16_t)region;
	}
	if (send_msg(d, p, src, src ? 0 : region, &pong))
		d->st.tx_pong++;
	/* Only a ping that names this peer's node key (or none) may add a path for it. */
	if (src && (!m->has_node_key || !memcmp(m->node_key, p->node_key, 32)))
		ping_back(d, p, ep_add(p, src, ORIGIN_PING, now), now);
}

static bool better(const struct disco_peer *p, const struct disco_ep *e, uint64_t now)
{
	const struct disco_ep *b;

	if (p->best < 0 || now >= p->trust_until_ns)
		return true;
	b = &p->eps[p->best];
	if (b == e)
		return true;
	/* Prefer IPv6 slightly (TS betterAddr): count its latency 10 % lower. */
	uint64_t el = e->latency_ns, bl = b->latency_ns;
	if (e->ep.family == AF_INET6 && b->ep.family == AF_INET)
		el -= el / 10;
	else if (b->ep.family == AF_INET6 && e->ep.family == AF_INET)
		bl -= bl / 10;
	return el < bl;
}

static void on_pong(struct disco *d, struct disco_peer *p, const struct disco_msg *m, uint64_t now)
{
	d->st.rx_pong++;
	for (size_t i = 0; i < p->n_eps; i++) {
		struct disco_ep *e = &p->eps[i];
		bool changed;

		if (!e->ping_sent_ns || memcmp(e->txid, m->txid, DISCO_TXID_LEN))
			continue;
		e->ping_sent_ns = 0;
		e->last_pong_ns = now;
		e->latency_ns = now - e->last_ping_ns;
		if (!better(p, e, now))
			return;
		changed = p->best != (int)i || now >= p->trust_until_ns;
		p->best = (int)i;
		p->trust_until_ns = now + DISCO_TRUST_NS;
		if (changed && d->on_path)
			d->on_path(d->path_arg, p->node_key, &e->ep);
		return;
	}
	d->st.pong_unmatched++;
}

/* CallMeMaybe (DERP only): its endpoints replace earlier CallMeMaybe ones; ping all now. */
static void on_call_me_maybe(struct disco *d, struct disco_peer *p, const struct disco_msg *m,
			     uint64_t now)
{
	d->st.rx_cmm++;
	ep_clear_origin(p, ORIGIN_CMM);
	for (size_t i = 0; i < m->n_eps; i++) {
		const struct mg_endpoint *ep = &m->eps[i];

		if (ep->family == AF_INET6 && ep->addr[0] == 0xfe && (ep->addr[1] & 0xc0) == 0x80)
			continue;                        /* link-local: useless across the net */
		ep_add(p, ep, ORIGIN_CMM, now);
	}
	for (size_t i = 0; i < p->n_eps; i++)
		p->eps[i].last_ping_ns = 0;
	ping_all(d, p, now);
}

/* @src NULL: arrived through DERP from @derp_src. */
static void receive(struct disco *d, const uint8_t *pkt, size_t len, const struct mg_endpoint *src,
		    const uint8_t *derp_src, int region, uint64_t now)
{
	uint8_t plain[2048];
	struct disco_peer *p;
	struct disco_msg m;
	int n;

	if (len < DISCO_HDR_LEN || !disco_looks_like(pkt, len))
		goto bad_msg;
	p = peer_by_disco(d, pkt + DISCO_MAGIC_LEN);
	if (!p) {
		d->st.rx_unknown_key++;          /* not in the netmap: drop silently */
		return;
	}
	n = disco_open(plain, sizeof(plain), p->shared, pkt, len);
	if (n < 0) {
		d->st.rx_bad_box++;
		return;
	}
	n = disco_parse(&m, plain, (size_t)n);
	if (n == -EPROTONOSUPPORT) {
		d->st.rx_ignored++;
		return;
	}
	if (n < 0)
		goto bad_msg;
	switch (m.type) {
	case DISCO_PING:
		on_ping(d, p, &m, src, region, now);
		break;
	case DISCO_PONG:
		if (src)
			on_pong(d, p, &m, now);
		else
			d->st.rx_pong++;          /* over DERP: accepted; says nothing about UDP paths */
		break;
	case DISCO_CALL_ME_MAYBE:
		/* Only through DERP, and only from the node that owns this disco key. */
		if (src || memcmp(derp_src, p->node_key, 32))
			d->st.rx_ignored++;
		else
			on_call_me_maybe(d, p, &m, now);
		break;
	}
	sodium_memzero(plain, sizeof(plain));
	return;
bad_msg:
	d->st.rx_bad_msg++;
}

void disco_receive(struct disco *d, const struct punt_msg *m, uint64_t now)
{
	receive(d, m->data, m->len, &m->src, NULL, 0, now);
}

void disco_receive_derp(struct disco *d, const uint8_t src_node_key[32], int region,
			const uint8_t *pkt, size_t len, uint64_t now)
{
	receive(d, pkt, len, NULL, src_node_key, region, now);
}

/* --- timers --------------------------------------------------------------------------- */

static void peer_tick(struct disco *d, struct disco_peer *p, uint64_t now)
{
	struct disco_ep *b;

	for (size_t i = 0; i < p->n_eps; i++)
		if (p->eps[i].ping_sent_ns && now - p->eps[i].ping_sent_ns >= DISCO_PING_TIMEOUT_NS)
			p->eps[i].ping_sent_ns = 0;       /* abandoned: no pong in 5 s */
	if (now >= p->active_until_ns)
		return;                                   /* idle: peers ping us if they need us */
	if (p->best < 0 || now >= p->trust_until_ns) {
		if (ping_all(d, p, now))
			send_call_me_maybe(d, p);
		return;
	}
	b = &p->eps[p->best];
	if (now - b->last_ping_ns >= DISCO_HEARTBEAT_NS)
		send_ping(d, p, b, now);
	if (b->latency_ns > DISCO_GOOD_ENOUGH_NS &&
	    now - p->last_full_probe_ns >= DISCO_UPGRADE_INTERVAL_NS) {
		p->last_full_probe_ns = now;
		ping_all(d, p, now);
	}
}

void disco_tick(struct disco *d, uint64_t now)
{
	for (size_t i = 0; i < d->n_peers; i++)
		peer_tick(d, &d->peers[i], now);
}

/* --- lifecycle ------------------------------------------------------------------------ */

int disco_init(struct disco **out, const struct disco_ops *ops, const uint8_t disco_private[32])
{
	struct disco *d;

	if (sodium_init() < 0)
		return -EIO;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ops = *ops;
	memcpy(d->priv, disco_private, 32);
	crypto_scalarmult_base(d->pub, d->priv);
	*out = d;
	return 0;
}

void disco_uninit(struct disco *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_peers; i++)
		sodium_memzero(d->peers[i].shared, sizeof(d->peers[i].shared));
	free(d->peers);
	sodium_memzero(d->priv, sizeof(d->priv));
	free(d);
}

void disco_public_key(const struct disco *d, uint8_t out[32])
{
	memcpy(out, d->pub, 32);
}

void disco_set_derp(struct disco *d, disco_derp_send_fn fn, void *arg)
{
	d->derp_send = fn;
	d->derp_arg = arg;
}

void disco_set_path_cb(struct disco *d, disco_path_fn fn, void *arg)
{
	d->on_path = fn;
	d->path_arg = arg;
}

void disco_set_self_endpoints(struct disco *d, const struct mg_endpoint *eps, size_t n)
{
	d->n_self = n < DISCO_CMM_MAX ? n : DISCO_CMM_MAX;
	memcpy(d->self_eps, eps, d->n_self * sizeof(eps[0]));
}

void disco_get_stats(const struct disco *d, struct disco_stats *out)
{
	*out = d->st;
}
