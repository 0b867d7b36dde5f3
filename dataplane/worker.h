/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * worker.h - one worker's poll loop (worker.c), the top of the worker: it drives the stages
 * (worker_rx.h, worker_tx.h) over the pass state of wctx.h. worker_start/worker_stop, the thread
 * around it, are declared with the device (device.h).
 */
#ifndef MG_WORKER_H
#define MG_WORKER_H

#include "wctx.h"

#define STAGE_TIMEOUT_NS (3 * NSEC_PER_SEC)   /* a staged packet's life, then no_session/neigh_unresolved */
#define STAGE_RETRY_NS (1 * NSEC_PER_MSEC)    /* staged packets are retried at most this often */

/* One pass of the loop (rx, open, control requests, staged retries, seal, tx, recycle); the number
 * of frames received plus control requests left, 0 = idle. worker_start's thread calls it in a
 * loop; the engine benchmark, the worker fuzzer and the key-age test call it directly on a memory
 * port. */
unsigned wk_poll(struct wctx *c);

#endif
