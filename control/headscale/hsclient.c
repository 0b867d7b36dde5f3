// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsclient.c - sequencing of the control protocol (TS
 * control/controlclient/direct.go doLogin/sendMapRequest). One timerfd serves four purposes,
 * one at a time: the backoff wait, the connect deadline, the map watchdog, and the deferred
 * close after a failure (a connection is never torn down inside its own callbacks).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/timerfd.h>
#include <sodium.h>
#include "hskey.h"
#include "hsclient.h"
#include "hslogin.h"
#include "hszstd.h"
#include "mg.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void arm(struct hs_client *c, uint64_t ms)
{
	struct itimerspec its = { 0 };

	/* 0 would disarm: the deferred close uses the smallest delay instead. */
	its.it_value.tv_sec = (time_t)(ms / 1000);
	its.it_value.tv_nsec = (long)(ms % 1000) * 1000000L + (ms ? 0 : 1);
	timerfd_settime(c->tfd, 0, &its, NULL);
}

static void set_connected(struct hs_client *c, bool up, const char *err)
{
	if (err)
		snprintf(c->last_error, sizeof(c->last_error), "%s", err);
	if (c->connected == up && !err)
		return;
	c->connected = up;
	c->ops->status(c->arg, up, err);
}

/* Any failure: note it, then close from the timer (we may be deep inside nghttp2 now). */
static void fail(struct hs_client *c, const char *fmt, const char *detail)
{
	char msg[256];

	if (c->state == HS_C_CLOSING || c->state == HS_C_STOPPED)
		return;
	snprintf(msg, sizeof(msg), fmt, detail ? detail : "");
	c->errors++;
	c->state = HS_C_CLOSING;
	set_connected(c, false, msg);
	arm(c, 0);
}

static void close_all(struct hs_client *c)
{
	if (c->key_fetch_live)
		hs_fetch_free(&c->key_fetch);
	if (c->ping_fetch_live)
		hs_fetch_free(&c->ping_fetch);
	if (c->conn_live)
		hs_conn_close(&c->conn);
	c->key_fetch_live = c->ping_fetch_live = c->conn_live = false;
	free(c->reg_body);
	c->reg_body = NULL;
	c->reg_len = 0;
	c->reg_stream = c->map_stream = c->lite_stream = 0;
	hs_mapframe_reset(&c->frame);
}

/* --- /key ------------------------------------------------------------------------------------ */

static void start_connect(struct hs_client *c);

static void on_key(void *arg, struct hs_fetch *f, int status, const char *body, size_t len, const char *why)
{
	struct hs_client *c = arg;
	char err[200], st[16];

	(void)f;
	if (status < 0)
		return fail(c, "GET /key: %s", why);
	if (status != 200) {
		snprintf(st, sizeof(st), "%d", status);
		return fail(c, "GET /key: HTTP %s", st);
	}
	if (hs_req_parse_key(body, len, c->server_pub, err, sizeof(err)))
		return fail(c, "%s", err);
	c->have_server_pub = true;
	/* The fetch is freed from the timer path; connect now on a fresh socket. */
	start_connect(c);
}

static void start_key(struct hs_client *c)
{
	char url[1200];
	int ret;

	snprintf(url, sizeof(url), "%s://%s%s%s:%u/key?v=%d", c->url_tls ? "https" : "http",
		 strchr(c->host, ':') ? "[" : "", c->host, strchr(c->host, ':') ? "]" : "", c->port, HS_CAPVER);
	c->state = HS_C_KEY;
	arm(c, HS_CONNECT_TIMEOUT_S * 1000);
	ret = hs_fetch_start(&c->key_fetch, c->epfd, c->tls, "GET", url, on_key, c);
	c->key_fetch_live = true;
	if (ret)
		fail(c, "GET /key: %s", strerror(-ret));
}

/* --- login ---------------------------------------------------------------------------------- */

/*
 * A login is due. The pre-auth key is read now, not at start: it may have been emptied since the
 * join (and is not needed then) or replaced by a fresh one after an expiry. false after fail()
 * when the login cannot succeed.
 */
static bool login_ready(struct hs_client *c)
{
	char why[300];
	int ret;

	if (c->cfg.auth_key_file[0]) {
		ret = hs_login_read_authkey(c->cfg.auth_key_file, c->cfg.auth_key, sizeof(c->cfg.auth_key));
		if (ret) {
			snprintf(why, sizeof(why), "%.200s: %s", c->cfg.auth_key_file, strerror(-ret));
			fail(c, "login: AuthKeyFile %s", why);
			return false;
		}
	}
	/*
	 * No key, no registration: a new node would only be offered an interactive login, and
	 * Headscale 0.27 takes a registration without Auth from a known node without expiry as a
	 * logout (it sets the node's expiry and tells every peer).
	 */
	if (!c->cfg.auth_key[0]) {
		fail(c, c->need_new_key ? "node key expired: a new login needs a fresh pre-auth key in AuthKeyFile%s" :
			"login: no pre-auth key (AuthKeyFile is empty)%s", NULL);
		return false;
	}
	return true;
}

/* The node key is no longer registered: expired (a new one is needed), or unknown to the server. */
static void logout(struct hs_client *c, bool need_new_key)
{
	c->registered = false;
	c->need_new_key = need_new_key;
	if (hs_login_forget(c->cfg.state_dir))
		c->errors++;
}

/* A new node key for the login; the old one keeps the device serving until the server took it. */
static int begin_rotation(struct hs_client *c)
{
	uint8_t next[32];

	if (!c->ops->rotate_node_key || c->ops->rotate_node_key(c->arg, next))
		return -1;
	memcpy(c->old_node_priv, c->cfg.node_priv, 32);
	memcpy(c->cfg.node_priv, next, 32);
	sodium_memzero(next, sizeof(next));
	c->rotating = true;
	return 0;
}

/* --- HTTP/2 streams ------------------------------------------------------------------------- */

static void submit_register(struct hs_client *c)
{
	uint8_t pub[32], old[32];
	char *body;

	if (c->need_new_key && !c->rotating && begin_rotation(c))
		return fail(c, "login: could not make a new node key%s", NULL);
	hskey_public(pub, c->cfg.node_priv);
	if (c->rotating)
		hskey_public(old, c->old_node_priv);
	body = hs_req_register(pub, c->rotating ? old : NULL, c->cfg.auth_key, &c->cfg.hostinfo);
	if (!body)
		return fail(c, "register: out of memory%s", NULL);
	c->state = HS_C_REGISTER;
	c->reg_status = 0;
	c->reg_stream = hs_conn_request(&c->conn, "POST", "/machine/register", body, strlen(body));
	free(body);
	if (c->reg_stream < 0)
		fail(c, "register: %s", strerror(-c->reg_stream));
}

static void submit_map(struct hs_client *c)
{
	uint8_t pub[32];
	char *body;

	hskey_public(pub, c->cfg.node_priv);
	body = hs_req_map(pub, c->cfg.disco_pub, true, &c->cfg.hostinfo, &c->eps, c->zstd);
	c->sent_eps = c->eps;
	c->sent_derp = c->cfg.hostinfo.preferred_derp;
	c->hostinfo_stale = false;
	if (!body)
		return fail(c, "map: out of memory%s", NULL);
	c->state = HS_C_MAP;
	c->map_status = 0;
	hs_mapframe_reset(&c->frame);
	/* Each stream starts with a full map; rebuild from scratch. */
	hs_netmap_free(&c->nm);
	hs_netmap_init(&c->nm);
	c->map_stream = hs_conn_request(&c->conn, "POST", "/machine/map", body, strlen(body));
	free(body);
	if (c->map_stream < 0)
		return fail(c, "map: %s", strerror(-c->map_stream));
	c->last_msg_ns = mono_ns();
	arm(c, HS_WATCHDOG_S * 1000);
}

static void on_ready(void *arg)
{
	struct hs_client *c = arg;

	if (c->key_fetch_live) {
		hs_fetch_free(&c->key_fetch);     /* done with it; not inside its callback any more */
		c->key_fetch_live = false;
	}
	if (c->registered)
		submit_map(c);
	else
		submit_register(c);
}

static void on_failed(void *arg, const char *why)
{
	struct hs_client *c = arg;

	/* A Noise failure may mean the server key changed: fetch it again next time. */
	if (c->state == HS_C_CONNECT && strstr(why, "Noise"))
		c->have_server_pub = false;
	fail(c, "control connection: %s", why);
}

static void on_response(void *arg, int32_t stream, int status)
{
	struct hs_client *c = arg;

	if (stream == c->reg_stream)
		c->reg_status = status;
	else if (stream == c->map_stream)
		c->map_status = status;
	else if (stream == c->lite_stream)
		c->lite_status = status;
}

static void on_ping_done(void *arg, struct hs_fetch *f, int status, const char *body, size_t len, const char *why)
{
	struct hs_client *c = arg;

	(void)f;
	(void)body;
	(void)len;
	(void)why;
	(void)status;
	/* Freed lazily: the next ping or close frees it (we are inside its callback). */
	(void)c;
}

static void answer_ping(struct hs_client *c, const struct hs_map_events *ev)
{
	char host[256], path[512];
	uint16_t port;
	bool tls;

	/* A repeat of the last URL is ignored (direct.go answerPing). */
	if (!strcmp(ev->ping_url, c->last_ping_url))
		return;
	snprintf(c->last_ping_url, sizeof(c->last_ping_url), "%s", ev->ping_url);
	if (ev->ping_is_noise) {
		if (!hs_url_parse(ev->ping_url, &tls, host, sizeof(host), &port, path, sizeof(path)))
			hs_conn_request(&c->conn, "HEAD", path, NULL, 0);
		return;
	}
	if (c->ping_fetch_live)
		hs_fetch_free(&c->ping_fetch);
	c->ping_fetch_live = true;
	if (hs_fetch_start(&c->ping_fetch, c->epfd, c->tls, "HEAD", ev->ping_url, on_ping_done, c))
		c->errors++;
}

static bool send_lite(struct hs_client *c);

/* Our own node key expired (self Node "Expired" or KeyExpiry passed by the server's clock): the
 * next registration gets NodeKeyExpired and rotates it. */
static bool self_expired(const struct hs_netmap *nm, int64_t now)
{
	return nm->has_self && (nm->self.expired ||
				(nm->self.key_expiry && nm->self.key_expiry <= now + nm->clock_delta));
}

static int on_map_msg(void *arg, const uint8_t *msg, size_t len)
{
	struct hs_client *c = arg;
	struct hs_map_events ev;
	char err[256], *plain = NULL;
	int ret;

	c->last_msg_ns = mono_ns();
	arm(c, HS_WATCHDOG_S * 1000);
	/* With Compress="zstd" every message is a frame; tell by the magic, JSON starts with '{'. */
	if (hs_zstd_is_frame(msg, len)) {
		ret = hs_zstd_decode(msg, len, HS_MAPFRAME_MAX, &plain, &len);
		if (ret) {
			fail(c, "map: zstd: %s", strerror(-ret));
			return ret;
		}
		msg = (const uint8_t *)plain;
	}
	ret = hs_netmap_apply(&c->nm, (const char *)msg, len, (int64_t)time(NULL), &ev, err, sizeof(err));
	free(plain);
	if (ret) {
		fail(c, "map: %s", err);
		return ret;
	}
	if (ev.self_changed && self_expired(&c->nm, (int64_t)time(NULL))) {
		/* tailscaled: an expired key needs a new login, with a new node key (doLogin regen). */
		logout(c, true);
		fail(c, "map: our node key expired; logging in again with a new node key%s", NULL);
		return -EKEYEXPIRED;
	}
	if (!c->connected && c->nm.has_self) {
		c->backoff_ms = 0;
		set_connected(c, true, NULL);
		send_lite(c);            /* news that came after our MapRequest went out */
	}
	if (ev.ping)
		answer_ping(c, &ev);
	if (!ev.keepalive)
		c->maps++;
	/* Keep-alives too: time passes, and a peer's KeyExpiry may have come. */
	c->ops->netmap(c->arg, &c->nm, &ev);
	return 0;
}

static void on_data(void *arg, int32_t stream, const uint8_t *data, size_t len)
{
	struct hs_client *c = arg;

	if (c->state == HS_C_CLOSING)
		return;
	if (stream == c->map_stream && c->map_status == 200) {
		int ret = hs_mapframe_feed(&c->frame, data, len, on_map_msg, c);

		if (ret == -EMSGSIZE || ret == -ENOMEM)
			fail(c, "map: %s", strerror(-ret));
		return;
	}
	if (stream == c->reg_stream || stream == c->map_stream) {
		/* Register body, or an error body of the map request: keep up to 64 KiB. */
		char *nb;

		if (c->reg_len + len > HS_FETCH_MAX)
			return;
		nb = realloc(c->reg_body, c->reg_len + len + 1);
		if (!nb)
			return;
		memcpy(nb + c->reg_len, data, len);
		c->reg_len += len;
		nb[c->reg_len] = '\0';
		c->reg_body = nb;
	}
}

/* The login succeeded: remembered in StateDir, so later connections go straight to the map. */
static void logged_in(struct hs_client *c)
{
	uint8_t pub[32];
	int ret;

	c->registered = true;
	c->need_new_key = false;
	hskey_public(pub, c->cfg.node_priv);
	ret = hs_login_store(c->cfg.state_dir, c->cfg.login_server, pub);
	if (ret) {
		c->errors++;
		snprintf(c->last_error, sizeof(c->last_error), "StateDir/" HS_LOGIN_FILE ": %s", strerror(-ret));
	}
}

static void registered(struct hs_client *c)
{
	struct hs_register_result r;
	char st[300];

	if (c->reg_status != 200) {
		snprintf(st, sizeof(st), "HTTP %d: %.200s", c->reg_status, c->reg_body ? c->reg_body : "");
		return fail(c, "register: %s", st);
	}
	hs_req_parse_register(c->reg_body ? c->reg_body : "", c->reg_len, &r);
	free(c->reg_body);
	c->reg_body = NULL;
	c->reg_len = 0;
	if (r.error[0])
		return fail(c, "register refused: %s", r.error);
	if (r.node_key_expired && !c->rotating && c->ops->rotate_node_key) {
		if (begin_rotation(c))
			return fail(c, "register: node key expired and rotation failed%s", NULL);
		return submit_register(c);
	}
	if (r.node_key_expired)
		return fail(c, "register: node key expired%s", NULL);
	if (r.auth_url[0])
		return fail(c, "register: interactive login required (%s); put a pre-auth key in AuthKeyFile", r.auth_url);
	if (!r.machine_authorized)
		return fail(c, "register: machine not authorized%s", NULL);
	if (c->rotating) {
		if (c->ops->node_key_registered && c->ops->node_key_registered(c->arg, c->cfg.node_priv))
			return fail(c, "register: could not install the rotated node key%s", NULL);
		sodium_memzero(c->old_node_priv, 32);
		c->rotations++;
	}
	c->rotating = false;
	logged_in(c);
	submit_map(c);
}

static void on_closed(void *arg, int32_t stream, uint32_t h2_error)
{
	struct hs_client *c = arg;
	char st[300];

	if (c->state == HS_C_CLOSING)
		return;
	if (stream == c->reg_stream && c->state == HS_C_REGISTER) {
		if (h2_error)
			return fail(c, "register: stream reset%s", NULL);
		return registered(c);
	}
	if (stream == c->lite_stream && stream) {
		/* Headscale answers a lite request with an empty 200. */
		c->lite_stream = 0;
		if (!h2_error && c->lite_status == 200) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			c->lite_ok++;
			c->lite_last_ns = (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
		} else {
			c->errors++;
			snprintf(c->last_error, sizeof(c->last_error), "lite map request: HTTP %d", c->lite_status);
		}
		return;
	}
	if (stream == c->map_stream) {
		snprintf(st, sizeof(st), "HTTP %d%s%.200s", c->map_status, c->reg_body ? ": " : "",
			 c->reg_body ? c->reg_body : "");
		/* Headscale's answer for a node key it does not know (deleted node, reset database). */
		if (c->map_status == 404 && c->registered) {
			logout(c, false);
			return fail(c, "map: %s; the server does not know our node key: logging in again", st);
		}
		fail(c, "map stream ended: %s", st);
	}
}

static const struct hs_conn_ops conn_ops = {
	.ready = on_ready, .failed = on_failed, .response = on_response, .data = on_data, .closed = on_closed,
};

static void start_connect(struct hs_client *c)
{
	int ret;

	c->state = HS_C_CONNECT;
	arm(c, HS_CONNECT_TIMEOUT_S * 1000);
	ret = hs_conn_open(&c->conn, c->epfd, c->host, c->port, c->url_tls ? c->tls : NULL, HS_CAPVER,
			   c->cfg.machine_priv, c->server_pub, &conn_ops, c);
	c->conn_live = !ret;
	if (ret)
		fail(c, "connect: %s", strerror(-ret));
}

static void start(struct hs_client *c)
{
	if (!c->registered && !login_ready(c))
		return;
	if (c->have_server_pub)
		start_connect(c);
	else
		start_key(c);
}

static void on_timer(struct evsource *src, uint32_t events)
{
	struct hs_client *c = container_of(src, struct hs_client, timer_src);
	uint64_t n;

	(void)events;
	if (read(c->tfd, &n, sizeof(n)) != sizeof(n))
		return;
	switch (c->state) {
	case HS_C_BACKOFF:
		start(c);
		break;
	case HS_C_CLOSING:
		close_all(c);
		c->state = HS_C_BACKOFF;
		/* Exponential backoff with +-25% jitter, reset by a live map stream. */
		c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : HS_BACKOFF_MIN_MS;
		if (c->backoff_ms > HS_BACKOFF_MAX_MS)
			c->backoff_ms = HS_BACKOFF_MAX_MS;
		arm(c, c->backoff_ms * 3 / 4 + randombytes_uniform((uint32_t)c->backoff_ms / 2 + 1));
		break;
	case HS_C_MAP:
		if (mono_ns() - c->last_msg_ns >= (uint64_t)HS_WATCHDOG_S * NSEC_PER_SEC)
			fail(c, "map: no message for 120 s (watchdog)%s", NULL);
		else
			arm(c, HS_WATCHDOG_S * 1000);
		break;
	case HS_C_KEY:
	case HS_C_CONNECT:
	case HS_C_REGISTER:
		fail(c, "control server: timed out%s", NULL);
		break;
	default:
		break;
	}
}

int hs_client_start(struct hs_client *c, const struct hs_client_cfg *cfg, int epfd,
		    const struct hs_client_ops *ops, void *arg)
{
	char path[512];
	uint8_t pub[32];

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->ops = ops;
	c->arg = arg;
	c->epfd = epfd;
	if (hs_url_parse(cfg->login_server, &c->url_tls, c->host, sizeof(c->host), &c->port, path, sizeof(path)))
		return -EINVAL;
	/* Also for an http:// server (then optional): /key may redirect to https, and a
	 * PingRequest may name an https URL. */
	c->tls = hs_tls_ctx_new(cfg->ca_file);
	if (c->url_tls && !c->tls)
		return -ENOMEM;
	c->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	c->timer_src.cb = on_timer;
	if (c->tfd < 0 || evsource_add(epfd, c->tfd, EPOLLIN, &c->timer_src)) {
		if (c->tfd >= 0)
			close(c->tfd);
		SSL_CTX_free(c->tls);
		return -errno;
	}
	hs_netmap_init(&c->nm);
	hskey_public(pub, cfg->node_priv);
	c->registered = hs_login_is_registered(cfg->state_dir, cfg->login_server, pub);
	c->zstd = hs_zstd_available();
	c->state = HS_C_BACKOFF;
	arm(c, 0);
	return 0;
}

void hs_client_stop(struct hs_client *c)
{
	close_all(c);
	evsource_del(c->epfd, c->tfd);
	close(c->tfd);
	SSL_CTX_free(c->tls);
	hs_netmap_free(&c->nm);
	sodium_memzero(&c->cfg, sizeof(c->cfg));
	sodium_memzero(c->old_node_priv, 32);
	c->state = HS_C_STOPPED;
}

/* A lite MapRequest if the server's copy is stale and the stream is live; otherwise the next
 * stream's MapRequest carries the news. */
static bool send_lite(struct hs_client *c)
{
	uint8_t pub[32];
	char *body;

	if (c->state != HS_C_MAP || !c->conn_live || c->map_status != 200 ||
	    (hs_endpoints_equal(&c->eps, &c->sent_eps) && c->sent_derp == c->cfg.hostinfo.preferred_derp &&
	     !c->hostinfo_stale))
		return false;
	hskey_public(pub, c->cfg.node_priv);
	body = hs_req_map(pub, c->cfg.disco_pub, false, &c->cfg.hostinfo, &c->eps, c->zstd);
	if (!body)
		return false;
	c->lite_status = 0;
	c->lite_stream = hs_conn_request(&c->conn, "POST", "/machine/map", body, strlen(body));
	free(body);
	if (c->lite_stream < 0) {
		c->lite_stream = 0;
		c->errors++;
		return false;
	}
	c->lite_sent++;
	c->sent_eps = c->eps;
	c->sent_derp = c->cfg.hostinfo.preferred_derp;
	c->hostinfo_stale = false;
	return true;
}

bool hs_client_publish(struct hs_client *c, const struct hs_endpoints *eps, int preferred_derp)
{
	c->eps = *eps;
	c->cfg.hostinfo.preferred_derp = preferred_derp;
	return send_lite(c);
}

bool hs_client_set_hostinfo(struct hs_client *c, const struct hs_hostinfo *hi)
{
	int derp = c->cfg.hostinfo.preferred_derp;      /* the DERP client's, not the caller's */

	c->cfg.hostinfo = *hi;
	c->cfg.hostinfo.preferred_derp = derp;
	c->hostinfo_stale = true;
	return send_lite(c);
}
