// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsprobe.c - runs meshgate's Headscale client (control/headscale) alone in an epoll loop and
 * prints one JSON line per event, so tests can drive it against the test control server:
 *   {"event":"status","up":true|false,"error":"..."}
 *   {"event":"map","maps":N,"self":[...],"want":[{"key","allowed","endpoint"}],"update":[...]}
 * Usage: hsprobe URL STATE_DIR AUTHKEY|@AUTHKEYFILE [SECONDS] [ROUTE...]
 * HSPROBE_PUBLISH="ADDR:PORT/TYPE,...;DERP" (environment): once connected, publish these
 * endpoints and home region with hs_client_publish (a lite MapRequest), event "published";
 * with HSPROBE_PUBLISH_EARLY set, right after start instead (not streaming yet: no lite request,
 * the stream's MapRequest carries them).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <jansson.h>
#include <sodium.h>
#include "addrfmt.h"
#include "hsclient.h"
#include "hskey.h"
#include "hswant.h"

static struct hs_want prev;
static volatile sig_atomic_t stop;
static bool up;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static json_t *prefixes(const struct mg_ipprefix *p, size_t n)
{
	json_t *a = json_array();
	char buf[ADDRFMT_PREFIX_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		addrfmt_format_prefix(buf, sizeof(buf), &p[i]);
		json_array_append_new(a, json_string(buf));
	}
	return a;
}

/* An update's allowed IPs as the UAPI writes them: "-prefix" for a removal. */
static json_t *allowed_ips(const struct mg_allowed_ip *p, size_t n)
{
	json_t *a = json_array();
	char buf[ADDRFMT_PREFIX_MAX + 1];
	size_t i;

	for (i = 0; i < n; i++) {
		buf[0] = '-';
		addrfmt_format_prefix(buf + 1, sizeof(buf) - 1, &p[i].p);
		json_array_append_new(a, json_string(buf + !p[i].remove));
	}
	return a;
}

/* Takes @allowed. */
static json_t *peer_json(const uint8_t key[32], json_t *allowed, bool has_ep, const struct mg_endpoint *ep,
			 bool remove)
{
	char k[HSKEY_TEXT_MAX], e[ADDRFMT_ENDPOINT_MAX];
	json_t *o;

	hskey_format(k, "nodekey:", key);
	o = json_pack("{s:s}", "key", k);
	if (remove) {
		json_decref(allowed);
		json_object_set_new(o, "remove", json_true());
		return o;
	}
	json_object_set_new(o, "allowed", allowed);
	if (has_ep) {
		addrfmt_format_endpoint(e, sizeof(e), ep);
		json_object_set_new(o, "endpoint", json_string(e));
	}
	return o;
}

static void emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	printf("%s\n", s);
	fflush(stdout);
	free(s);
	json_decref(o);
}

static void on_netmap(void *arg, const struct hs_netmap *nm, const struct hs_map_events *ev)
{
	struct hs_route_opts opts = { 0 };
	struct hs_want next;
	struct mg_device_update u;
	json_t *o, *want, *upd;
	size_t i;

	(void)arg;
	if (ev->keepalive)
		return;
	want = json_array();
	upd = json_array();
	if (hs_want_build(&next, nm, &opts, (int64_t)time(NULL)) || hs_want_diff(&prev, &next, &u))
		exit(2);
	for (i = 0; i < next.n; i++)
		json_array_append_new(want, peer_json(next.peers[i].key,
						      prefixes(next.peers[i].allowed, next.peers[i].n_allowed),
						      next.peers[i].has_endpoint, &next.peers[i].endpoint, false));
	for (i = 0; i < u.n_peers; i++)
		json_array_append_new(upd, peer_json(u.peers[i].public_key,
						     allowed_ips(u.peers[i].allowed_ips, u.peers[i].n_allowed_ips),
						     u.peers[i].has_endpoint, &u.peers[i].endpoint, u.peers[i].remove));
	o = json_pack("{s:s, s:I, s:o, s:o, s:o}", "event", "map", "maps", (json_int_t)nm->n_maps,
		      "self", prefixes(nm->self.addresses, nm->self.n_addresses), "want", want, "update", upd);
	emit(o);
	devconf_update_free(&u);
	hs_want_free(&prev);
	prev = next;
}

static void on_status(void *arg, bool is_up, const char *error)
{
	(void)arg;
	emit(json_pack("{s:s, s:b, s:s}", "event", "status", "up", is_up, "error", error ? error : ""));
	up = is_up;
}

static int on_rotate(void *arg, uint8_t new_priv[32])
{
	(void)arg;
	hskey_generate(new_priv);
	emit(json_pack("{s:s}", "event", "rotate"));
	return 0;
}

/* As the device does: the registered key replaces node.key in StateDir (@arg). */
static int on_key_registered(void *arg, const uint8_t new_priv[32])
{
	char k[HSKEY_TEXT_MAX];
	uint8_t pub[32];
	int ret = hskey_store(new_priv, arg, "node.key");

	if (ret)
		return ret;
	hskey_public(pub, new_priv);
	hskey_format(k, "nodekey:", pub);
	emit(json_pack("{s:s, s:s}", "event", "rotated", "key", k));
	return 0;
}

static const struct hs_client_ops ops = {
	.netmap = on_netmap, .status = on_status, .rotate_node_key = on_rotate,
	.node_key_registered = on_key_registered,
};

/* HSPROBE_PUBLISH="1.2.3.4:41641/5,[2001:db8::1]:41641/1;999" */
static void publish(struct hs_client *c, const char *spec)
{
	struct hs_endpoints eps = { 0 };
	char buf[1024], *save = NULL, *tok, *derp;
	struct mg_endpoint ep;

	snprintf(buf, sizeof(buf), "%s", spec);
	derp = strchr(buf, ';');
	if (derp)
		*derp++ = '\0';
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *t = strrchr(tok, '/');

		if (!t)
			continue;
		*t++ = '\0';
		if (!addrfmt_parse_endpoint(&ep, tok, false))
			hs_endpoints_add(&eps, &ep, (enum hs_ep_type)atoi(t));
	}
	emit(json_pack("{s:s, s:b}", "event", "published",
		       "lite", hs_client_publish(c, &eps, derp ? atoi(derp) : 0)));
}

int main(int argc, char **argv)
{
	struct hs_client_cfg cfg = { 0 };
	struct mg_ipprefix routes[8];
	struct hs_client c;
	uint8_t disco[32];
	char err[512];
	const char *pub_spec;
	time_t end;
	int epfd, i;

	if (argc < 4 || sodium_init() < 0)
		return fprintf(stderr, "usage: hsprobe URL STATE_DIR AUTHKEY|@AUTHKEYFILE [SECONDS] [ROUTE...]\n"), 1;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_term);     /* exit through the normal teardown, so leak checkers see it */
	snprintf(cfg.login_server, sizeof(cfg.login_server), "%s", argv[1]);
	/* "@PATH": an AuthKeyFile, read by the client when it logs in; otherwise the key itself. */
	if (argv[3][0] == '@')
		snprintf(cfg.auth_key_file, sizeof(cfg.auth_key_file), "%s", argv[3] + 1);
	else
		snprintf(cfg.auth_key, sizeof(cfg.auth_key), "%s", argv[3]);
	snprintf(cfg.state_dir, sizeof(cfg.state_dir), "%s", argv[2]);
	if (hskey_load_or_create(cfg.machine_priv, argv[2], "machine.key", err, sizeof(err)) ||
	    hskey_load_or_create(cfg.node_priv, argv[2], "node.key", err, sizeof(err)))
		return fprintf(stderr, "%s\n", err), 1;
	hskey_generate(disco);
	hskey_public(cfg.disco_pub, disco);
	cfg.ca_file = getenv("MESHGATE_HEADSCALE_CA_FILE");
	snprintf(cfg.hostinfo.hostname, sizeof(cfg.hostinfo.hostname), "hsprobe");
	for (i = 5; i < argc && i - 5 < 8; i++)
		if (addrfmt_parse_prefix(&routes[i - 5], argv[i]))
			return fprintf(stderr, "bad route %s\n", argv[i]), 1;
	cfg.hostinfo.routes = routes;
	cfg.hostinfo.n_routes = argc > 5 ? (size_t)(argc - 5) : 0;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (hs_client_start(&c, &cfg, epfd, &ops, argv[2]))
		return fprintf(stderr, "hs_client_start failed\n"), 1;
	end = time(NULL) + (argc > 4 ? atoi(argv[4]) : 30);
	pub_spec = getenv("HSPROBE_PUBLISH");
	if (pub_spec && getenv("HSPROBE_PUBLISH_EARLY")) {
		publish(&c, pub_spec);
		pub_spec = NULL;
	}
	while (!stop && time(NULL) < end) {
		if (up && pub_spec) {
			publish(&c, pub_spec);
			pub_spec = NULL;
		}
		struct epoll_event ev[16];
		int n = epoll_wait(epfd, ev, 16, 200), k;

		for (k = 0; k < n; k++) {
			struct evsource *src = ev[k].data.ptr;

			src->cb(src, ev[k].events);
		}
	}
	hs_client_stop(&c);
	hs_want_free(&prev);
	close(epfd);
	return 0;
}
