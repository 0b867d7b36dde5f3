/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics.h - the Prometheus exposition text (format 0.0.4) of one device, apart from the HTTP
 * server that serves it, so tests can render a hand-built device and check every number.
 */
#ifndef MG_CONTROL_METRICS_H
#define MG_CONTROL_METRICS_H

#include <stddef.h>

struct mg_device;

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Opt-in per-peer series under mdlayher/wireguard_exporter's names (wireguard_peer_*). Off by
 * default: a label per public key is unbounded cardinality. */
#define METRICS_PEERS 1u

/*
 * Control thread only (walks dev->peers). Sums the workers' single-writer counters without
 * stopping them: a torn read of a u64 cannot happen on x86-64/arm64 aligned loads, and a sum may
 * mix values from slightly different instants, which Prometheus tolerates. Returns a malloc'd,
 * NUL-terminated text and its length, or NULL when out of memory.
 */
char *metrics_render(struct mg_device *dev, unsigned flags, size_t *len);

#endif
