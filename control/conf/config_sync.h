/* SPDX-License-Identifier: GPL-2.0-only */
/* config_sync.h - SIGHUP as `wg syncconf`: the loaded file against the running peers. */
#ifndef MG_CONF_CONFIG_SYNC_H
#define MG_CONF_CONFIG_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "devconf.h"

/*
 * SIGHUP = `wg syncconf`: a sort-merge diff by public key of the file's peers against the
 * running ones, as one update: private key, listen port and fwmark as in the file (applying an
 * unchanged value is a no-op for the device), every file peer with replace_allowed_ips, explicit
 * preshared key (zero if absent) and keepalive (0 if absent), endpoint if set, and remove = true
 * for each running peer absent from the file. replace_peers stays false, so live sessions of
 * unchanged peers survive. Peers come out in public-key order. 0 or -ENOMEM (@out freed).
 */
int config_sync_update(const struct mg_config *cfg, const uint8_t (*running_keys)[32], size_t n_running,
		       struct mg_device_update *out);

#endif
