/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xsk.h - the AF_XDP backend of struct io_port: one AF_XDP socket per worker over the port's
 * frame area as its UMEM (so UMEM offsets are the port's frame offsets, no translation).
 *
 * Frame ownership: pool -> fill ring -> rx ring -> the worker -> tx ring -> completion ring -> pool.
 */
#ifndef MG_XSK_H
#define MG_XSK_H

#include <stdint.h>
#include <stdbool.h>
#include "io/port.h"

#define XSK_FRAME_SIZE   IO_FRAME_SIZE
#define XSK_NUM_FRAMES   IO_NUM_FRAMES
#define XSK_RING_SIZE    2048u
#define XSK_RX_ALIGN_PAD 2u

/* Zero-copy when the driver offers it, copy mode otherwise (p->zerocopy, p->mode tell which). */
int xsk_port_open(struct io_port *p, const char *ifname, uint32_t queue, int xsks_map_fd);

#endif
