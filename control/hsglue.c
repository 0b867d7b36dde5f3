// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsglue.c - hsclient -> device. Keys live in StateDir (machine.key, node.key, disco.key; 0600,
 * refused if others can read them). The last applied peer table is kept
 * in StateDir/netmap.json with the packet filter in force and applied at start, before Headscale
 * answers, so an outage that spans a restart still forwards - only what that filter allows, and
 * nothing if no filter ever came (the device starts allow-none: apply.c dev_filter_init). The
 * DERP map goes to StateDir/derpmap.json (for `meshgate netcheck`), and DERP and STUN start from
 * it too.
 *
 * Ownership: @owned is exactly the set of keys this module put into the device and has not
 * removed since. A key that exists in the device but is not owned is a static [Peer]: Headscale
 * never touches it, even when the netmap names the same key.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "config.h"
#include "ctldev.h"
#include "apply.h"
#include "handshake.h"
#include "headscale/hsclient.h"
#include "headscale/hskey.h"
#include "hsglue.h"
#include "headscale/hsfilter.h"
#include "headscale/hswant_file.h"
#include "headscale/hsderpmap.h"
#include "headscale/hsreload.h"
#include "headscale/hsendpoint.h"
#include "disco/disco.h"
#include "stun.h"
#include "derpmap.h"
#include "derp_relay.h"

#define NETMAP_FILE "netmap.json"
#define EP_CHECK_NS     (1ull * NSEC_PER_SEC)    /* endpoint set recomputed this often */
#define EP_SETTLE_NS    (1ull * NSEC_PER_SEC)    /* ...and published once stable this long */
#define STUN_STALE_NS   (60ull * NSEC_PER_SEC)   /* a mapped address older than this is dropped */

struct hsglue {
	struct mg_ctl *dev;
	const struct mg_config *cfg;
	struct hs_client client;
	struct hs_route_opts opts;
	struct hs_want owned;            /* what we applied last */
	json_t *filter;                  /* the PacketFilter rules in force; NULL = none received */
	struct hsglue_status st;
	struct disco *disco;             /* answers peers' disco pings; our key is in the MapRequest */
	struct stun *stun;
	struct derp_relay *relay;        /* DERP client + relay data path + disco path choice */
	uint8_t disco_priv[32];          /* until disco_init takes it */
	/* Lite map requests: the set computed last, since when, and what went out. */
	struct hs_endpoints eps_seen, eps_published;
	uint64_t eps_seen_ns, eps_next_check_ns;
	int derp_published;
	int home_derp;                   /* the DERP client's home region; 0 = not chosen */
	/* STUN targets with addresses in the map, and the lookup of those named only by HostName. */
	struct mg_endpoint stun_srv[STUN_SERVERS_MAX];
	size_t n_stun_srv;
	struct hs_resolve_batch *stun_resolving;
	int derp_first;                  /* fallback: the map's first region (hsderpmap.h) */
	/* Hostinfo: what the client holds (its routes owned here), and a SIGHUP's
	 * change waiting out the same settle time as endpoints before it goes out. */
	struct hs_hostinfo hi_cur, hi_next;
	bool hi_pending;
	uint64_t hi_changed_ns;
};

int hsglue_node_private_key(const struct mg_config *cfg, uint8_t out[32])
{
	char err[512];
	int ret = hskey_load_or_create(out, cfg->state_dir, "node.key", err, sizeof(err));

	if (ret)
		fprintf(stderr, "meshgate: headscale: %s\n", err);
	return ret;
}

static void set_error(struct hsglue *g, const char *msg)
{
	snprintf(g->st.last_error, sizeof(g->st.last_error), "%s", msg);
	g->st.errors++;
	fprintf(stderr, "meshgate: headscale: %s\n", msg);
}

static void save_state(struct hsglue *g)
{
	if (hs_want_save(&g->owned, g->filter, g->cfg->state_dir, NETMAP_FILE))
		set_error(g, "could not save " NETMAP_FILE " in StateDir");
}

/* The DERP map for `meshgate netcheck`, which Headscale gives only inside the map stream. */
static void save_derp_map(struct hsglue *g, const struct hs_netmap *nm)
{
	int ret = nm->derp_regions ? derp_map_save(nm->derp_regions, g->cfg->state_dir) : 0;

	if (ret) {
		char msg[160];

		snprintf(msg, sizeof(msg), "could not save " DERPMAP_FILE " in StateDir: %s", strerror(-ret));
		set_error(g, msg);
	}
}

/* Compiles @rules (a reference, consumed) and puts them in force; on a malformed filter the
 * previous one stays. True if they are in force. */
static bool set_filter(struct hsglue *g, json_t *rules)
{
	char err[160] = "";
	struct filter *f = hs_filter_compile(rules, err, sizeof(err));

	if (!f) {
		json_decref(rules);
		set_error(g, err);
		return false;
	}
	dev_set_filter(g->dev, f);
	g->st.filter_rules = f->n_rules;
	json_decref(g->filter);
	g->filter = rules;
	return true;
}

/* Applies @next (consumed) as the new owned set. */
static void apply_want(struct hsglue *g, struct hs_want *next)
{
	struct mg_device_update u;
	size_t i;
	int ret;

	for (i = 0; i < next->n;) {
		const uint8_t *k = next->peers[i].key;
		bool owned = false;
		size_t j;

		for (j = 0; j < g->owned.n && !owned; j++)
			owned = !memcmp(g->owned.peers[j].key, k, 32);
		if (!owned && dev_peer_find(g->dev, k))
			hs_want_drop(next, k);       /* a static peer wins */
		else
			i++;
	}
	if (hs_want_diff(&g->owned, next, &u)) {
		hs_want_free(next);
		return set_error(g, "out of memory building the peer update");
	}
	ret = u.n_peers ? dev_apply(g->dev, &u, mg_now()) : 0;
	devconf_update_free(&u);
	if (ret) {
		char msg[96];

		snprintf(msg, sizeof(msg), "applying the netmap failed: %s", strerror(-ret));
		hs_want_free(next);
		return set_error(g, msg);
	}
	hs_want_free(&g->owned);
	g->owned = *next;
	g->st.n_peers = g->owned.n;
	save_state(g);
}

/* Is the peer with this node key in the map? (Linear: maps hold tens to hundreds of peers.) */
static bool in_map(const struct hs_netmap *nm, const uint8_t key[32])
{
	for (size_t j = 0; j < nm->n_peers; j++)
		if (!memcmp(nm->peers[j].key, key, 32))
			return true;
	return false;
}

/* Disco learns every peer's disco key and endpoints from the map; peers gone from it are forgotten. */
static void disco_sync(struct hsglue *g, const struct hs_netmap *nm)
{
	for (size_t i = 0; i < g->owned.n; i++)
		if (!in_map(nm, g->owned.peers[i].key))
			disco_peer_remove(g->disco, g->owned.peers[i].key);
	for (size_t j = 0; j < nm->n_peers; j++)
		disco_peer_set(g->disco, nm->peers[j].key, nm->peers[j].disco, nm->peers[j].endpoints,
			       nm->peers[j].n_endpoints);
}

/* DERP (room derp): the relay learns the DERP map and every peer's home region and disco
 * capability; it keeps the home region connected and steers disco peers between DERP and a
 * direct path proven by disco. */
static void derp_sync_map(struct hsglue *g, const struct hs_netmap *nm)
{
	if (!g->relay || !nm->derp_regions)
		return;
	derp_relay_set_map(g->relay, nm->derp_regions, mg_now());
	hsglue_set_home_derp(g, derp_relay_home(g->relay));    /* PreferredDERP */
}

static void derp_sync_peers(struct hsglue *g, const struct hs_netmap *nm)
{
	static const uint8_t zero[32];

	if (!g->relay)
		return;
	for (size_t i = 0; i < g->owned.n; i++)
		if (!in_map(nm, g->owned.peers[i].key))
			derp_relay_peer_remove(g->relay, g->owned.peers[i].key);
	for (size_t j = 0; j < nm->n_peers; j++)
		derp_relay_peer_set(g->relay, nm->peers[j].key, nm->peers[j].home_derp,
				    memcmp(nm->peers[j].disco, zero, 32) != 0);
}

/* The endpoints we publish are the ones a CallMeMaybe (sent through DERP) lists. */
static void derp_sync_self_endpoints(struct hsglue *g)
{
	disco_set_self_endpoints(g->disco, g->eps_published.ep, g->eps_published.n);
}

/* STUN round trips to the DERP map's STUN servers choose the home region. */
static void derp_on_stun_rtt(void *arg, const struct mg_endpoint *server, const struct mg_endpoint *mapped,
			     uint64_t rtt_ns, uint64_t now)
{
	struct hsglue *g = arg;

	(void)mapped;                    /* stun_mapped() has the latest; only the round trip is used */
	derp_relay_note_stun(g->relay, server, rtt_ns, now);
}

/* The home region moves with latency and fail-over: publish what the DERP client uses now. */
static void derp_sync_home(struct hsglue *g)
{
	int home = derp_relay_home(g->relay);

	if (home)
		hsglue_set_home_derp(g, home);
}

static int derp_start(struct hsglue *g, int epfd)
{
	/* DERPCAFile, else MESHGATE_DERP_CA_FILE (tests with a private CA), else the system store. */
	const char *ca = g->cfg->derp_ca_file[0] ? g->cfg->derp_ca_file : getenv("MESHGATE_DERP_CA_FILE");
	int ret = derp_relay_init(&g->relay, g->dev, g->disco, epfd, ca);

	if (!ret)
		stun_set_rtt_hook(g->stun, derp_on_stun_rtt, g);
	return ret;
}

/* A pong proved a direct path: send WireGuard there (roaming would find it too, on traffic). */
static void on_disco_path(void *arg, const uint8_t node_key[32], const struct mg_endpoint *ep)
{
	struct hsglue *g = arg;
	struct peer *p = dev_peer_find(g->dev, node_key);

	if (p)
		peer_endpoint_set(p, ep);
}

/* A new DERPMap: its STUN targets now; names are looked up off the thread (stun_resolve_tick). */
static void stun_sync_map(struct hsglue *g, const struct hs_netmap *nm)
{
	struct hs_stun_names names;

	g->n_stun_srv = hs_derpmap_stun_servers(nm->derp_regions, g->stun_srv, STUN_SERVERS_MAX, &names);
	stun_set_servers(g->stun, g->stun_srv, g->n_stun_srv);
	g->derp_first = hs_derpmap_first_region(nm->derp_regions);
	hs_resolve_free(g->stun_resolving);
	g->stun_resolving = NULL;
	if (names.n && hs_resolve_start(&g->stun_resolving, names.name, names.port, names.n))
		set_error(g, "could not start resolving the DERP map's STUN host names");
}

static void stun_resolve_tick(struct hsglue *g)
{
	struct mg_endpoint all[STUN_SERVERS_MAX];
	size_t n = 0;

	if (!g->stun_resolving ||
	    !hs_resolve_poll(g->stun_resolving, all + g->n_stun_srv, STUN_SERVERS_MAX - g->n_stun_srv, &n))
		return;
	memcpy(all, g->stun_srv, g->n_stun_srv * sizeof(all[0]));
	stun_set_servers(g->stun, all, g->n_stun_srv + n);
	hs_resolve_free(g->stun_resolving);
	g->stun_resolving = NULL;
}

static void on_netmap(void *arg, const struct hs_netmap *nm, const struct hs_map_events *ev)
{
	struct hsglue *g = arg;
	struct hs_want next;
	bool filter_new = false;
	size_t i;

	if (!ev->keepalive) {
		g->st.map_updates++;
		g->st.last_map_update_ns = mg_realtime();
	}
	if (ev->bad_names) {
		fprintf(stderr, "meshgate: headscale: %u node(s) in the map with a malformed Name (not a DNS name"
			" of at most %u characters): routed, but shown without a name\n", ev->bad_names, NODENAME_MAX);
		g->st.bad_names += ev->bad_names;
	}
	if (ev->self_changed && nm->has_self) {
		g->st.n_self_addresses = 0;
		for (i = 0; i < nm->self.n_addresses && i < HSGLUE_SELF_MAX; i++)
			g->st.self_addresses[g->st.n_self_addresses++] = nm->self.addresses[i];
		g->st.n_approved_routes = nm->self.n_primary;
		/* The addresses Headscale assigned become the TUN's (and local delivery's). */
		if (g->st.n_self_addresses &&
		    dev_set_addresses(g->dev, g->st.self_addresses, g->st.n_self_addresses))
			set_error(g, "could not assign the tailnet addresses to the TUN device");
	}
	if (ev->filter_changed)
		filter_new = set_filter(g, hs_netmap_filter(nm));
	if (ev->peers_changed && g->disco)
		disco_sync(g, nm);
	if (ev->derp_changed)
		derp_sync_map(g, nm);
	if (ev->peers_changed)
		derp_sync_peers(g, nm);
	if (ev->derp_changed) {
		stun_sync_map(g, nm);
		save_derp_map(g, nm);
	}
	/* Keep-alives rebuild too (cheap): a KeyExpiry may have passed since the last map. */
	if (!ev->peers_changed && !ev->self_changed && !ev->keepalive && nm->n_maps > 1) {
		if (filter_new)
			save_state(g);           /* apply_want saves otherwise */
		return;
	}
	if (hs_want_build(&next, nm, &g->opts, (int64_t)(mg_realtime() / NSEC_PER_SEC)))
		return set_error(g, "out of memory building the peer table");
	apply_want(g, &next);
}

static void on_status(void *arg, bool up, const char *error)
{
	struct hsglue *g = arg;

	g->st.connected = up;
	if (error)
		set_error(g, error);
	else
		fprintf(stderr, "meshgate: headscale: connected\n");
}

/* NodeKeyExpired: a fresh key; the device keeps the old one until the server registered this. */
static int on_rotate(void *arg, uint8_t new_priv[32])
{
	(void)arg;
	hskey_generate(new_priv);
	return 0;
}

/* Registered: persist it, then swap the device's private key as `wg set private-key` would
 * (peers stay; sessions re-handshake under the new identity). */
static int on_key_registered(void *arg, const uint8_t new_priv[32])
{
	struct hsglue *g = arg;
	struct mg_device_update u = { .listen_port = -1, .fwmark = -1, .has_private_key = true };
	int ret;

	ret = hskey_store(new_priv, g->cfg->state_dir, "node.key");
	if (ret)
		return ret;
	memcpy(u.private_key, new_priv, 32);
	ret = dev_apply(g->dev, &u, mg_now());
	sodium_memzero(u.private_key, 32);
	if (!ret) {
		g->st.key_rotations++;
		fprintf(stderr, "meshgate: headscale: node key rotated\n");
	}
	return ret;
}

static const struct hs_client_ops client_ops = {
	.netmap = on_netmap, .status = on_status, .rotate_node_key = on_rotate,
	.node_key_registered = on_key_registered,
};

/* Hostname (the system's, else the device name) and RoutableIPs, with the routes copied: the
 * running config's arrays change under SIGHUP. 0 or -ENOMEM. */
static int hostinfo_from_config(struct hs_hostinfo *hi, const struct mg_config *cfg)
{
	memset(hi, 0, sizeof(*hi));
	if (gethostname(hi->hostname, sizeof(hi->hostname) - 1) || !hi->hostname[0])
		snprintf(hi->hostname, sizeof(hi->hostname), "%s", cfg->name);
	if (cfg->n_routes) {
		struct mg_ipprefix *r = malloc(cfg->n_routes * sizeof(*r));

		if (!r)
			return -ENOMEM;
		memcpy(r, cfg->advertise_routes, cfg->n_routes * sizeof(*r));
		hi->routes = r;
	}
	hi->n_routes = cfg->n_routes;
	hi->exit_node = cfg->advertise_exit_node;
	return 0;
}

static void hostinfo_free(struct hs_hostinfo *hi)
{
	free((void *)hi->routes);
	hi->routes = NULL;
	hi->n_routes = 0;
}

static int load_config(struct hsglue *g, struct hs_client_cfg *cc)
{
	const struct mg_config *cfg = g->cfg;
	char err[512];
	uint8_t disco[32];
	int ret;

	snprintf(cc->login_server, sizeof(cc->login_server), "%s", cfg->login_server);
	/* The client reads AuthKeyFile when it logs in, and keeps its login in StateDir. */
	snprintf(cc->auth_key_file, sizeof(cc->auth_key_file), "%s", cfg->auth_key_file);
	snprintf(cc->state_dir, sizeof(cc->state_dir), "%s", cfg->state_dir);
	if ((ret = hskey_load_or_create(cc->machine_priv, cfg->state_dir, "machine.key", err, sizeof(err)))) {
		fprintf(stderr, "meshgate: headscale: %s\n", err);
		return ret;
	}
	if ((ret = hsglue_node_private_key(cfg, cc->node_priv)))
		return ret;
	/* Kept in StateDir like the other keys, where tailscaled makes a new one per start: a router
	 * restarted while the control server is down (which would announce a new key) stays the
	 * disco peer its peers know, so their pings still open and direct paths come back. */
	if ((ret = hskey_load_or_create(disco, cfg->state_dir, "disco.key", err, sizeof(err)))) {
		fprintf(stderr, "meshgate: headscale: %s\n", err);
		return ret;
	}
	hskey_public(cc->disco_pub, disco);
	memcpy(g->disco_priv, disco, sizeof(disco));
	sodium_memzero(disco, sizeof(disco));
	if ((ret = hostinfo_from_config(&g->hi_cur, cfg)))
		return ret;
	cc->hostinfo = g->hi_cur;
	cc->ca_file = getenv("MESHGATE_HEADSCALE_CA_FILE");     /* tests with a private CA */
	return 0;
}

/* The DERP map saved with the last one Headscale sent: DERP and STUN need no Headscale (its
 * DERP servers may well be up while it is down), so the relay and STUN start from it; the first
 * map from Headscale replaces it. No file (a first start): nothing to do. */
static void restore_derp_map(struct hsglue *g)
{
	struct hs_netmap nm = { 0 };
	char path[PATH_MAX], err[180];

	if (snprintf(path, sizeof(path), "%s/%s", g->cfg->state_dir, DERPMAP_FILE) >= (int)sizeof(path) ||
	    access(path, F_OK))
		return;
	nm.derp_regions = derp_map_load(path, err, sizeof(err));
	if (!nm.derp_regions) {
		char msg[240];

		snprintf(msg, sizeof(msg), "ignoring the saved DERP map: %s", err);
		set_error(g, msg);
		return;
	}
	fprintf(stderr, "meshgate: headscale: DERP and STUN start from the saved DERP map (%zu regions)\n",
		json_object_size(nm.derp_regions));
	derp_sync_map(g, &nm);
	stun_sync_map(g, &nm);
	json_decref(nm.derp_regions);
}

/* The table saved before the last shutdown, applied before Headscale answers. */
static void restore(struct hsglue *g)
{
	struct hs_want saved;
	json_t *rules;
	int ret = hs_want_load(&saved, &rules, g->cfg->state_dir, NETMAP_FILE);

	if (ret) {
		set_error(g, "ignoring unreadable " NETMAP_FILE " in StateDir (the start-up filter stays until Headscale answers)");
		return;
	}
	if (saved.n)
		fprintf(stderr, "meshgate: headscale: restoring %zu peers from the last netmap (%s)\n", saved.n,
			rules ? "with its packet filter" : "no packet filter saved: nothing admitted until Headscale sends one");
	/* The filter before the peers: they must never meet the allow-all of no filter. */
	if (rules)
		set_filter(g, rules);
	/* The addresses Headscale assigned last time serve until it answers again. */
	if (saved.n_self) {
		g->st.n_self_addresses = 0;
		for (size_t i = 0; i < saved.n_self && i < HSGLUE_SELF_MAX; i++)
			g->st.self_addresses[g->st.n_self_addresses++] = saved.self[i];
		if (dev_set_addresses(g->dev, g->st.self_addresses, g->st.n_self_addresses))
			set_error(g, "could not assign the saved tailnet addresses to the TUN device");
	}
	/* Disco and the relay learn the saved peers too: a peer that had a direct path keeps it only if
	 * its disco pings are answered, and Headscale's DERP may be down with Headscale. */
	for (size_t i = 0; i < saved.n; i++) {
		const struct hs_want_peer *p = &saved.peers[i];

		if (!sodium_is_zero(p->disco, 32))
			disco_peer_set(g->disco, p->key, p->disco, &p->endpoint, p->has_endpoint);
		if (g->relay)
			derp_relay_peer_set(g->relay, p->key, p->home_derp, !sodium_is_zero(p->disco, 32));
	}
	apply_want(g, &saved);
}

/* Disco and STUN leave through the WireGuard port like handshakes (a worker's TX queue). */
static bool dev_send_udp(void *arg, const struct mg_endpoint *dst, const void *pkt, uint16_t len)
{
	return ctl_send_udp(arg, dst, pkt, len);
}

static bool dev_node_key(void *arg, uint8_t out[32])
{
	struct mg_ctl *dev = arg;

	if (!dev->identity.has_identity)
		return false;
	memcpy(out, dev->identity.static_public, 32);
	return true;
}

int hsglue_init(struct hsglue **out, struct mg_ctl *dev, const struct mg_config *cfg, int epfd)
{
	const struct disco_ops disco_ops = { .send_udp = dev_send_udp, .node_key = dev_node_key, .arg = dev };
	struct hs_client_cfg cc;
	struct hsglue *g;
	int ret;

	*out = NULL;
	if (!cfg->login_server[0])
		return 0;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->dev = dev;
	g->cfg = cfg;
	g->opts.accept_routes = cfg->accept_routes;
	memset(&cc, 0, sizeof(cc));
	ret = load_config(g, &cc);
	if (ret)
		goto err_free;
	ret = disco_init(&g->disco, &disco_ops, g->disco_priv);
	sodium_memzero(g->disco_priv, sizeof(g->disco_priv));
	if (ret || (ret = stun_init(&g->stun, dev_send_udp, dev)))
		goto err_free;
	disco_set_path_cb(g->disco, on_disco_path, g);
	if ((ret = derp_start(g, epfd)))
		goto err_free;
	restore(g);
	restore_derp_map(g);
	ret = hs_client_start(&g->client, &cc, epfd, &client_ops, g);
	sodium_memzero(&cc, sizeof(cc));
	if (ret) {
		fprintf(stderr, "meshgate: headscale: LoginServer %s: %s\n", cfg->login_server, strerror(-ret));
		goto err_free;
	}
	*out = g;
	return 0;
err_free:
	sodium_memzero(&cc, sizeof(cc));
	derp_relay_uninit(g->relay);
	stun_uninit(g->stun);
	disco_uninit(g->disco);
	hs_want_free(&g->owned);
	json_decref(g->filter);
	hostinfo_free(&g->hi_cur);
	sodium_memzero(g, sizeof(*g));
	free(g);
	return ret;
}

void hsglue_uninit(struct hsglue *g)
{
	if (!g)
		return;
	hs_client_stop(&g->client);
	hs_resolve_free(g->stun_resolving);
	derp_relay_uninit(g->relay);
	stun_uninit(g->stun);
	disco_uninit(g->disco);
	hs_want_free(&g->owned);
	json_decref(g->filter);
	hostinfo_free(&g->hi_cur);
	hostinfo_free(&g->hi_next);
	free(g);
}

void hsglue_get_status(const struct hsglue *g, struct hsglue_status *out)
{
	if (!g) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = g->st;
	out->errors = g->client.errors;
	out->lite_maps = g->client.lite_ok;
	out->last_lite_map_ns = g->client.lite_last_ns;
	out->endpoints = g->eps_published;
	out->preferred_derp = g->derp_published;
	out->n_derp = g->relay ? derp_relay_regions(g->relay, out->derp, HSGLUE_DERP_MAX) : 0;
	if (g->disco)
		disco_get_stats(g->disco, &out->disco);
	derp_relay_get_stats(g->relay, &out->relay);
}

const struct hs_want_peer *hsglue_peer_info(const struct hsglue *g, const uint8_t key[32])
{
	return g ? hs_want_find(&g->owned, key) : NULL;
}

const char *hsglue_self_name(const struct hsglue *g)
{
	return g ? g->owned.self_name : "";
}

bool hsglue_owns(const struct hsglue *g, const uint8_t key[32])
{
	size_t i;

	for (i = 0; g && i < g->owned.n; i++)
		if (!memcmp(g->owned.peers[i].key, key, 32))
			return true;
	return false;
}

void hsglue_punt(struct hsglue *g, const struct punt_msg *m, uint64_t now)
{
	if (!g)
		return;
	if (m->kind == PUNT_DISCO)
		disco_receive(g->disco, m, now);
	else if (m->kind == PUNT_STUN)
		stun_receive(g->stun, m->data, m->len, now);
	else if (m->kind == PUNT_DERP_TX)
		derp_relay_punt(g->relay, m, now);
}

/* Configured (type 5), STUN-mapped (2), interface addresses with our port (1). */
static void endpoints_now(struct hsglue *g, struct hs_endpoints *s, uint64_t now)
{
	const struct mg_config *cfg = g->cfg;
	uint16_t port = atomic_load_explicit(&g->dev->dp.listen_port, memory_order_relaxed);
	struct mg_endpoint mapped;
	bool have_mapped;
	size_t i;

	memset(s, 0, sizeof(*s));
	have_mapped = stun_mapped(g->stun, &mapped) && now - stun_mapped_at(g->stun) < STUN_STALE_NS;
	for (i = 0; i < cfg->n_public_endpoints; i++)
		hs_endpoints_add(s, &cfg->public_endpoints[i], HS_EP_CONFIGURED);
	if (have_mapped && cfg->forwarded_port && mapped.family == AF_INET) {
		struct mg_endpoint fwd = mapped;

		fwd.port = cfg->forwarded_port;      /* the gateway forwards this port to us */
		hs_endpoints_add(s, &fwd, HS_EP_CONFIGURED);
	}
	if (have_mapped)
		hs_endpoints_add(s, &mapped, HS_EP_STUN);
	if (port)
		hs_endpoints_add_local(s, port, cfg->name);
}

/*
 * Debounced: the set is recomputed every second and published once it has stayed the same for
 * EP_SETTLE_NS, so a burst (answers from several STUN servers, addresses coming up) costs one
 * lite request. Home DERP: the DERP client's region, else the map's first (until it lands).
 */
static void publish_tick(struct hsglue *g, uint64_t now)
{
	struct hs_endpoints cur;
	int derp = g->home_derp ? g->home_derp : g->derp_first;

	if (now < g->eps_next_check_ns)
		return;
	g->eps_next_check_ns = now + EP_CHECK_NS;
	endpoints_now(g, &cur, now);
	if (!hs_endpoints_equal(&cur, &g->eps_seen)) {
		g->eps_seen = cur;
		g->eps_seen_ns = now;
	}
	if (now - g->eps_seen_ns < EP_SETTLE_NS && g->eps_seen_ns)
		return;
	if (hs_endpoints_equal(&g->eps_seen, &g->eps_published) && derp == g->derp_published)
		return;
	g->eps_published = g->eps_seen;
	g->derp_published = derp;
	hs_client_publish(&g->client, &g->eps_published, derp);
}

/* A Hostinfo change that stayed put for EP_SETTLE_NS goes to the client (a lite request). */
static void hostinfo_tick(struct hsglue *g, uint64_t now)
{
	struct hs_hostinfo old;

	if (!g->hi_pending || now - g->hi_changed_ns < EP_SETTLE_NS)
		return;
	g->hi_pending = false;
	old = g->hi_cur;
	g->hi_cur = g->hi_next;                  /* the client borrows hi_cur's routes from here on */
	memset(&g->hi_next, 0, sizeof(g->hi_next));
	hs_client_set_hostinfo(&g->client, &g->hi_cur);
	hostinfo_free(&old);
	fprintf(stderr, "meshgate: headscale: Hostinfo changed (%zu routes%s); sending it to %s\n",
		g->hi_cur.n_routes, g->hi_cur.exit_node ? " + exit node" : "", g->cfg->login_server);
}

static bool hostinfo_equal(const struct hs_hostinfo *a, const struct hs_hostinfo *b)
{
	return !strcmp(a->hostname, b->hostname) && a->exit_node == b->exit_node &&
	       hs_reload_prefixes_equal(a->routes, a->n_routes, b->routes, b->n_routes);
}

bool hsglue_set_hostinfo(struct hsglue *g, const struct mg_config *cfg)
{
	struct hs_hostinfo hi;

	if (!g || hostinfo_from_config(&hi, cfg))
		return false;
	if (hostinfo_equal(&hi, g->hi_pending ? &g->hi_next : &g->hi_cur)) {
		hostinfo_free(&hi);
		return false;
	}
	hostinfo_free(&g->hi_next);
	g->hi_next = hi;
	if (hostinfo_equal(&hi, &g->hi_cur)) {           /* changed back before it went out */
		hostinfo_free(&g->hi_next);
		g->hi_pending = false;
		return true;
	}
	g->hi_pending = true;
	g->hi_changed_ns = mg_now();
	return true;
}

bool hsglue_set_accept_routes(struct hsglue *g, bool accept)
{
	struct hs_want next;

	if (!g || g->opts.accept_routes == accept)
		return false;
	g->opts.accept_routes = accept;
	if (!g->client.nm.n_maps)
		return true;                     /* the first map is built with it */
	if (hs_want_build(&next, &g->client.nm, &g->opts, (int64_t)(mg_realtime() / NSEC_PER_SEC)))
		set_error(g, "out of memory building the peer table");
	else
		apply_want(g, &next);            /* peers' subnet routes come or go; sessions stay */
	return true;
}

void hsglue_set_home_derp(struct hsglue *g, int region)
{
	if (g)
		g->home_derp = region;       /* publish_tick sends it on its next round */
}

void hsglue_tick(struct hsglue *g, uint64_t now)
{
	if (!g)
		return;
	disco_tick(g->disco, now);
	derp_sync_self_endpoints(g);
	derp_relay_tick(g->relay, now);
	derp_sync_home(g);
	/* A subnet router must stay reachable without traffic of its own: STUN while connected. */
	stun_resolve_tick(g);
	stun_tick(g->stun, now, g->st.connected);
	publish_tick(g, now);
	hostinfo_tick(g, now);
}
