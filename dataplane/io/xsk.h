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

/*
 * Names kept for code outside io/ and the worker (device.h, icmp_err.c, control/metrics.c and
 * its test): the worker's port is the generic struct io_port, AF_XDP is one backend of it.
 */
#define xsk_port io_port

static inline uint8_t *xsk_port_data(const struct io_port *p, uint64_t addr)
{
	return io_port_data(p, addr);
}

static inline uint64_t xsk_frame_base(uint64_t addr)
{
	return io_frame_base(addr);
}

static inline uint64_t xsk_port_frame_get(struct io_port *p)
{
	return io_frame_get(p);
}

static inline void xsk_port_frame_put(struct io_port *p, uint64_t addr)
{
	io_frame_put(p, addr);
}

/* Statistics for the exporter: XDP_STATISTICS rx_dropped, rx_invalid_descs, tx_invalid_descs,
 * rx_ring_full, rx_fill_ring_empty_descs, tx_ring_empty_descs; -ENOTSUP for other backends. */
int xsk_port_stats(const struct io_port *p, uint64_t out[6]);

#endif
