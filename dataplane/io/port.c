// SPDX-License-Identifier: GPL-2.0-only
/*
 * port.c - the frame area and pool every backend shares (see port.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "io/port.h"

#define AREA_SIZE ((size_t)IO_NUM_FRAMES * IO_FRAME_SIZE)

int io_port_alloc(struct io_port *p, uint32_t queue)
{
	memset(p, 0, sizeof(*p));
	p->queue = queue;
	p->fd = -1;
	p->pool = calloc(IO_NUM_FRAMES, sizeof(*p->pool));
#ifndef NDEBUG
	p->in_pool = calloc(IO_NUM_FRAMES / 8, 1);
#endif
	if (!p->pool || (!p->in_pool && IO_POOL_CHECKED)) {
		free(p->pool);
		free(p->in_pool);
		memset(p, 0, sizeof(*p));
		return -ENOMEM;
	}
	/* Anonymous mmap: page-aligned, as AF_XDP requires of a UMEM and DPDK of external memory. */
	p->area = mmap(NULL, AREA_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->area == MAP_FAILED) {
		free(p->pool);
		free(p->in_pool);
		memset(p, 0, sizeof(*p));
		return -ENOMEM;
	}
	/* Lowest offsets on top of the stack: the first frames used are the first pages. */
	for (uint32_t i = IO_NUM_FRAMES; i-- > 0;)
		io_frame_put(p, (uint64_t)i * IO_FRAME_SIZE);
	return 0;
}

void io_port_free(struct io_port *p)
{
	if (p->area)
		munmap(p->area, AREA_SIZE);
	free(p->pool);
	free(p->in_pool);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

int io_port_stats(const struct io_port *p, uint64_t out[6])
{
	return p->ops && p->ops->stats ? p->ops->stats(p, out) : -ENOTSUP;
}
