// SPDX-License-Identifier: GPL-2.0-only
/*
 * sockmark.c - see sockmark.h. One atomic: the threads that open sockets (control, and the
 * Headscale client's) read it without a lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include "sockmark.h"

static _Atomic uint32_t sockmark;    /* written by control when FwMark applies; read anywhere */

void sockmark_set(uint32_t mark)
{
	atomic_store_explicit(&sockmark, mark, memory_order_relaxed);
}

uint32_t sockmark_get(void)
{
	return atomic_load_explicit(&sockmark, memory_order_relaxed);
}

int sockmark_apply(int fd)
{
	uint32_t mark = sockmark_get();

	if (!mark)
		return 0;
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) ? -errno : 0;
}
