/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mem.h - a port whose wire is memory, for the engine benchmark: the caller writes frames into
 * the port's area, queues them as received (io_mem_rx_push) and takes what the worker sent
 * (io_mem_tx_pop; the caller then owns those frames and gives them back with io_frame_put).
 * Single thread: the caller and the worker's wk_poll run on the same one. No copies: the worker
 * decrypts, encrypts and rewrites headers in the caller's frames, as it does in a UMEM.
 */
#ifndef MG_IO_MEM_H
#define MG_IO_MEM_H

#include "io/port.h"

int io_mem_open(struct io_port *p, uint32_t queue);
/* false when the receive queue is full (it holds IO_NUM_FRAMES). */
bool io_mem_rx_push(struct io_port *p, uint64_t addr, uint32_t len);
unsigned io_mem_rx_pending(const struct io_port *p);
unsigned io_mem_tx_pop(struct io_port *p, struct io_desc *d, unsigned max);

#endif
