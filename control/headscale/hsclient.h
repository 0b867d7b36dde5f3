/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsclient.h - the control-protocol client as a state machine on the control thread's epoll:
 *   backoff -> GET /key -> /ts2021 (Noise, HTTP/2) -> [/machine/register] -> /machine/map stream
 * with a 120 s watchdog, reconnect with exponential backoff, PingRequest answered with HEAD.
 * Registration (a login) happens only while the node key is not registered (StateDir/registered,
 * hslogin.h); every other connection goes straight to the map poll, as tailscaled's do.
 * It owns one timerfd. It knows nothing of the device: the netmap goes to ops->netmap.
 */
#ifndef MG_HSCLIENT_H
#define MG_HSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hsconn.h"
#include "hsfetch.h"
#include "hsframe.h"
#include "hsnetmap.h"
#include "hsreq.h"

#define HS_WATCHDOG_S 120           /* no map message for this long -> reconnect (direct.go) */
#define HS_CONNECT_TIMEOUT_S 15     /* dial + TLS + upgrade + Noise (tailscaled: 10 s default) */
#define HS_BACKOFF_MIN_MS 1000
#define HS_BACKOFF_MAX_MS 60000

struct hs_client_cfg {
	char login_server[512];
	char auth_key[512];               /* used when auth_key_file is "" */
	char auth_key_file[4096];         /* read at each login, never before or after */
	char state_dir[4096];             /* StateDir/registered; "" = remembered in memory only */
	uint8_t machine_priv[32];
	uint8_t node_priv[32];
	uint8_t disco_pub[32];
	struct hs_hostinfo hostinfo;      /* routes borrowed until the next hs_client_set_hostinfo */
	const char *ca_file;              /* NULL = system trust store */
};

struct hs_client_ops {
	/* A MapResponse was applied; ev->keepalive for a bare keep-alive (re-check expiries). */
	void (*netmap)(void *arg, const struct hs_netmap *nm, const struct hs_map_events *ev);
	/* Connected (map stream live) or not; @error is the reason when not (NULL when fine). */
	void (*status)(void *arg, bool connected, const char *error);
	/*
	 * Registration said NodeKeyExpired: make a new node key in @new_priv (0 or -errno). The
	 * device keeps serving with the old key while the new one is registered with OldNodeKey.
	 * NULL = rotation not supported.
	 */
	int (*rotate_node_key)(void *arg, uint8_t new_priv[32]);
	/* The server accepted the rotated key: persist it and make it the device's private key. */
	int (*node_key_registered)(void *arg, const uint8_t new_priv[32]);
};

enum hs_client_state {
	HS_C_BACKOFF, HS_C_KEY, HS_C_CONNECT, HS_C_REGISTER, HS_C_MAP, HS_C_CLOSING, HS_C_STOPPED,
};

struct hs_client {
	enum hs_client_state state;
	struct hs_client_cfg cfg;
	const struct hs_client_ops *ops;
	void *arg;
	int epfd, tfd;
	struct evsource timer_src;
	SSL_CTX *tls;
	bool url_tls;
	char host[256], url_path[512];
	uint16_t port;
	uint8_t server_pub[32];
	bool have_server_pub;
	uint8_t old_node_priv[32];
	bool rotating;
	bool registered;                 /* our node key is registered: connect straight to the map */
	bool need_new_key;               /* it expired: the next login registers a new one */
	struct hs_fetch key_fetch, ping_fetch;
	bool key_fetch_live, ping_fetch_live;
	struct hs_conn conn;
	bool conn_live;
	int32_t reg_stream, map_stream;
	int reg_status, map_status;
	char *reg_body;
	size_t reg_len;
	struct hs_mapframe frame;
	struct hs_netmap nm;
	char last_ping_url[512];
	uint64_t backoff_ms;
	uint64_t last_msg_ns;            /* CLOCK_MONOTONIC of the last map message */
	uint64_t maps, errors;
	char last_error[256];
	bool connected;
	bool zstd;                       /* ask for Compress="zstd" (built with libzstd) */
	/* What we publish: every MapRequest carries it; changes go out as lite requests. */
	struct hs_endpoints eps, sent_eps;   /* wanted; in the last request the server got */
	int sent_derp;
	bool hostinfo_stale;             /* Hostinfo changed since the server last got a MapRequest */
	int32_t lite_stream;
	int lite_status;
	uint64_t lite_sent, lite_ok;
	uint64_t lite_last_ns;           /* UNIX ns of the last lite request the server accepted */
	uint64_t rotations;
};

/* Starts the client (first attempt at once). 0 or -errno (@c untouched then). */
int hs_client_start(struct hs_client *c, const struct hs_client_cfg *cfg, int epfd,
		    const struct hs_client_ops *ops, void *arg);
void hs_client_stop(struct hs_client *c);
/*
 * Our endpoints and home DERP region changed (the caller debounces): remembered for every later
 * MapRequest and, while the map stream is up, sent at once as a lite MapRequest (Stream=false,
 * OmitPeers=true) on the same connection. Returns true if a lite request went out.
 */
bool hs_client_publish(struct hs_client *c, const struct hs_endpoints *eps, int preferred_derp);
/*
 * Hostname, RoutableIPs (routes + exit node) changed, e.g. on SIGHUP (the caller debounces):
 * @hi replaces the client's Hostinfo except PreferredDERP, and goes out like new endpoints: a lite
 * MapRequest now if the stream is up, else in the next registration and map request.
 * @hi->routes is borrowed until the next call (or hs_client_stop). True if a lite request went out.
 */
bool hs_client_set_hostinfo(struct hs_client *c, const struct hs_hostinfo *hi);

#endif
