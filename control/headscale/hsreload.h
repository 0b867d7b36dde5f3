/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsreload.h - what a SIGHUP may change while running, like `tailscale set`: the advertised
 * routes, the exit-node flag and the Hostinfo built from them, and AcceptRoutes (the peer table
 * is rebuilt from the last netmap). Every other [Interface] key
 * that is not WireGuard's own (`wg syncconf` applies PrivateKey, ListenPort, FwMark, peers) or
 * FilterFile is read at start only; a change to it is reported and waits for a restart.
 */
#ifndef MG_HSRELOAD_H
#define MG_HSRELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include "devconf.h"

struct mg_config;

#define HS_RELOAD_KEYS_MAX 32

/* The same prefixes, as sets: order and repeats do not matter, host bits do. */
bool hs_reload_prefixes_equal(const struct mg_ipprefix *a, size_t na, const struct mg_ipprefix *b, size_t nb);
/* AdvertiseRoutes or AdvertiseExitNode differ between the running and the re-read config. */
bool hs_reload_routes_changed(const struct mg_config *run, const struct mg_config *fresh);
/*
 * Keys whose value differs but that only a restart applies, in config-file order; their names
 * (static strings) go to @keys, at most @max of them. Returns how many differ.
 */
size_t hs_reload_restart_keys(const struct mg_config *run, const struct mg_config *fresh,
			      const char **keys, size_t max);

#endif
