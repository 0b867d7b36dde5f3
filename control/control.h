/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * control.h - the slow path: one epoll loop on one thread (control.c). It dispatches to
 * handshakes, timers, peer-table updates (UAPI, config, SIGHUP), the kernel-table mirror, TUN
 * reads, /metrics and the Headscale client; each of those has its own header.
 */
#ifndef MG_CONTROL_H
#define MG_CONTROL_H

#include <signal.h>

struct mg_ctl;
struct mg_config;

int control_run(struct mg_ctl *dev, struct mg_config *cfg);
/* SIGINT, SIGTERM, SIGHUP: blocked in the calling thread (call before any thread exists, so all
 * inherit it) and read by the control loop through a signalfd on the same set. */
void control_block_signals(sigset_t *mask);

#endif
