// SPDX-License-Identifier: GPL-2.0-only
/*
 * mem_router.c - see mem_router.h. Both ends of every session run noise.c, so a session is
 * exactly what a peer's handshake makes; only the transport (a function call) differs.
 */
#include <string.h>
#include <unistd.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/eventfd.h>
#include <sodium.h>
#include "io/mem.h"
#include "io/mem_router.h"
#include "wctx.h"
#include "netlink/nl_snapshot.h"
#include "netlink/nltables.h"
#include "wireguard/hash.h"
#include "wireguard/messages.h"
#include "wireguard/replay.h"

const struct mem_lan mem_lan = {
	.router_mac = { 0x02, 0, 0, 0, 0, 0x01 }, .host_mac = { 0x02, 0, 0, 0, 0, 0x10 },
	.gw_mac = { 0x02, 0, 0, 0, 0, 0xfe },
	.router_ip = { 192, 168, 77, 1 }, .host_ip = { 192, 168, 77, 10 }, .gw_ip = { 192, 168, 77, 254 },
	.router_ip6 = { 0xfd, 0, 0, 0x77, [15] = 1 }, .host_ip6 = { 0xfd, 0, 0, 0x77, [15] = 0x10 },
};

/* What the kernel mirror would hold: the LAN on-link both ways, a default route, the router's
 * addresses, and resolved neighbours for the host and the gateway. */
static struct nl_snapshot *lan_snapshot(const uint8_t gw_mac[6])
{
	struct nltables t;
	struct nl_route_ent r4 = { .family = AF_INET, .dst_len = 24, .type = RTN_UNICAST, .oif = MEM_LAN_IFINDEX };
	struct nl_route_ent d4 = { .family = AF_INET, .type = RTN_UNICAST, .oif = MEM_LAN_IFINDEX, .has_gw = true };
	struct nl_route_ent r6 = { .family = AF_INET6, .dst_len = 64, .type = RTN_UNICAST, .oif = MEM_LAN_IFINDEX };
	struct nl_addr_ent a4 = { .family = AF_INET, .prefixlen = 24, .scope = RT_SCOPE_UNIVERSE };
	struct nl_addr_ent a6 = { .family = AF_INET6, .prefixlen = 64, .scope = RT_SCOPE_UNIVERSE };
	struct nl_neigh_ent n4 = { .family = AF_INET, .state = NUD_REACHABLE, .has_mac = true };
	struct nl_neigh_ent g4 = { .family = AF_INET, .state = NUD_REACHABLE, .has_mac = true };
	struct nl_neigh_ent n6 = { .family = AF_INET6, .state = NUD_REACHABLE, .has_mac = true };
	struct nl_snapshot *s = NULL;

	nltables_init(&t, MEM_LAN_IFINDEX);
	t.present = true;
	memcpy(t.mac, mem_lan.router_mac, 6);
	t.mtu = 1500;
	memcpy(r4.dst, mem_lan.router_ip, 3);
	memcpy(d4.gw, mem_lan.gw_ip, 4);
	memcpy(r6.dst, mem_lan.router_ip6, 8);
	memcpy(a4.addr, mem_lan.router_ip, 4);
	memcpy(a6.addr, mem_lan.router_ip6, 16);
	memcpy(n4.addr, mem_lan.host_ip, 4);
	memcpy(n4.mac, mem_lan.host_mac, 6);
	memcpy(g4.addr, mem_lan.gw_ip, 4);
	memcpy(g4.mac, gw_mac, 6);
	memcpy(n6.addr, mem_lan.host_ip6, 16);
	memcpy(n6.mac, mem_lan.host_mac, 6);
	/* The upserts return NLT_* bits, or -ENOMEM. */
	if (nltables_route_upsert(&t, &r4, true) >= 0 && nltables_route_upsert(&t, &d4, true) >= 0 &&
	    nltables_route_upsert(&t, &r6, true) >= 0 && nltables_addr_upsert(&t, &a4) >= 0 &&
	    nltables_addr_upsert(&t, &a6) >= 0 && nltables_neigh_upsert(&t, &n4) >= 0 &&
	    nltables_neigh_upsert(&t, &g4) >= 0 && nltables_neigh_upsert(&t, &n6) >= 0)
		s = nl_snapshot_build(&t);
	nltables_free(&t);
	return s;
}

int mem_router_set_gw_mac(struct mem_router *r, const uint8_t mac[6])
{
	struct nl_snapshot *s = lan_snapshot(mac);

	if (!s)
		return -1;
	for (unsigned i = 0; i < r->nworkers; i++)
		r->cs[i]->nl_fixed = s;
	nl_snapshot_free(r->snap);
	r->snap = s;
	return 0;
}

static int device_init(struct mg_device *dev, const char *name, uint32_t mtu, unsigned nworkers)
{
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	snprintf(dev->ifname, sizeof(dev->ifname), "mem0");
	dev->ifindex = MEM_LAN_IFINDEX;
	dev->mtu = mtu;
	dev->tun_fd = -1;
	dev->epfd = -1;
	dev->rekey_after_time_ns = REKEY_AFTER_TIME_NS;
	dev->routes = mg_routeset_new((const struct mg_ipprefix[]){
		{ .family = AF_INET, .cidr = 24, .addr = { 192, 168, 77 } },
		{ .family = AF_INET6, .cidr = 64, .addr = { 0xfd, 0, 0, 0x77 } } }, 2, false);
	if (!dev->routes)
		return -1;
	allowedips_init(&dev->allowedips);
	index_table_init(&dev->index);
	atomic_store(&dev->listen_port, MEM_LISTEN_PORT);
	dev->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->wake_fd < 0 || nat_init(&dev->nat, nworkers) || flowtrack_init(&dev->flows, nworkers))
		return -1;
	nat_set_lan_flows(&dev->nat, &dev->flows);
	return 0;
}

static void identity_init(struct mem_router *r)
{
	uint8_t priv[32], pub[32];

	noise_generate_keypair(priv, pub);
	noise_static_identity_set(&r->identity, priv);
	sodium_memzero(priv, sizeof(priv));
}

int mem_router_init_workers(struct mem_router *r, const char *name, uint32_t mtu, unsigned n)
{
	memset(r, 0, sizeof(*r));
	if (!n || n > MEM_WORKERS_MAX)
		return -1;
	r->dev = calloc(1, sizeof(*r->dev));
	if (!r->dev || device_init(r->dev, name, mtu, n) || !(r->snap = lan_snapshot(mem_lan.gw_mac)))
		return -1;
	CDS_INIT_LIST_HEAD(&r->peers);
	identity_init(r);
	/* an array of whole cache lines (struct worker is aligned): no line shared between workers */
	r->w = aligned_alloc(MG_CACHELINE, n * sizeof(*r->w));
	if (!r->w)
		return -1;
	memset(r->w, 0, n * sizeof(*r->w));
	r->dev->workers = r->w;
	for (unsigned i = 0; i < n; i++) {
		struct worker *w = &r->w[i];

		w->dev = r->dev;
		w->id = i;
		r->nworkers = i + 1;
		if (io_mem_open(&w->port, i) || ring_init(&w->punt, PUNT_RING_SLOTS, sizeof(struct punt_msg)) ||
		    ring_init(&w->txq, TXREQ_RING_SLOTS, sizeof(struct txreq)))
			return -1;
		r->cs[i] = wk_ctx_new(w);
		if (!r->cs[i])
			return -1;
		r->cs[i]->nl_fixed = r->snap;
	}
	r->dev->nworkers = n;
	r->c = r->cs[0];
	return 0;
}

int mem_router_init(struct mem_router *r, const char *name, uint32_t mtu)
{
	return mem_router_init_workers(r, name, mtu, 1);
}

struct lookup {
	struct noise_handshake *far;     /* the far end's one handshake */
	struct peer *p;                  /* the device's peer */
};

static struct noise_handshake *lookup_far(void *ctx, const uint8_t key[32])
{
	(void)key;
	return ((struct lookup *)ctx)->far;
}

static struct noise_handshake *lookup_dev(void *ctx, uint32_t index)
{
	struct peer *p = ((struct lookup *)ctx)->p;

	return p->hs_entry.index == index ? &p->hs : NULL;
}

static int session(struct mem_router *r, struct peer *p, const uint8_t far_priv[32],
		   uint32_t far_index, struct noise_keypair *far_kp)
{
	struct noise_static_identity far_id;
	struct noise_handshake far_hs;
	struct lookup lk = { .far = &far_hs, .p = p };
	struct msg_initiation init;
	struct msg_response resp;
	struct keypair *kp = NULL;
	uint64_t now = mg_now();
	uint8_t ts[12];
	int ret = -1;

	noise_static_identity_set(&far_id, far_priv);
	noise_handshake_init(&far_hs, &far_id, r->identity.static_public, NULL);
	tai64n_now(ts);
	if (!noise_create_initiation(&r->identity, &p->hs, &init, p->hs_entry.index, ts) ||
	    noise_consume_initiation(&far_id, &init, lookup_far, &lk, now) != &far_hs ||
	    !noise_create_response(&far_hs, &resp, far_index) || !noise_derive_keypair(&far_hs, far_kp, now) ||
	    noise_consume_response(&r->identity, &resp, lookup_dev, &lk) != &p->hs)
		goto out;
	kp = keypair_new();
	if (!kp || !noise_derive_keypair(&p->hs, &kp->nk, now))
		goto out;
	replay_init(&kp->nk.replay);
	kp->entry.peer = p;
	index_replace(&r->dev->index, &p->hs_entry, &kp->entry);
	peer_install_keypair(&r->dev->index, p, kp);
	kp = NULL;
	if (mg_rcu_dereference(p->cur)->nk.remote_index == far_index &&
	    !memcmp(mg_rcu_dereference(p->cur)->nk.send_key, far_kp->recv_key, 32) &&
	    !memcmp(mg_rcu_dereference(p->cur)->nk.recv_key, far_kp->send_key, 32))
		ret = 0;
out:
	free(kp);
	sodium_memzero(&far_id, sizeof(far_id));
	sodium_memzero(&far_hs, sizeof(far_hs));
	return ret;
}

int mem_router_add_peer(struct mem_router *r, unsigned i, bool live, struct mem_far *far)
{
	struct mg_device *dev = r->dev;
	struct mg_endpoint ep = { .family = AF_INET, .port = MEM_FAR_PORT };
	uint8_t tun6[16] = { 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, [14] = (uint8_t)((i + 2) >> 8), (uint8_t)(i + 2) };
	uint8_t priv[32], pub[32];
	struct peer *p;
	int ret = -1;

	memset(far, 0, sizeof(*far));
	noise_generate_keypair(priv, pub);
	p = peer_new(pub);
	if (!p)
		goto out;
	noise_handshake_init(&p->hs, &r->identity, pub, NULL);
	if (index_insert(&dev->index, &p->hs_entry) || (live && session(r, p, priv, 0x1000 + i, &far->kp)))
		goto out;
	far->peer = p;
	memcpy(far->tun_ip, (uint8_t[]){ 100, 64, (uint8_t)((i + 2) >> 8), (uint8_t)(i + 2) }, 4);
	memcpy(far->ep_ip, (uint8_t[]){ 198, 51, (uint8_t)(100 + ((i + 1) >> 8)), (uint8_t)(i + 1) }, 4);
	memcpy(ep.addr, far->ep_ip, 4);
	peer_endpoint_set(p, &ep);
	if (allowedips_insert(&dev->allowedips, AF_INET, far->tun_ip, 32, p) ||
	    allowedips_insert(&dev->allowedips, AF_INET6, tun6, 128, p))
		goto out;
	cds_list_add_tail(&p->node, &r->peers);
	ret = 0;
out:
	sodium_memzero(priv, sizeof(priv));
	return ret;
}

int mem_router_free(struct mem_router *r)
{
	struct mg_device *dev = r->dev;
	struct peer *p;
	int ret = 0;

	for (unsigned i = 0; i < r->nworkers; i++) {
		struct worker *w = &r->w[i];

		wk_ctx_free(r->cs[i]);
		if (w->port.ops && w->port.ops->unaccounted(&w->port))
			ret = -1;
		if (w->port.ops)
			io_port_close(&w->port);
		ring_uninit(&w->punt);
		ring_uninit(&w->txq);
	}
	free(r->w);
	peer_list_for_each_safe(p, &r->peers) {
		cds_list_del(&p->node);
		allowedips_remove_by_peer(&dev->allowedips, p);
		peer_retire(&dev->index, p);
	}
	mg_rcu_barrier();
	allowedips_uninit(&dev->allowedips);
	nat_uninit(&dev->nat);
	flowtrack_uninit(&dev->flows);
	nl_snapshot_free(r->snap);
	close(dev->wake_fd);
	free(dev->routes);
	sodium_memzero(&r->identity, sizeof(r->identity));
	free(dev);
	memset(r, 0, sizeof(*r));
	return ret;
}
