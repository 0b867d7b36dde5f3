// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_derp_relay.c - control/derp_relay.c alone, its neighbours replaced by recorders: the DERP
 * client (derp_send), disco (the trusted path), the device's peer lookup and endpoint seqlock.
 *
 *  1. Out: a punted message with a node key goes to that key on the region of its pseudo-endpoint
 *     127.3.3.40:<region>; control's own messages carry none and are matched by index (handshake
 *     initiation/response by our sender index, a keepalive by the peer's receiver index on one of
 *     its keypairs); an unknown index, or a cookie reply, is not relayed.
 *  2. In: a RecvPacket starting with the disco magic goes to disco; anything else becomes a
 *     TXREQ_RELAYED request on worker 0 with source 127.3.3.40:<region>; a full ring drops it.
 *  3. Path: a disco peer goes to its home region while no direct path is trusted (only if the home
 *     region is up), to the trusted direct endpoint as soon as disco has one, back to DERP when the
 *     trust lapses; a roamed endpoint is put back; peers without disco are left alone; data sent
 *     to a peer keeps disco active.
 *  4. Map: a DERP map of 41 regions (keys in Go's string order) keeps 32: the lowest ids while
 *     nobody is homed elsewhere, 9 counted as left out; a peer homed in a region left out makes
 *     the relay choose again and keep it.
 *  5. Disco through DERP: a message with a region goes out on that region (a pong on the region
 *     its ping came in on), one without on the peer's home region, else on ours.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dataplane.h"
#include "apply.h"
#include "ctldev.h"
#include "derp_relay.h"
#include "disco.h"
#include "wireguard/messages.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #c); } } while (0)

/* --- recorders standing in for derp.c ---------------------------------------------------- */
static int home_region = 900;
static bool home_up = true;
static unsigned n_sends;
static int sent_region;
static uint8_t sent_key[32];
static size_t sent_len;
static int send_ret;                     /* what derp_send answers (-EDQUOT: rate limited) */
static derp_recv_fn recv_cb;
static void *recv_arg;

int derp_init(struct derp **out, const struct derp_cfg *cfg)
{
	recv_cb = cfg->recv;
	recv_arg = cfg->arg;
	*out = (struct derp *)&home_region;
	return 0;
}
void derp_uninit(struct derp *d) { (void)d; }
void derp_set_key(struct derp *d, const uint8_t k[32]) { (void)d, (void)k; }
static int map_ids[DERP_REGIONS_MAX];
static size_t map_n;
static bool map_set;
void derp_set_map(struct derp *d, const struct derp_region *r, size_t n, uint64_t now)
{
	(void)d, (void)now;
	map_set = true;
	for (map_n = 0; map_n < n && map_n < DERP_REGIONS_MAX; map_n++)
		map_ids[map_n] = r[map_n].id;
}
static bool in_map(int region)
{
	for (size_t i = 0; i < map_n; i++)
		if (map_ids[i] == region)
			return true;
	return false;
}
int derp_home(const struct derp *d) { (void)d; return home_region; }
bool derp_region_known(const struct derp *d, int region)
{
	(void)d;
	return map_set ? in_map(region) : region == 900 || region == 901;
}
bool derp_region_up(const struct derp *d, int region) { (void)d; return region == 900 && home_up; }
void derp_tick(struct derp *d, uint64_t now) { (void)d, (void)now; }
size_t derp_get_status(const struct derp *d, struct derp_region_status *o, size_t m) { (void)d, (void)o, (void)m; return 0; }
int derp_send(struct derp *d, int region, const uint8_t dst[32], const void *pkt, size_t len, uint64_t now)
{
	(void)d, (void)pkt, (void)now;
	n_sends++;
	sent_region = region;
	memcpy(sent_key, dst, 32);
	sent_len = len;
	return send_ret;
}
bool derp_note_stun(struct derp *d, const struct mg_endpoint *s, uint64_t rtt, uint64_t now)
{
	(void)d, (void)s, (void)rtt, (void)now;
	return false;
}

/* --- disco ---------------------------------------------------------------------------- */
static bool trusted;
static struct mg_endpoint trusted_ep;
static unsigned n_active, n_disco_derp;
static disco_derp_send_fn disco_send;
static void *disco_send_arg;
void disco_set_derp(struct disco *d, disco_derp_send_fn fn, void *arg)
{
	(void)d;
	disco_send = fn;
	disco_send_arg = arg;
}
void disco_peer_active(struct disco *d, const uint8_t k[32], uint64_t now) { (void)d, (void)k, (void)now; n_active++; }
bool disco_peer_path(const struct disco *d, const uint8_t k[32], uint64_t now, struct mg_endpoint *out)
{
	(void)d, (void)k, (void)now;
	if (trusted)
		*out = trusted_ep;
	return trusted;
}
static bool has_last;
static struct mg_endpoint last_ep;
bool disco_peer_last_path(const struct disco *d, const uint8_t k[32], struct mg_endpoint *out)
{
	(void)d, (void)k;
	if (has_last)
		*out = last_ep;
	return has_last;
}
void disco_receive_derp(struct disco *d, const uint8_t s[32], int region, const uint8_t *p, size_t len, uint64_t now)
{
	(void)d, (void)s, (void)region, (void)p, (void)len, (void)now;
	n_disco_derp++;
}
bool disco_looks_like(const uint8_t *pkt, size_t len)
{
	return len >= DISCO_MAGIC_LEN + DISCO_KEY_LEN && !memcmp(pkt, DISCO_MAGIC, DISCO_MAGIC_LEN);
}

/* --- the device ---------------------------------------------------------------------- */
static struct mg_ctl dev;
static struct worker wk;
static struct peer pa, pb, pc, pd;    /* pa, pb: disco peers; pc, pd: no disco (pd: no endpoint) */

struct peer *dev_peer_find(struct mg_ctl *d, const uint8_t key[32])
{
	struct peer *p;

	peer_list_for_each(p, &d->peers)
		if (!memcmp(p->public_key, key, 32))
			return p;
	return NULL;
}
void peer_endpoint_get(struct peer *p, struct mg_endpoint *out) { *out = p->ep; }
void peer_endpoint_set(struct peer *p, const struct mg_endpoint *ep) { p->ep = *ep; }

static struct mg_endpoint ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct mg_endpoint e = { .family = AF_INET, .port = port, .addr = { a, b, c, d } };

	return e;
}

static bool ep_eq(const struct mg_endpoint *x, const struct mg_endpoint *y)
{
	return x->family == y->family && x->port == y->port && !memcmp(x->addr, y->addr, 4);
}

static void put_index(struct index_entry *e, uint32_t idx, struct peer *p)
{
	e->index = idx;
	e->peer = p;
	dev.dp.index.slots[idx & (INDEX_SLOTS - 1)] = e;
}

static void punt(uint16_t region, const uint8_t *key, uint32_t type, uint32_t idx, uint16_t len)
{
	struct punt_msg m = { .kind = PUNT_DERP_TX, .len = len };
	uint32_t t = htole32(type), i = htole32(idx);

	m.src = ep4(127, 3, 3, 40, region);
	if (key)
		memcpy(m.peer_key, key, 32);
	memcpy(m.data, &t, 4);
	memcpy(m.data + 4, &i, 4);
	n_sends = 0;
	derp_relay_punt((struct derp_relay *)recv_arg, &m, 1);
}

/* Regions 1..40 and 999 with the keys in the order Go writes a map's: "1", "10", ..., "999". */
static json_t *big_map(void)
{
	json_t *m = json_object();
	char key[8];

	for (int first = 1; first <= 9; first++)
		for (int id = 1; id <= 999; id++) {
			snprintf(key, sizeof(key), "%d", id);
			if ((id <= 40 || id == 999) && key[0] == '0' + first)
				json_object_set_new(m, key, json_pack("{s:i, s:[{s:s}]}", "RegionID", id, "Nodes", "HostName", "d.test"));
		}
	return m;
}

static void test_map(struct derp_relay *r)
{
	struct derp_relay_stats st;
	json_t *m = big_map();
	bool lowest = true;

	CHECK(json_object_size(m) == 41);
	derp_relay_set_map(r, m, 1);
	json_decref(m);                                  /* the relay holds its own reference */
	for (size_t i = 0; i < map_n; i++)
		lowest = lowest && map_ids[i] == (int)i + 1;
	derp_relay_get_stats(r, &st);
	CHECK(map_n == DERP_REGIONS_MAX && lowest && st.map_regions_dropped == 9);
	CHECK(derp_relay_peer_set(r, pa.public_key, 40, true) == 0);
	CHECK(in_map(40) && in_map(31) && !in_map(32) && map_n == DERP_REGIONS_MAX);
	CHECK(derp_relay_peer_set(r, pb.public_key, 999, true) == 0);
	CHECK(in_map(40) && in_map(999) && in_map(30) && !in_map(31));
	derp_relay_get_stats(r, &st);
	CHECK(st.map_regions_dropped == 9);
}

int main(void)
{
	struct derp_relay *r;
	struct derp_relay_stats st;
	struct index_entry hs_a, kp_entry;
	struct keypair kp_b;
	struct mg_endpoint derp900 = ep4(127, 3, 3, 40, 900), direct = ep4(198, 51, 100, 2, 41642);
	uint8_t pkt[200] = { 4, 0, 0, 0 }, disco_pkt[80];
	struct txreq *t;
	uint64_t now = 1000000000ull;

	CDS_INIT_LIST_HEAD(&dev.peers);
	memset(pa.public_key, 0xa1, 32), memset(pb.public_key, 0xb2, 32), memset(pc.public_key, 0xc3, 32);
	cds_list_add_tail(&pa.node, &dev.peers);
	cds_list_add_tail(&pb.node, &dev.peers);
	cds_list_add_tail(&pc.node, &dev.peers);
	memset(pd.public_key, 0xd4, 32);
	cds_list_add_tail(&pd.node, &dev.peers);
	dev.dp.workers = &wk;
	dev.dp.nworkers = 1;
	CHECK(ring_init(&wk.txq, 4, sizeof(struct txreq)) == 0);
	CHECK(derp_relay_init(&r, &dev, NULL, -1, NULL) == 0);
	CHECK(recv_arg == r && derp_relay_home(r) == 900);

	/* 1. Out. */
	punt(61, pb.public_key, MESSAGE_DATA, 7, 148);
	CHECK(n_sends == 1 && sent_region == 61 && !memcmp(sent_key, pb.public_key, 32) && sent_len == 148);
	put_index(&hs_a, 0x1234, &pa);
	punt(900, NULL, MESSAGE_HANDSHAKE_INITIATION, 0x1234, 148);
	CHECK(n_sends == 1 && sent_region == 900 && !memcmp(sent_key, pa.public_key, 32));
	punt(900, NULL, MESSAGE_HANDSHAKE_RESPONSE, 0x1234, 92);
	CHECK(n_sends == 1 && !memcmp(sent_key, pa.public_key, 32));
	memset(&kp_b, 0, sizeof(kp_b));
	kp_b.nk.remote_index = 0xbeef;
	pb.prev = &kp_b;                                 /* any of cur/prev/next */
	punt(900, NULL, MESSAGE_DATA, 0xbeef, 32);       /* a keepalive control sealed */
	CHECK(n_sends == 1 && !memcmp(sent_key, pb.public_key, 32));
	punt(900, NULL, MESSAGE_DATA, 0x4242, 32);       /* nobody's */
	CHECK(n_sends == 0);
	put_index(&kp_entry, 0x5555, &pc);
	punt(900, NULL, MESSAGE_HANDSHAKE_COOKIE, 0x5555, 64);
	CHECK(n_sends == 0);
	derp_relay_get_stats(r, &st);
	CHECK(st.tx == 4 && st.tx_no_peer == 2);
	send_ret = -EDQUOT;                              /* the server's token bucket said no */
	punt(61, pb.public_key, MESSAGE_DATA, 7, 148);
	send_ret = -ENOBUFS;
	punt(61, pb.public_key, MESSAGE_DATA, 7, 148);
	send_ret = 0;
	derp_relay_get_stats(r, &st);
	CHECK(st.tx == 4 && st.tx_rate_limited == 1 && st.tx_fail == 1);

	/* 2. In. */
	memcpy(disco_pkt, DISCO_MAGIC, DISCO_MAGIC_LEN);
	recv_cb(recv_arg, 900, pa.public_key, disco_pkt, sizeof(disco_pkt));
	CHECK(n_disco_derp == 1 && ring_count(&wk.txq) == 0);
	recv_cb(recv_arg, 901, pa.public_key, pkt, sizeof(pkt));
	t = ring_peek(&wk.txq);
	CHECK(t && t->kind == TXREQ_RELAYED && t->len == sizeof(pkt) && !memcmp(t->data, pkt, sizeof(pkt)));
	CHECK(t && ep_eq(&t->dst, &(struct mg_endpoint){ .family = AF_INET, .port = 901, .addr = { 127, 3, 3, 40 } }));
	for (int i = 0; i < 5; i++)                      /* 4 slots: one more than fits is dropped */
		recv_cb(recv_arg, 900, pa.public_key, pkt, sizeof(pkt));
	derp_relay_get_stats(r, &st);
	CHECK(ring_count(&wk.txq) == 4 && st.rx_wireguard == 4 && st.rx_ring_full == 2 && st.rx_disco == 1);

	/* 3. Path. */
	CHECK(derp_relay_peer_set(r, pa.public_key, 900, true) == 0);
	CHECK(derp_relay_peer_set(r, pc.public_key, 900, false) == 0);
	CHECK(derp_relay_peer_set(r, pd.public_key, 901, false) == 0);
	pa.ep = direct;                                  /* from the netmap */
	pc.ep = ep4(198, 51, 100, 3, 41641);
	home_up = false;
	derp_relay_tick(r, now);
	CHECK(ep_eq(&pa.ep, &direct));                   /* home region down: nothing to switch to */
	home_up = true;
	derp_relay_tick(r, now += 200000000ull);
	CHECK(ep_eq(&pa.ep, &derp900));                  /* no trusted path: DERP */
	CHECK(pc.ep.addr[3] == 3);                       /* no disco: untouched */
	CHECK(ep_eq(&pd.ep, &(struct mg_endpoint){ .family = AF_INET, .port = 901, .addr = { 127, 3, 3, 40 } }));
							 /* no disco, no endpoint: its home region */
	pa.ep = direct;                                  /* a worker roamed it */
	derp_relay_tick(r, now += 200000000ull);
	CHECK(ep_eq(&pa.ep, &derp900));                  /* put back */
	trusted = true;
	trusted_ep = direct;
	derp_relay_tick(r, now += 200000000ull);
	CHECK(ep_eq(&pa.ep, &direct));
	trusted = false;
	derp_relay_tick(r, now += 50000000ull);          /* within 100 ms: not looked at yet */
	CHECK(ep_eq(&pa.ep, &direct));
	derp_relay_tick(r, now += 100000000ull);
	CHECK(ep_eq(&pa.ep, &derp900));                  /* trust lapsed: back to DERP */
	derp_relay_get_stats(r, &st);
	CHECK(st.path_relay == 2 && st.path_direct == 1);
	/* DERP gone as well: the last endpoint that answered (untrusted now) beats a dead relay. */
	has_last = true;
	last_ep = direct;
	home_up = false;
	derp_relay_tick(r, now += 200000000ull);
	CHECK(ep_eq(&pa.ep, &direct));
	derp_relay_get_stats(r, &st);
	CHECK(st.path_direct == 2 && st.peers_direct == 1 && st.peers_relay == 0);
	home_up = true;                                  /* DERP back, still no trust: the relay */
	derp_relay_tick(r, now += 200000000ull);
	CHECK(ep_eq(&pa.ep, &derp900));
	derp_relay_get_stats(r, &st);
	CHECK(st.path_relay == 3 && st.peers_relay == 1);
	has_last = false;
	n_active = 0;
	atomic_store(&pa.tx_bytes, 1000);
	derp_relay_tick(r, now += 200000000ull);
	CHECK(n_active == 1);                            /* data went out: disco stays active */
	derp_relay_tick(r, now += 200000000ull);
	CHECK(n_active == 1);                            /* no new data: not renewed */
	derp_relay_peer_remove(r, pa.public_key);
	pa.ep = direct;
	derp_relay_tick(r, now += 200000000ull);
	CHECK(ep_eq(&pa.ep, &direct));                   /* forgotten: left alone */

	/* 4. Map. */
	test_map(r);

	/* 5. Disco through DERP (pb is homed in 999 since section 4; pc in 900). */
	CHECK(disco_send && disco_send_arg == r);
	n_sends = 0;
	CHECK(disco_send(disco_send_arg, pb.public_key, 7, disco_pkt, 64));
	CHECK(n_sends == 1 && sent_region == 7 && !memcmp(sent_key, pb.public_key, 32));
	CHECK(disco_send(disco_send_arg, pb.public_key, 0, disco_pkt, 64) && sent_region == 999);
	CHECK(disco_send(disco_send_arg, pa.public_key, 0, disco_pkt, 64) && sent_region == 40);
	memset(sent_key, 0, 32);
	CHECK(disco_send(disco_send_arg, (uint8_t[32]){ 0xee }, 0, disco_pkt, 64) && sent_region == 900);

	derp_relay_uninit(r);
	ring_uninit(&wk.txq);
	printf("%d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
