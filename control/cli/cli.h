/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.h - what the operator commands (status.h, ping.h, metrics_write.h) share: which daemon to
 * talk to, its UAPI `get=1` reply parsed, HTTP GET of /metrics, and the text forms they print.
 * The commands are clients, not part of the daemon: they reach it through the UAPI socket
 * (/var/run/wireguard/NAME.sock, `get=1`) and over HTTP /metrics, exactly as `wg` and Prometheus
 * do, so they work the same whoever started the daemon.
 */
#ifndef MG_CONTROL_CLI_H
#define MG_CONTROL_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nodename.h"

#define CLI_DEFAULT_NAME "meshgate0"
#define CLI_DEFAULT_METRICS "127.0.0.1:9586"
#define CLI_DEFAULT_STATE_DIR "/var/lib/meshgate"

/* Which daemon: NAME, MetricsListen and StateDir, from `-c FILE` ([Interface] Name,
 * MetricsListen, StateDir) or the defaults. metrics[0] == '\0' when the config turns /metrics
 * off. @config is the file read ("" = none). */
struct cli_target {
	char name[16];
	char metrics[128];
	bool metrics_from_config;
	char state_dir[4096];
	char config[4096];
};

/* Defaults, then the file's [Interface] keys when @config_path is not NULL. 0, or -1 with a
 * one-line message on stderr. Only these keys are read: no key material is touched. */
int cli_target_load(struct cli_target *t, const char *config_path);

struct cli_peer {
	uint8_t public_key[32];
	char endpoint[64];                /* "" = none */
	uint64_t handshake_sec;           /* UNIX time, 0 = never */
	uint64_t rx_bytes, tx_bytes;
	uint16_t persistent_keepalive;
	size_t n_ips;
	char (*ips)[52];                  /* allowed IPs as text, "addr/cidr" */
	/* From the meshgate_* keys (uapi.h), when Headscale put the peer in: */
	char name[NODENAME_MAX + 1];      /* tailnet name, "lap.tail.example."; "" = none */
	size_t n_addrs;
	char (*addrs)[52];                /* its own tailnet addresses, "addr/cidr" */
};

struct cli_device {
	bool has_private_key;
	uint8_t public_key[32];           /* derived from the private key */
	uint16_t listen_port;
	char name[NODENAME_MAX + 1];      /* our tailnet name (meshgate_name); "" = none */
	size_t n_peers;
	struct cli_peer *peers;
};

/* `get=1` over the UAPI socket of NAME. 0, or -errno (-ENOENT/-ECONNREFUSED: not running;
 * -EPROTO: a reply we cannot parse; the daemon's errno=N as -N). */
int cli_uapi_get(const char *name, struct cli_device *out);
/* The parser alone, for tests: @reply is the full text up to and including "errno=N\n". */
int cli_uapi_parse(const char *reply, struct cli_device *out);
void cli_device_free(struct cli_device *d);

/* GET http://HOSTPORT/PATH with HTTP/1.0 and a 5 s timeout. 0 with a malloc'd, NUL-terminated body
 * on status 200; -errno on a socket error, -EPROTO on any other status or a malformed reply. */
int cli_http_get(const char *hostport, const char *path, char **body, size_t *len);
/* The value of the sample whose series text (name{labels}) is exactly @series. */
bool cli_metric(const char *text, const char *series, double *out);

/* The peer's tailnet address: its first meshgate_address, else its first single-host allowed
 * IP (a /32 or /128), or "-". */
const char *cli_peer_tailnet_ip(const struct cli_peer *p);
/* Short name for a peer without a Headscale name: the first 8 characters of its base64 key. */
void cli_peer_name(char out[12], const uint8_t key[32]);
/* "1.23 KiB" like wg(8). */
void cli_bytes(char *out, size_t len, uint64_t n);

#endif
