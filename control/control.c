// SPDX-License-Identifier: GPL-2.0-only
/*
 * control.c - the control thread's epoll loop: signals (SIGINT/SIGTERM stop, SIGHUP re-reads the
 * config with `wg syncconf` semantics), the workers' wake eventfd (punted handshakes, neighbour
 * requests, key confirmations, handshake wishes), the timer tick, the TUN device (the router's
 * own traffic into the tunnel), and the UAPI socket, kernel-table mirror and /metrics, which hook
 * themselves in through evsource.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sodium.h>
#include <systemd/sd-daemon.h>
#include "control.h"
#include "ctldev.h"
#include "apply.h"
#include "handshake.h"
#include "timers.h"
#include "crypto/aead.h"
#include "uapi.h"
#include "evsource.h"
#include "config.h"
#include "config_sync.h"
#include "hsglue.h"
#include "headscale/hsendpoint.h"
#include "headscale/hsreload.h"
#include "addrfmt.h"
#include "metrics.h"
#include "netlink/nlmirror.h"
#include "wireguard/messages.h"

#define TICK_NS (20 * NSEC_PER_MSEC)

struct control {
	struct mg_ctl *dev;
	struct mg_config *cfg;
	int epfd, sigfd, tickfd;
	struct evsource sig_src, wake_src, tick_src, tun_src;
	uint64_t last_sweep_ns;
	uint64_t last_watchdog_ns;
	uint64_t watchdog_usec;         /* 0 = not supervised by a systemd watchdog */
	uint64_t *loops_seen;           /* per worker, at the last watchdog ping */
	struct hsglue *hs;              /* Headscale client, NULL without LoginServer */
	bool stop;
};

/* ---- UAPI glue ---------------------------------------------------------------------------- */

static void collect_ip(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct uapi_peer_view *v = ctx;
	struct mg_ipprefix *ip = &v->allowed_ips[v->n_allowed_ips++];

	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	ip->cidr = cidr;
	memcpy(ip->addr, addr, family == AF_INET ? 4 : 16);
}

static void count_ip(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	(void)family, (void)addr, (void)cidr;
	++*(size_t *)ctx;
}

static size_t count_ips(struct mg_ctl *dev, struct peer *p)
{
	size_t n = 0;

	allowedips_walk_by_peer(&dev->dp.allowedips, p, count_ip, &n);
	return n;
}

static int uapi_get(void *ctx, struct uapi_device_view *out)
{
	struct control *ctl = ctx;
	struct mg_ctl *dev = ctl->dev;
	struct peer *p;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	out->has_private_key = dev->identity.has_identity;
	memcpy(out->private_key, dev->identity.static_private, 32);
	out->listen_port = atomic_load(&dev->dp.listen_port);
	out->fwmark = dev->fwmark;
	out->name = hsglue_self_name(ctl->hs);
	out->peers = calloc(dev->npeers ? dev->npeers : 1, sizeof(*out->peers));
	if (!out->peers)
		return -ENOMEM;
	peer_list_for_each(p, &dev->peers) {
		struct uapi_peer_view *v = &out->peers[i++];
		uint64_t hs = atomic_load(&p->last_handshake_real_ns);
		size_t n = count_ips(dev, p);
		const struct hs_want_peer *tn = hsglue_peer_info(ctl->hs, p->public_key);

		memcpy(v->public_key, p->public_key, 32);
		memcpy(v->preshared_key, p->hs.preshared_key, 32);
		peer_endpoint_get(p, &v->endpoint);
		v->last_handshake_sec = hs / NSEC_PER_SEC;
		v->last_handshake_nsec = hs % NSEC_PER_SEC;
		v->rx_bytes = peer_rx_bytes(p);
		v->tx_bytes = peer_tx_bytes(p);
		v->persistent_keepalive = p->persistent_keepalive;
		if (tn) {
			v->name = tn->name;
			v->n_addresses = tn->n_own;
			v->addresses = tn->allowed;
		}
		v->allowed_ips = calloc(n ? n : 1, sizeof(*v->allowed_ips));
		if (!v->allowed_ips) {
			out->n_peers = i;
			return -ENOMEM;
		}
		allowedips_walk_by_peer(&dev->dp.allowedips, p, collect_ip, v);
	}
	out->n_peers = i;
	return 0;
}

static void uapi_get_release(void *ctx, struct uapi_device_view *v)
{
	(void)ctx;
	for (size_t i = 0; i < v->n_peers; i++)
		free(v->peers[i].allowed_ips);
	free(v->peers);
	sodium_memzero(v, sizeof(*v));
}

static int uapi_set(void *ctx, const struct mg_device_update *u)
{
	struct control *ctl = ctx;

	return dev_apply(ctl->dev, u, mg_now());
}

static void control_state(void *ctx, struct metrics_control *out)
{
	struct hsglue_status st;

	hsglue_get_status(ctx, &st);
	out->connected = st.connected;
	out->last_map_update_real_ns = st.last_map_update_ns;
	out->map_updates = st.map_updates;
	out->errors = st.errors;
	out->approved_routes = st.n_approved_routes;
	out->lite_maps = st.lite_maps;
	out->last_lite_map_real_ns = st.last_lite_map_ns;
	out->key_rotations = st.key_rotations;
	out->malformed_names = st.bad_names;
	out->preferred_derp = st.preferred_derp;
	out->n_endpoints = 0;
	for (size_t i = 0; i < st.endpoints.n && i < ARRAY_SIZE(out->endpoint); i++) {
		addrfmt_format_endpoint(out->endpoint[i], sizeof(out->endpoint[i]), &st.endpoints.ep[i]);
		out->endpoint_type[i] = hs_endpoint_type_name(st.endpoints.type[i]);
		out->n_endpoints++;
	}
	out->n_derp = 0;
	for (size_t i = 0; i < st.n_derp && i < ARRAY_SIZE(out->derp); i++) {
		const struct derp_region_status *r = &st.derp[i];

		out->derp[out->n_derp++] = (struct metrics_derp){
			.region = r->id, .up = r->up, .latency_ns = r->latency_ns, .connects = r->connects,
			.tx_packets = r->tx_packets, .rx_packets = r->rx_packets, .tx_dropped = r->tx_drops,
			.rate_limited = r->rate_limited,
		};
	}
	out->paths = (struct metrics_paths){
		.rx = { st.disco.rx_ping, st.disco.rx_pong, st.disco.rx_cmm },
		.tx = { st.disco.tx_ping, st.disco.tx_pong, st.disco.tx_cmm },
		.dropped = { st.disco.rx_unknown_key, st.disco.rx_bad_box, st.disco.rx_bad_msg,
			     st.disco.rx_ignored, st.disco.tx_fail, st.disco.pong_unmatched },
		.to_direct = st.relay.path_direct, .to_relay = st.relay.path_relay,
		.peers_direct = st.relay.peers_direct, .peers_relay = st.relay.peers_relay,
	};
}

static const struct uapi_ops uapi_ops = {
	.get = uapi_get, .get_release = uapi_get_release, .set = uapi_set,
};

/* ---- SIGHUP: `wg syncconf` with the file, plus `tailscale set --advertise-*` ------------------ */

/* Keys read at start only: said loudly, and everything else in the file still applies. */
static void report_restart_keys(const struct mg_config *run, const struct mg_config *fresh)
{
	const char *keys[HS_RELOAD_KEYS_MAX];
	size_t n = hs_reload_restart_keys(run, fresh, keys, HS_RELOAD_KEYS_MAX);

	for (size_t i = 0; i < n && i < HS_RELOAD_KEYS_MAX; i++)
		fprintf(stderr, "meshgate: reload: %s changed in %s; restart to apply\n", keys[i], fresh->path);
}

/*
 * New advertised routes: published to the workers, and the old set freed after every worker
 * passed a quiescent state, so a removed route forwards nothing from the moment this returns
 * (its packets drop as no_route). The running config takes the file's routes, which Hostinfo
 * copies next.
 */
static int routes_apply(struct control *ctl, struct mg_config *fresh)
{
	struct mg_config *run = ctl->cfg;
	struct mg_routeset *next;
	struct mg_ipprefix *r;
	size_t n;
	bool exit_node;

	next = mg_routeset_new(fresh->advertise_routes, fresh->n_routes, fresh->advertise_exit_node);
	if (!next)
		return -ENOMEM;
	dataplane_publish_routes(&ctl->dev->dp, next);
	r = run->advertise_routes, n = run->n_routes, exit_node = run->advertise_exit_node;
	run->advertise_routes = fresh->advertise_routes, run->n_routes = fresh->n_routes;
	run->advertise_exit_node = fresh->advertise_exit_node;
	fresh->advertise_routes = r, fresh->n_routes = n, fresh->advertise_exit_node = exit_node;
	fprintf(stderr, "meshgate: reload: advertising %zu route%s%s\n", run->n_routes,
		run->n_routes == 1 ? "" : "s", run->advertise_exit_node ? " and the exit node" : "");
	return 0;
}

static void reload(struct control *ctl)
{
	struct mg_ctl *dev = ctl->dev;
	struct mg_config fresh;
	struct mg_device_update u;
	uint8_t (*keys)[32];
	struct peer *p;
	size_t n = 0;
	char err[512];

	if (config_load(&fresh, ctl->cfg->path, err, sizeof(err))) {
		fprintf(stderr, "meshgate: reload failed, keeping the running config: %s\n", err);
		return;
	}
	report_restart_keys(ctl->cfg, &fresh);
	if (hs_reload_routes_changed(ctl->cfg, &fresh) && routes_apply(ctl, &fresh))
		fprintf(stderr, "meshgate: reload: AdvertiseRoutes: out of memory; the old routes stay\n");
	hsglue_set_hostinfo(ctl->hs, ctl->cfg);     /* routes, exit node, host name: a lite request */
	if (fresh.accept_routes != ctl->cfg->accept_routes) {
		ctl->cfg->accept_routes = fresh.accept_routes;
		hsglue_set_accept_routes(ctl->hs, fresh.accept_routes);
		fprintf(stderr, "meshgate: reload: AcceptRoutes = %s\n", fresh.accept_routes ? "true" : "false");
	}
	keys = calloc(dev->npeers ? dev->npeers : 1, 32);
	if (!keys)
		goto out;
	/* Peers that came from Headscale are not the file's to remove. */
	peer_list_for_each(p, &dev->peers)
		if (!ctl->hs || !hsglue_owns(ctl->hs, p->public_key))
			memcpy(keys[n++], p->public_key, 32);
	if (fresh.filter_file[0] && dev_load_filter_file(dev, fresh.filter_file, err, sizeof(err)))
		fprintf(stderr, "meshgate: reload: FilterFile: %s (the previous filter stays)\n", err);
	if (!config_sync_update(&fresh, (const uint8_t (*)[32])keys, n, &u)) {
		int ret = dev_apply(dev, &u, mg_now());

		fprintf(stderr, "meshgate: reloaded %s (%s)\n", fresh.path, ret ? strerror(-ret) : "ok");
		devconf_update_free(&u);
	}
	free(keys);
out:
	config_free(&fresh);
}

/* ---- event sources ------------------------------------------------------------------------ */

static void on_signal(struct evsource *src, uint32_t events)
{
	struct control *ctl = container_of(src, struct control, sig_src);
	struct signalfd_siginfo si;

	(void)events;
	while (read(ctl->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(ctl);
		else
			ctl->stop = true;
	}
}

static void drain_punts(struct control *ctl, uint64_t now)
{
	struct mg_ctl *dev = ctl->dev;

	for (unsigned i = 0; i < dev->dp.nworkers; i++) {
		struct ring *r = &dev->dp.workers[i].punt;
		struct punt_msg *m;

		/* A deep queue means a handshake flood: answer with cookies for the next second. */
		if (ring_count(r) >= PUNT_UNDER_LOAD)
			dev->under_load_until_ns = now + NSEC_PER_SEC;
		for (unsigned budget = PUNT_RING_SLOTS; budget && (m = ring_peek(r)); budget--) {
			if (m->kind == PUNT_HANDSHAKE)
				hs_receive(dev, m, now);
			else if (m->kind == PUNT_RESOLVE)
				nlmirror_resolve(dev->dp.nl, m->src.family, m->src.addr);
			else
				hsglue_punt(ctl->hs, m, now);    /* disco, STUN: only with Headscale */
			ring_release(r);
		}
	}
}

static void on_wake(struct evsource *src, uint32_t events)
{
	struct control *ctl = container_of(src, struct control, wake_src);
	uint64_t v, now = mg_now();

	(void)events;
	if (read(ctl->dev->dp.wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	drain_punts(ctl, now);
	timers_tick(ctl->dev, now);
}

/*
 * systemd watchdog: fed at half its period, and only while every worker's loop counter moves, so
 * a wedged worker (not just a live control thread) gets the service restarted.
 */
static void watchdog(struct control *ctl, uint64_t now)
{
	struct mg_ctl *dev = ctl->dev;

	if (!ctl->watchdog_usec || now - ctl->last_watchdog_ns < ctl->watchdog_usec * 1000 / 2)
		return;
	ctl->last_watchdog_ns = now;
	for (unsigned i = 0; i < dev->dp.nworkers; i++) {
		uint64_t loops = dev->dp.workers[i].ctr.loops;

		if (loops == ctl->loops_seen[i])
			return;
		ctl->loops_seen[i] = loops;
	}
	sd_notify(0, "WATCHDOG=1");
}

static void on_tick(struct evsource *src, uint32_t events)
{
	struct control *ctl = container_of(src, struct control, tick_src);
	uint64_t v, now = mg_now();

	(void)events;
	if (read(ctl->tickfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	drain_punts(ctl, now);
	timers_tick(ctl->dev, now);
	hsglue_tick(ctl->hs, now);
	ratelimiter_gc(&ctl->dev->ratelimiter, now);
	watchdog(ctl, now);
	if (now - ctl->last_sweep_ns >= NSEC_PER_SEC) {
		ctl->last_sweep_ns = now;
		nat_expire(&ctl->dev->dp.nat, now);
	}
}

/* The router's own packets for the tailnet: handed to worker 0 to be sealed like any other. */
static void on_tun(struct evsource *src, uint32_t events)
{
	struct control *ctl = container_of(src, struct control, tun_src);
	struct mg_ctl *dev = ctl->dev;
	struct ring *q = &dev->dp.workers[0].txq;

	(void)events;
	for (unsigned budget = 64; budget; budget--) {
		struct txreq *r = ring_reserve(q);
		uint8_t scratch[TXREQ_DATA_MAX];
		ssize_t n = read(dev->dp.tun_fd, r ? r->data : scratch, TXREQ_DATA_MAX);

		if (n <= 0)
			return;
		if (!r)
			continue;      /* worker queue full: the packet is dropped, TCP will resend */
		r->kind = TXREQ_PLAIN;
		r->len = (uint16_t)n;
		ring_commit(q);
	}
}

void control_block_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, mask, NULL);
}

static int setup_fds(struct control *ctl)
{
	struct itimerspec its = { .it_interval.tv_nsec = TICK_NS, .it_value.tv_nsec = TICK_NS };
	sigset_t mask;

	control_block_signals(&mask);
	ctl->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	ctl->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ctl->sigfd < 0 || ctl->tickfd < 0 || timerfd_settime(ctl->tickfd, 0, &its, NULL))
		return -errno;
	ctl->sig_src.cb = on_signal;
	ctl->wake_src.cb = on_wake;
	ctl->tick_src.cb = on_tick;
	ctl->tun_src.cb = on_tun;
	if (evsource_add(ctl->epfd, ctl->sigfd, EPOLLIN, &ctl->sig_src) ||
	    evsource_add(ctl->epfd, ctl->tickfd, EPOLLIN, &ctl->tick_src) ||
	    evsource_add(ctl->epfd, ctl->dev->dp.wake_fd, EPOLLIN, &ctl->wake_src) ||
	    (ctl->dev->dp.tun_fd >= 0 && evsource_add(ctl->epfd, ctl->dev->dp.tun_fd, EPOLLIN, &ctl->tun_src)))
		return -errno;
	return 0;
}

int control_run(struct mg_ctl *dev, struct mg_config *cfg)
{
	struct control ctl = { .dev = dev, .cfg = cfg, .epfd = dev->dp.epfd, .sigfd = -1, .tickfd = -1 };
	struct uapi *uapi = NULL;
	struct metrics *metrics = NULL;
	int ret;

	ret = setup_fds(&ctl);
	if (ret)
		goto out;
	ret = uapi_init(&uapi, dev->dp.name, ctl.epfd, &uapi_ops, &ctl);
	if (ret) {
		fprintf(stderr, "meshgate: UAPI socket for %s: %s\n", dev->dp.name, strerror(-ret));
		goto out;
	}
	if (cfg->metrics_listen[0]) {
		ret = metrics_init(&metrics, dev, cfg->metrics_listen, ctl.epfd);
		if (ret) {
			fprintf(stderr, "meshgate: metrics on %s: %s\n", cfg->metrics_listen, strerror(-ret));
			goto out_uapi;
		}
	}
	ret = hsglue_init(&ctl.hs, dev, cfg, ctl.epfd);
	if (ret) {
		fprintf(stderr, "meshgate: Headscale client for %s: %s\n", cfg->login_server, strerror(-ret));
		goto out_metrics;
	}
	if (ctl.hs && metrics)
		metrics_set_control(metrics, control_state, ctl.hs);
	if (sd_watchdog_enabled(0, &ctl.watchdog_usec) <= 0)
		ctl.watchdog_usec = 0;
	ctl.loops_seen = calloc(dev->dp.nworkers ? dev->dp.nworkers : 1, sizeof(*ctl.loops_seen));
	if (!ctl.loops_seen)
		ctl.watchdog_usec = 0;
	sd_notify(0, "READY=1");
	fprintf(stderr, "meshgate: %s running on %s (%u queue%s, crypto %s)\n", dev->dp.name, dev->dp.ifname,
		dev->dp.nworkers, dev->dp.nworkers == 1 ? "" : "s", aead_backend_name());
	while (!ctl.stop) {
		struct epoll_event ev[16];
		int n;

		mg_rcu_thread_offline();
		n = epoll_wait(ctl.epfd, ev, 16, 1000);
		mg_rcu_thread_online();
		for (int i = 0; i < n; i++) {
			struct evsource *src = ev[i].data.ptr;

			src->cb(src, ev[i].events);
		}
		mg_rcu_quiescent_state();
	}
	ret = 0;
	sd_notify(0, "STOPPING=1");
	free(ctl.loops_seen);
	hsglue_uninit(ctl.hs);
out_metrics:
	metrics_uninit(metrics);
out_uapi:
	uapi_uninit(uapi);
out:
	if (ctl.sigfd >= 0)
		close(ctl.sigfd);
	if (ctl.tickfd >= 0)
		close(ctl.tickfd);
	return ret;
}
