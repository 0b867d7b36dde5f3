/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * port.h - the packet I/O a worker sees, whatever carries the frames: AF_XDP (xsk.c), DPDK
 * (dpdk.c) or memory (mem.c, for the engine benchmark).
 *
 * One contiguous frame area per worker, IO_FRAME_SIZE-byte frames, a frame named by its byte
 * offset in the area (`addr`, as in an AF_XDP UMEM). The worker's hot path only ever handles
 * offsets: io_port_data() turns one into a pointer, io_frame_base() finds the frame, and the free
 * frames are a stack of base offsets here (io_frame_get/put: inline, no backend call). Backends
 * move offsets in and out in bursts through io_ops, one indirect call per burst, never per packet.
 *
 * Frame ownership (exactly one owner at a time): pool -> backend (refill) -> rx burst -> worker
 * (crypto batch | stage queue) -> tx burst -> backend -> pool (reclaim). A frame the worker drops
 * goes straight back to the pool. Everything is owned by the worker thread but open/close.
 * Every move into or out of the pool goes through io_frame_get/put; debug builds (!NDEBUG) keep
 * one bit per frame, set while it is in the pool, and abort on a frame put back twice.
 */
#ifndef MG_IO_PORT_H
#define MG_IO_PORT_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#define IO_FRAME_SIZE   4096u
#define IO_NUM_FRAMES   8192u
/*
 * Where a received frame's Ethernet header starts in its frame: 256 bytes of headroom (the AF_XDP
 * kernel's XDP_PACKET_HEADROOM, DPDK's RTE_PKTMBUF_HEADROOM is 128) for the outer headers we
 * prepend in place, plus 2 so that after the 14-byte Ethernet header every IP header (outer, and
 * inner after the 16-byte WireGuard header) is 4-byte aligned.
 */
#define IO_RX_HEADROOM  258u
/*
 * Backends that choose where a received packet goes (DPDK, memory) add a per-frame "colour" of
 * 0..7 cache lines: frames are 4 KiB apart, so without it every packet sits at the same address
 * modulo 4 KiB, and the 8 lanes of the batch AEAD, which load and store 8 packets side by side,
 * stall on 4K aliasing (a load whose low 12 address bits match an older store waits for it).
 * Measured with perf/engine-bench at 1280 bytes: +2-3 points of the AEAD rate. AF_XDP in aligned
 * mode has one headroom for all frames and cannot do this.
 */
#define IO_COLORS       8u

static inline uint32_t io_rx_offset(uint64_t base)
{
	return IO_RX_HEADROOM + 64u * (uint32_t)((base / IO_FRAME_SIZE) % IO_COLORS);
}

struct io_desc {
	uint64_t addr;               /* offset of the frame's first byte (Ethernet header) */
	uint32_t len;
};

struct io_port;

struct io_ops {
	const char *name;
	/* Up to max received frames into d; 0 when nothing is ready. */
	unsigned (*rx)(struct io_port *p, struct io_desc *d, unsigned max);
	/* Queue n frames for transmission; returns how many the backend took (the first ones). The
	 * caller still owns the rest (and drops them: a full ring means the NIC is the bottleneck). */
	unsigned (*tx)(struct io_port *p, const struct io_desc *d, unsigned n);
	void (*reclaim)(struct io_port *p);        /* transmitted frames -> pool */
	void (*refill)(struct io_port *p);         /* pool -> receive side */
	void (*kick)(struct io_port *p);           /* make the NIC send what tx queued, if it needs asking */
	void (*idle)(struct io_port *p, int timeout_ms);   /* sleep until rx may have work */
	/* 6 counters in the AF_XDP XDP_STATISTICS order (see xsk.h); -ENOTSUP elsewhere. */
	int (*stats)(const struct io_port *p, uint64_t out[6]);
	/* Frames neither in the pool nor legitimately with the backend: nonzero after stop = leak. */
	uint32_t (*unaccounted)(struct io_port *p);
	void (*close)(struct io_port *p);
};

struct io_port {
	uint8_t *area;               /* IO_NUM_FRAMES * IO_FRAME_SIZE bytes */
	uint64_t *pool;              /* free frame base offsets, a stack */
	uint32_t npool;
	uint8_t *in_pool;            /* !NDEBUG: bit per frame, set while in the pool; else NULL */
	uint32_t queue;
	int fd;                      /* pollable for rx, or -1 */
	bool zerocopy;               /* the NIC reads and writes the area itself */
	const char *mode;            /* "zerocopy", "copy", "dpdk", "memory": for status and logs */
	uint64_t tx_kicks, fill_kicks;
	const struct io_ops *ops;
	void *be;                    /* the backend's own state */
};

/* Allocates the area (page-aligned, zeroed) and fills the pool with every frame. */
int io_port_alloc(struct io_port *p, uint32_t queue);
/* Frees what io_port_alloc made (the backend's close calls it last). */
void io_port_free(struct io_port *p);
/* For the exporter, any backend: the 6 AF_XDP XDP_STATISTICS counters (order in io_ops.stats);
 * -ENOTSUP where the backend has none. Safe from the control thread (reads kernel counters). */
int io_port_stats(const struct io_port *p, uint64_t out[6]);

static inline uint8_t *io_port_data(const struct io_port *p, uint64_t addr)
{
	return p->area + addr;
}

static inline uint64_t io_port_addr(const struct io_port *p, const uint8_t *ptr)
{
	return (uint64_t)(ptr - p->area);
}

static inline uint64_t io_frame_base(uint64_t addr)
{
	return addr & ~(uint64_t)(IO_FRAME_SIZE - 1);
}

#ifndef NDEBUG
#define IO_POOL_CHECKED 1
/* Debug builds: a frame's pool bit; a put of a frame already in the pool (a double free, which
 * would hand one frame to two owners later) or a get of one not in it aborts here. */
static inline void io_frame_mark(struct io_port *p, uint64_t base, bool in)
{
	uint64_t i = base / IO_FRAME_SIZE;
	uint8_t bit = (uint8_t)(1u << (i & 7));

	if (!p->in_pool)
		return;
	assert(i < IO_NUM_FRAMES && "frame outside the area");
	if (in)
		assert(!(p->in_pool[i >> 3] & bit) && "io_frame_put: frame already in the pool (double put)");
	else
		assert((p->in_pool[i >> 3] & bit) && "io_frame_get: frame not in the pool");
	p->in_pool[i >> 3] ^= bit;
}
#else
#define IO_POOL_CHECKED 0
#endif

/* A free frame (base offset) or UINT64_MAX when the pool is empty. */
static inline uint64_t io_frame_get(struct io_port *p)
{
	uint64_t base;

	if (!p->npool)
		return UINT64_MAX;
	base = p->pool[--p->npool];
#ifndef NDEBUG
	io_frame_mark(p, base, false);
#endif
	return base;
}

static inline void io_frame_put(struct io_port *p, uint64_t addr)
{
	uint64_t base = io_frame_base(addr);

#ifndef NDEBUG
	io_frame_mark(p, base, true);
	assert(p->npool < IO_NUM_FRAMES);
#endif
	p->pool[p->npool++] = base;
}

/* Empties the pool (a backend that refills it with frames of its own choosing, DPDK). */
static inline void io_pool_clear(struct io_port *p)
{
	while (io_frame_get(p) != UINT64_MAX)
		;
}

static inline void io_port_close(struct io_port *p)
{
	if (p->ops)
		p->ops->close(p);
}

#endif
