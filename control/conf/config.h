/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * config.h - the meshgate config file: a superset of wg(8)'s format,
 * so a `wg setconf` file loads as is. Errors read "FILE:LINE: Key: message".
 */
#ifndef MG_CONF_CONFIG_H
#define MG_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devconf.h"

enum mg_backend { MG_BACKEND_XDP, MG_BACKEND_DPDK };
#define MG_POLL_BUSY UINT32_MAX
#define MG_POLL_SPIN_DEFAULT_US 50u
#define MG_MAX_CPUS 256u                /* entries of a CPUs list */
#define MG_CPU_MAX 1023u                /* highest CPU number (CPU_SETSIZE - 1) */

struct mg_config {
	char path[4096];
	char name[16];                  /* UAPI socket and TUN name; default "meshgate0" */
	bool has_private_key;
	uint8_t private_key[32];
	int32_t listen_port;            /* -1 = not set (random) */
	uint32_t fwmark;                /* 0 = off */
	size_t n_addresses;
	struct mg_ipprefix *addresses;  /* host bits kept */
	uint32_t mtu;                   /* default 1280 */
	size_t n_devices;               /* 0 or 1: one LAN device per meshgate */
	char (*devices)[64];
	enum mg_backend backend;
	char dpdk_args[1024];           /* Backend = dpdk: EAL arguments, split on spaces */
	uint32_t queues;                /* 1..64, default 1 */
	bool set_channels;              /* set the NIC's RX queue count to queues (else refuse a mismatch) */
	/* CPUs: worker i runs on cpus[i % n_cpus]; n_cpus = 0 (the default) pins nothing. */
	uint32_t n_cpus;
	uint16_t cpus[MG_MAX_CPUS];
	uint32_t poll_spin_us;          /* Poll: busy-poll this long after the last packet, then sleep;
					 * MG_POLL_BUSY = never sleep. Default 50. */
	char crypto[16];                /* auto | avx512 | avx2 | ipsecmb | sodium | generic */
	bool snat, advertise_exit_node, accept_routes;
	size_t n_routes;
	struct mg_ipprefix *advertise_routes;
	char login_server[512];         /* "" = peers come from the file only */
	char auth_key_file[4096];
	char state_dir[4096];           /* default /var/lib/meshgate */
	/* Published to Headscale as explicitly configured endpoints (EndpointType 5): the home
	 * gateway's port forward. ForwardedPort pairs the STUN-mapped IPv4 address with this port. */
	size_t n_public_endpoints;
	struct mg_endpoint public_endpoints[4];
	uint16_t forwarded_port;        /* 0 = none */
	char filter_file[4096];         /* tailnet ACL as PacketFilter JSON; "" = none (allow all) */
	char derp_ca_file[4096];        /* extra CA (PEM) for DERP servers' certificates; "" = system store */
	char metrics_listen[128];       /* host:port; "" = disabled ("off") */
	char user[64];                  /* drop to this user after setup; "" = stay (privdrop.h) */
	uint32_t test_rekey_after_time_s;  /* test only; 0 = protocol default */
	/*
	 * The file's WireGuard part as one update: private key, listen port (-1 if unset), fwmark,
	 * replace_peers = true, every peer with replace_allowed_ips = true, persistent_keepalive
	 * 0 when absent, has_preshared_key only when given, endpoint when given.
	 */
	struct mg_device_update wg;
};

/* 0, or -1 with @err = "FILE:LINE: Key: message" (or "FILE: strerror"). @cfg is freed on error. */
int config_load(struct mg_config *cfg, const char *path, char *err, size_t errlen);
/* The same for text in memory; @name stands for FILE in messages. */
int config_load_string(struct mg_config *cfg, const char *name, const char *text, char *err, size_t errlen);
/* Frees the arrays and wipes keys; @cfg may then be loaded again. */
void config_free(struct mg_config *cfg);

#endif
