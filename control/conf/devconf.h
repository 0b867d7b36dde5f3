/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * devconf.h - one change to the WireGuard device, as the UAPI `set=1` operation, a config file
 * and a SIGHUP re-read all express it. Parsers (config.c, uapi.c) produce it; the control thread
 * applies it to the peer table as one update. Plain data, no ownership beyond the arrays below.
 */
#ifndef MG_DEVCONF_H
#define MG_DEVCONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <netinet/in.h>
#include "addr.h"

#define WG_KEY_LEN 32

/* One allowed_ip line of an update: add the prefix, or (UAPI "allowed_ip=-a/b") remove just it. */
struct mg_allowed_ip {
	struct mg_ipprefix p;
	bool remove;
};

struct mg_peer_conf {
	uint8_t public_key[WG_KEY_LEN];
	bool remove;                 /* remove=true */
	bool update_only;            /* update_only=true: do not create */
	bool has_preshared_key;
	uint8_t preshared_key[WG_KEY_LEN];   /* all zero = none */
	bool has_endpoint;
	struct mg_endpoint endpoint;
	int32_t persistent_keepalive;        /* -1 = unchanged, 0 = off, 1..65535 seconds */
	bool replace_allowed_ips;
	size_t n_allowed_ips;
	struct mg_allowed_ip *allowed_ips;   /* malloc'd, in order of appearance */
};

struct mg_device_update {
	bool has_private_key;
	uint8_t private_key[WG_KEY_LEN];     /* all zero = clear */
	int32_t listen_port;                 /* -1 = unchanged */
	int64_t fwmark;                      /* -1 = unchanged */
	bool replace_peers;
	size_t n_peers;
	struct mg_peer_conf *peers;          /* malloc'd, in order of appearance */
};

/* Frees the arrays inside (not u itself) and wipes key material. */
void devconf_update_free(struct mg_device_update *u);

#endif
