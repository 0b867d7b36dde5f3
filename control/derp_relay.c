// SPDX-License-Identifier: GPL-2.0-only
/*
 * derp_relay.c - the DERP client wired to the device, disco and the peers' endpoints.
 *
 * Out: a worker seals WireGuard for a peer whose endpoint is 127.3.3.40:<region> as usual, then
 * punts the message (PUNT_DERP_TX) instead of transmitting it; here it becomes a SendPacket to the
 * peer's node key on that region. Control's own messages (handshakes, keepalives) take the same
 * way through the worker and carry no key: the peer is found by the message's index.
 * In: a RecvPacket starting with the disco magic goes to disco; anything else is
 * WireGuard and goes to worker 0 as TXREQ_RELAYED with source 127.3.3.40:<region>.
 *
 * Path (our side): a disco peer is sent to via its home region until disco trusts a
 * direct endpoint (a pong in the last 6.5 s, kept alive by 3 s heartbeats while we send), then
 * there; when the trust lapses, back to DERP (or, with DERP down, to the last direct endpoint that
 * answered). The endpoint is re-asserted every 100 ms for disco
 * peers, so a packet that roamed the endpoint meanwhile does not decide the path. A peer without
 * disco keeps its netmap endpoint and roaming; only if it has no endpoint at all is it sent to
 * its home region. The home region counts as a path only while connected (a map naming a dead
 * server must not black-hole peers that reach us directly); other regions are dialled on demand.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctldev.h"
#include "apply.h"
#include "derpmap.h"
#include "derp_relay.h"
#include "disco/disco.h"
#include "wireguard/messages.h"
#include "vec.h"

#define PATH_CHECK_NS (100 * NSEC_PER_MSEC)

struct relay_peer {
	uint8_t key[32];
	int home;
	bool disco;
	uint64_t last_tx_bytes;
	bool direct;                     /* what we last chose (for the log) */
	bool chosen;                     /* a path was chosen at least once */
};

struct derp_relay {
	struct mg_ctl *dev;
	struct disco *disco;
	struct derp *derp;
	struct relay_peer *peers;
	size_t n, cap;
	uint64_t next_path_check;
	json_t *map;                     /* the last DERPMap.Regions (a reference): to choose again */
	struct derp_relay_stats st;
};

static struct relay_peer *rpeer_find(struct derp_relay *r, const uint8_t key[32])
{
	for (size_t i = 0; i < r->n; i++)
		if (!memcmp(r->peers[i].key, key, 32))    /* public keys */
			return &r->peers[i];
	return NULL;
}

static void derp_ep(struct mg_endpoint *ep, int region)
{
	memset(ep, 0, sizeof(*ep));
	ep->family = AF_INET;
	ep->addr[0] = 127, ep->addr[1] = 3, ep->addr[2] = 3, ep->addr[3] = 40;
	ep->port = (uint16_t)region;
}

/* --- in ------------------------------------------------------------------------------ */

static void on_recv(void *arg, int region, const uint8_t src[32], const uint8_t *pkt, size_t len)
{
	struct derp_relay *r = arg;
	struct ring *q = &r->dev->dp.workers[0].txq;
	struct txreq *t;

	if (disco_looks_like(pkt, len)) {
		r->st.rx_disco++;
		disco_receive_derp(r->disco, src, region, pkt, len, mg_now());
		return;
	}
	/* WireGuard: the worker authenticates it (unknown index, bad tag, replay are its drops). */
	t = ring_reserve(q);
	if (!t || len > TXREQ_DATA_MAX) {
		r->st.rx_ring_full++;
		return;
	}
	t->kind = TXREQ_RELAYED;
	t->len = (uint16_t)len;
	derp_ep(&t->dst, region);
	memcpy(t->data, pkt, len);
	ring_commit(q);
	r->st.rx_wireguard++;
}

/* --- out ----------------------------------------------------------------------------- */

/* The peer a control-made message is for: handshakes by our sender index, keepalives by the
 * peer's receiver index on one of its keypairs. Cookie replies are not relayed (under load only). */
static struct peer *peer_of_msg(struct mg_ctl *dev, const uint8_t *msg, size_t len)
{
	uint32_t type, idx;
	struct index_entry *e;
	struct peer *p;

	if (len < 8)
		return NULL;
	memcpy(&type, msg, 4);
	memcpy(&idx, msg + 4, 4);
	type = le32toh(type);
	idx = le32toh(idx);
	if (type == MESSAGE_HANDSHAKE_INITIATION || type == MESSAGE_HANDSHAKE_RESPONSE) {
		e = index_lookup(&dev->dp.index, idx);
		return e ? e->peer : NULL;
	}
	if (type != MESSAGE_DATA)
		return NULL;
	peer_list_for_each(p, &dev->peers) {
		struct keypair *kps[3] = { p->cur, p->prev, p->next };

		for (int i = 0; i < 3; i++)
			if (kps[i] && kps[i]->nk.remote_index == idx)
				return p;
	}
	return NULL;
}

void derp_relay_punt(struct derp_relay *r, const struct punt_msg *m, uint64_t now)
{
	static const uint8_t zero[32];
	const uint8_t *key = m->peer_key;

	if (!memcmp(key, zero, 32)) {
		struct peer *p = peer_of_msg(r->dev, m->data, m->len);

		if (!p) {
			r->st.tx_no_peer++;
			return;
		}
		key = p->public_key;
	}
	switch (derp_send(r->derp, m->src.port, key, m->data, m->len, now)) {
	case 0:
		r->st.tx++;
		break;
	case -EDQUOT:
		r->st.tx_rate_limited++;     /* the server's ServerInfo token bucket */
		break;
	default:
		r->st.tx_fail++;
	}
}

static bool disco_derp_send(void *arg, const uint8_t node_key[32], int region, const void *pkt, uint16_t len)
{
	struct derp_relay *r = arg;
	struct relay_peer *rp = rpeer_find(r, node_key);

	if (!region)
		region = rp && rp->home ? rp->home : derp_home(r->derp);
	return region && !derp_send(r->derp, region, node_key, pkt, len, mg_now());
}

/* --- path choice --------------------------------------------------------------------- */

/* DERP is a usable path to @region if the map has it, and - for our home region, which we keep
 * connected anyway - if the connection is up (a map naming a dead server must not black-hole
 * peers that reach us directly). Other regions are dialled on demand. */
static bool derp_usable(const struct derp_relay *r, int region)
{
	if (!region || !derp_region_known(r->derp, region))
		return false;
	return region != derp_home(r->derp) || derp_region_up(r->derp, region);
}

static void path_check(struct derp_relay *r, struct relay_peer *rp, uint64_t now)
{
	struct peer *p = dev_peer_find(r->dev, rp->key);
	struct mg_endpoint want, cur;
	uint64_t tx;
	bool direct;

	if (!p)
		return;
	/* We sent to the peer since the last look: disco keeps probing and heartbeating (45 s). */
	tx = peer_tx_bytes(p);
	if (tx != rp->last_tx_bytes) {
		rp->last_tx_bytes = tx;
		disco_peer_active(r->disco, rp->key, now);
	}
	if (!rp->disco) {
		/* No disco: the netmap endpoint and roaming decide, unless there is none at all. */
		peer_endpoint_get(p, &cur);
		if (!cur.family && derp_usable(r, rp->home)) {
			derp_ep(&want, rp->home);
			peer_endpoint_set(p, &want);
		}
		return;
	}
	direct = disco_peer_path(r->disco, rp->key, now, &want);
	if (!direct) {
		/* No trusted direct path. DERP if we can reach the peer's home there; if not (the
		 * relay went down, often with the control server), the last endpoint that answered,
		 * untrusted: tailscaled keeps sending to it too. With neither, leave the endpoint. */
		if (derp_usable(r, rp->home))
			derp_ep(&want, rp->home);
		else if (!disco_peer_last_path(r->disco, rp->key, &want))
			return;
		else
			direct = true;
	}
	rp->chosen = true;
	if (direct != rp->direct) {
		fprintf(stderr, "meshgate: derp: peer %02x%02x%02x%02x: path %s\n", rp->key[0], rp->key[1],
			rp->key[2], rp->key[3], direct ? "direct" : "relay");
		if (direct)
			r->st.path_direct++;
		else
			r->st.path_relay++;
		rp->direct = direct;
	}
	peer_endpoint_get(p, &cur);
	if (!mg_endpoint_equal(&cur, &want))
		peer_endpoint_set(p, &want);
}

void derp_relay_tick(struct derp_relay *r, uint64_t now)
{
	if (!r)
		return;
	if (r->dev->identity.has_identity)
		derp_set_key(r->derp, r->dev->identity.static_private);
	derp_tick(r->derp, now);
	if (now < r->next_path_check)
		return;
	r->next_path_check = now + PATH_CHECK_NS;
	for (size_t i = 0; i < r->n; i++)
		path_check(r, &r->peers[i], now);
}

/* --- peers, map, lifecycle ------------------------------------------------------------ */

/* The regions we hold when the map has more than DERP_REGIONS_MAX: our home, then the peers'
 * homes (where we reach them), then the lowest ids; the rest is counted and logged. */
static void choose_regions(struct derp_relay *r, uint64_t now)
{
	struct derp_region *v = calloc(DERP_REGIONS_MAX, sizeof(*v));
	int *keep = calloc(r->n + 1, sizeof(*keep));
	size_t n, k = 0, dropped;

	if (v && keep) {
		if (derp_home(r->derp))
			keep[k++] = derp_home(r->derp);
		for (size_t i = 0; i < r->n; i++)
			if (r->peers[i].home)
				keep[k++] = r->peers[i].home;
		n = derp_map_parse_keep(r->map, v, DERP_REGIONS_MAX, keep, k, &dropped);
		derp_set_map(r->derp, v, n, now);
		if (dropped != r->st.map_regions_dropped)
			fprintf(stderr, "meshgate: derp: DERP map of %zu regions: %zu kept (our home, peers' homes, "
				"lowest ids), %zu left out\n", n + dropped, n, dropped);
		r->st.map_regions_dropped = dropped;
	}
	free(keep);
	free(v);
}

int derp_relay_peer_set(struct derp_relay *r, const uint8_t node_key[32], int home_region, bool disco)
{
	struct relay_peer *rp = rpeer_find(r, node_key);

	if (!rp) {
		if (mg_vec_grow((void **)&r->peers, &r->cap, r->n, sizeof(*r->peers)))
			return -ENOMEM;
		rp = &r->peers[r->n++];
		memset(rp, 0, sizeof(*rp));
		memcpy(rp->key, node_key, 32);
		rp->direct = true;           /* so the first relay choice is logged */
	}
	rp->home = home_region;
	rp->disco = disco;
	/* Homed in a region the map had to leave out: choose again, keeping it. */
	if (home_region && r->st.map_regions_dropped && !derp_region_known(r->derp, home_region))
		choose_regions(r, mg_now());
	return 0;
}

void derp_relay_peer_remove(struct derp_relay *r, const uint8_t node_key[32])
{
	struct relay_peer *rp = rpeer_find(r, node_key);

	if (rp)
		*rp = r->peers[--r->n];
}

void derp_relay_set_map(struct derp_relay *r, const json_t *regions, uint64_t now)
{
	json_decref(r->map);
	r->map = json_incref((json_t *)regions);
	choose_regions(r, now);
}

bool derp_relay_note_stun(struct derp_relay *r, const struct mg_endpoint *server, uint64_t rtt_ns, uint64_t now)
{
	return r && derp_note_stun(r->derp, server, rtt_ns, now);
}

int derp_relay_home(const struct derp_relay *r)
{
	return r ? derp_home(r->derp) : 0;
}

int derp_relay_init(struct derp_relay **out, struct mg_ctl *dev, struct disco *disco, int epfd,
		    const char *ca_file)
{
	struct derp_relay *r = calloc(1, sizeof(*r));
	struct derp_cfg cfg = { .epfd = epfd, .ca_file = ca_file, .recv = on_recv };
	int ret;

	if (!r)
		return -ENOMEM;
	cfg.arg = r;
	r->dev = dev;
	r->disco = disco;
	ret = derp_init(&r->derp, &cfg);
	if (ret) {
		free(r);
		return ret;
	}
	if (dev->identity.has_identity)
		derp_set_key(r->derp, dev->identity.static_private);
	disco_set_derp(disco, disco_derp_send, r);
	*out = r;
	return 0;
}

void derp_relay_uninit(struct derp_relay *r)
{
	if (!r)
		return;
	disco_set_derp(r->disco, NULL, NULL);
	derp_uninit(r->derp);
	json_decref(r->map);
	free(r->peers);
	free(r);
}

void derp_relay_get_stats(const struct derp_relay *r, struct derp_relay_stats *out)
{
	if (!r) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = r->st;
	out->peers_direct = out->peers_relay = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (!r->peers[i].disco || !r->peers[i].chosen)
			continue;
		if (r->peers[i].direct)
			out->peers_direct++;
		else
			out->peers_relay++;
	}
}

size_t derp_relay_regions(const struct derp_relay *r, struct derp_region_status *out, size_t max)
{
	return r ? derp_get_status(r->derp, out, max) : 0;
}
