/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * control.h - the slow path: one epoll loop on one thread. Handshakes, timers, peer-table
 * updates (UAPI, config, SIGHUP), the kernel-table mirror, TUN reads and /metrics.
 */
#ifndef MG_CONTROL_H
#define MG_CONTROL_H

#include <signal.h>
#include "dataplane.h"
#include "devconf.h"

struct mg_config;

/* handshake.c */
void hs_receive(struct mg_device *dev, const struct punt_msg *m, uint64_t now);
void hs_send_initiation(struct mg_device *dev, struct peer *p, uint64_t now, bool is_retry);
void hs_send_keepalive(struct mg_device *dev, struct peer *p, uint64_t now);
bool ctl_send_udp(struct mg_device *dev, const struct mg_endpoint *dst, const void *msg, uint16_t len);

/* timers.c */
void timers_tick(struct mg_device *dev, uint64_t now);

/* apply.c */
int dev_apply(struct mg_device *dev, const struct mg_device_update *u, uint64_t now);
struct peer *dev_peer_find(struct mg_device *dev, const uint8_t key[32]);
void dev_remove_all_peers(struct mg_device *dev);
int dev_routes_sync(struct mg_device *dev);
/* Publish a new packet filter (NULL = none); the old one is freed after a grace period. */
void dev_set_filter(struct mg_device *dev, struct filter *f);
/* Make these the router's tailnet addresses: on the TUN device (added/removed as a diff) and for
 * the workers' local-delivery test. 0 or -errno (the first TUN error; the set is published anyway). */
int dev_set_addresses(struct mg_device *dev, const struct mg_ipprefix *a, size_t n);
/* FilterFile: a tailnet ACL in Headscale's PacketFilter JSON. dev == NULL only validates.
 * 0, or -EINVAL with the reason in err ("path: line N: ..."); the running filter stays on error. */
int dev_load_filter_file(struct mg_device *dev, const char *path, char *err, size_t errlen);

/* metrics.c */
struct metrics;
int metrics_init(struct metrics **out, struct mg_device *dev, const char *listen, int epfd);
void metrics_uninit(struct metrics *m);

/* control.c */
int control_run(struct mg_device *dev, struct mg_config *cfg);
/* SIGINT, SIGTERM, SIGHUP: blocked in the calling thread (call before any thread exists, so all
 * inherit it) and read by the control loop through a signalfd on the same set. */
void control_block_signals(sigset_t *mask);

#endif
