// SPDX-License-Identifier: GPL-2.0-only
/*
 * mem.c - the memory backend (see mem.h): two rings of descriptors, one frame area.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "io/mem.h"

#define QSIZE IO_NUM_FRAMES          /* a power of two: every frame fits in either queue */

struct mem_be {
	struct io_desc rxq[QSIZE], txq[QSIZE];
	uint32_t rx_head, rx_tail;       /* push at head, worker takes at tail */
	uint32_t tx_head, tx_tail;       /* worker pushes at head, caller pops at tail */
};

/* n descriptors from ring position pos (mod QSIZE) to d: at most two copies, as a NIC's ring
 * is read (the burst ops are what every packet pays; no per-descriptor loop). */
static void ring_out(struct io_desc *d, const struct io_desc *ring, uint32_t pos, unsigned n)
{
	uint32_t at = pos % QSIZE, first = QSIZE - at < n ? QSIZE - at : n;

	memcpy(d, ring + at, first * sizeof(*d));
	memcpy(d + first, ring, (n - first) * sizeof(*d));
}

static void ring_in(struct io_desc *ring, uint32_t pos, const struct io_desc *d, unsigned n)
{
	uint32_t at = pos % QSIZE, first = QSIZE - at < n ? QSIZE - at : n;

	memcpy(ring + at, d, first * sizeof(*d));
	memcpy(ring, d + first, (n - first) * sizeof(*d));
}

bool io_mem_rx_push(struct io_port *p, uint64_t addr, uint32_t len)
{
	struct mem_be *m = p->be;

	if (m->rx_head - m->rx_tail == QSIZE)
		return false;
	m->rxq[m->rx_head++ % QSIZE] = (struct io_desc){ .addr = addr, .len = len };
	return true;
}

unsigned io_mem_rx_pending(const struct io_port *p)
{
	const struct mem_be *m = p->be;

	return m->rx_head - m->rx_tail;
}

unsigned io_mem_tx_pop(struct io_port *p, struct io_desc *d, unsigned max)
{
	struct mem_be *m = p->be;
	unsigned n = m->tx_head - m->tx_tail;

	if (n > max)
		n = max;
	ring_out(d, m->txq, m->tx_tail, n);
	m->tx_tail += n;
	return n;
}

static unsigned mem_rx(struct io_port *p, struct io_desc *d, unsigned max)
{
	struct mem_be *m = p->be;
	unsigned n = m->rx_head - m->rx_tail;

	if (n > max)
		n = max;
	ring_out(d, m->rxq, m->rx_tail, n);
	m->rx_tail += n;
	return n;
}

static unsigned mem_tx(struct io_port *p, const struct io_desc *d, unsigned cnt)
{
	struct mem_be *m = p->be;
	unsigned n = QSIZE - (m->tx_head - m->tx_tail);

	if (n > cnt)
		n = cnt;
	ring_in(m->txq, m->tx_head, d, n);
	m->tx_head += n;
	return n;
}

static void mem_nop(struct io_port *p)
{
	(void)p;
}

static void mem_idle(struct io_port *p, int timeout_ms)
{
	(void)p;
	nanosleep(&(struct timespec){ .tv_nsec = timeout_ms * 1000000L }, NULL);
}

static uint32_t mem_unaccounted(struct io_port *p)
{
	struct mem_be *m = p->be;

	return IO_NUM_FRAMES - p->npool - (m->rx_head - m->rx_tail) - (m->tx_head - m->tx_tail);
}

static void mem_close(struct io_port *p)
{
	free(p->be);
	io_port_free(p);
}

static const struct io_ops mem_ops = {
	.name = "memory",
	.rx = mem_rx,
	.tx = mem_tx,
	.reclaim = mem_nop,
	.refill = mem_nop,
	.kick = mem_nop,
	.idle = mem_idle,
	.unaccounted = mem_unaccounted,
	.close = mem_close,
};

int io_mem_open(struct io_port *p, uint32_t queue)
{
	int ret = io_port_alloc(p, queue);

	if (ret)
		return ret;
	p->be = calloc(1, sizeof(struct mem_be));
	if (!p->be) {
		io_port_free(p);
		return -ENOMEM;
	}
	p->ops = &mem_ops;
	p->mode = "memory";
	return 0;
}
