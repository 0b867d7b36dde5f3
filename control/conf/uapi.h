/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * uapi.h - WireGuard's cross-platform userspace API (wireguard.com/xplatform) on
 * /var/run/wireguard/NAME.sock, so stock `wg` and wgctrl-go work unmodified
 * The server lives in the control thread's epoll loop and never blocks.
 *
 * A get reply may carry meshgate's own keys, all named "meshgate_*", which `meshgate status`
 * reads: the tailnet name of the device (before the first peer) and of each peer, and each
 * peer's own tailnet addresses. wg(8) (ipc-uapi.h) and wgctrl-go skip keys they do not know, as
 * they skip protocol_version; wgctrl-go wants exactly one '=' per line, which nodename_valid
 * guarantees for the names. A set with these keys is refused like any unknown key.
 */
#ifndef MG_CONTROL_UAPI_H
#define MG_CONTROL_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devconf.h"

#define UAPI_SOCKET_DIR "/var/run/wireguard"
#define UAPI_MAX_REQUEST (16u << 20)    /* one operation; 130,560 allowed_ip lines are legal */
#define UAPI_MAX_CONNS 64

struct uapi_peer_view {
	uint8_t public_key[32], preshared_key[32];
	struct mg_endpoint endpoint;              /* family 0 = none */
	uint64_t last_handshake_sec, last_handshake_nsec;   /* UNIX time, 0/0 = never */
	uint64_t rx_bytes, tx_bytes;
	uint16_t persistent_keepalive;
	size_t n_allowed_ips;
	struct mg_ipprefix *allowed_ips;
	/* Tailnet identity, for `meshgate status` (not WireGuard state; not owned by the view): */
	const char *name;                         /* "meshgate_name", NULL or "" = none */
	size_t n_addresses;
	const struct mg_ipprefix *addresses;      /* "meshgate_address", the node's own */
};

struct uapi_device_view {
	bool has_private_key;
	uint8_t private_key[32];
	uint16_t listen_port;
	uint32_t fwmark;
	const char *name;                         /* "meshgate_name": our tailnet name, NULL = none */
	size_t n_peers;
	struct uapi_peer_view *peers;
};

/*
 * Called from the control thread only, one operation at a time. set() owns wireguard-go's
 * semantics that need device state: a private key equal to the current one is a no-op, peers
 * whose public key equals the new own public key are removed, a peer with the own public key is
 * ignored, turning persistent keepalive on sends one at once, repeated public keys apply in
 * order, and a failed listen_port rebind returns -EADDRINUSE with nothing applied.
 */
struct uapi_ops {
	int (*get)(void *ctx, struct uapi_device_view *out);        /* fills out (malloc'd arrays); 0 or -errno */
	void (*get_release)(void *ctx, struct uapi_device_view *v); /* frees what get allocated */
	int (*set)(void *ctx, const struct mg_device_update *u);    /* applies as one update; 0 or -errno */
};

struct uapi;

/*
 * Creates UAPI_SOCKET_DIR (0755) and NAME.sock (srwx------, umask 0077), replacing a stale
 * socket but not a live one (-EADDRINUSE), and registers it on @epfd. 0 or -errno.
 * Call at startup, before other threads create files: the umask flip is process-wide.
 */
int uapi_init(struct uapi **out, const char *ifname, int epfd, const struct uapi_ops *ops, void *ctx);
/* Closes every connection and the socket, and unlinks the socket if it is still ours. */
void uapi_uninit(struct uapi *u);

/*
 * The pure parser: @body is the lines after "set=1\n" up to and excluding the blank line.
 * Peers appear in order; a public_key may repeat (apply in order). 0, -EPROTO (a line without
 * '=', a blank or NUL-holding line), -EINVAL (unknown key, bad value, device key after a peer),
 * as wireguard-go answers, or -ENOMEM. @out is freed on error.
 */
int uapi_parse_set(const char *body, size_t len, struct mg_device_update *out);
/*
 * The full get reply, "errno=0\n\n" included, in wireguard-go's key order, each section's
 * meshgate_* keys after its standard ones. A name nodename_valid refuses is left out (it could
 * forge lines). 0 or -ENOMEM.
 */
int uapi_format_get(const struct uapi_device_view *v, char **out, size_t *outlen);

#endif
