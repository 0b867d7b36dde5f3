/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xsk.h - one AF_XDP socket with its own UMEM: the rings and the frame pool of one worker.
 *
 * Frame ownership (each frame has exactly one owner at a time): fill ring -> rx ring -> the
 * worker's burst -> (crypto batch | stage queue) -> tx ring -> completion ring -> pool -> fill ring.
 * Everything here is owned by the worker thread except setup/teardown.
 */
#ifndef MG_XSK_H
#define MG_XSK_H

#include <stdint.h>
#include <stdbool.h>
#include <xdp/xsk.h>

#define XSK_FRAME_SIZE   4096u
#define XSK_NUM_FRAMES   8192u
#define XSK_RING_SIZE    2048u
#define XSK_RX_ALIGN_PAD 2u

struct xsk_port {
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint8_t *area;                 /* UMEM */
	uint64_t *pool;                /* free frame base addresses, a stack */
	uint32_t npool;
	uint32_t tx_inflight;          /* submitted to tx, not yet completed */
	uint32_t queue;
	int fd;
	bool zerocopy;
	uint64_t tx_kicks, fill_kicks;
};

int xsk_port_open(struct xsk_port *p, const char *ifname, uint32_t queue, int xsks_map_fd);
void xsk_port_close(struct xsk_port *p);

static inline uint8_t *xsk_port_data(const struct xsk_port *p, uint64_t addr)
{
	return p->area + addr;
}

static inline uint64_t xsk_frame_base(uint64_t addr)
{
	return addr & ~(uint64_t)(XSK_FRAME_SIZE - 1);
}

/* A free frame from the pool (base address) or UINT64_MAX when the pool is empty. */
static inline uint64_t xsk_port_frame_get(struct xsk_port *p)
{
	return p->npool ? p->pool[--p->npool] : UINT64_MAX;
}

static inline void xsk_port_frame_put(struct xsk_port *p, uint64_t addr)
{
	p->pool[p->npool++] = xsk_frame_base(addr);
}

void xsk_port_refill(struct xsk_port *p);             /* pool -> fill ring */
void xsk_port_reclaim(struct xsk_port *p);            /* completion ring -> pool */
void xsk_port_kick_tx(struct xsk_port *p);            /* sendto() only when the kernel asks */
/* Statistics from getsockopt(XDP_STATISTICS), for the exporter. */
int xsk_port_stats(const struct xsk_port *p, uint64_t out[6]);
/* Frames not in the pool: nonzero at shutdown means a leak (debug check). */
uint32_t xsk_port_frames_unaccounted(struct xsk_port *p);

#endif
