/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * evsource.h - how a module hooks a file descriptor into the control thread's epoll loop.
 * The module embeds a struct evsource, registers its fd with ev.data.ptr = &src, and the loop
 * calls src->cb(src, events). Only the control thread runs callbacks; they must not block.
 */
#ifndef MG_EVSOURCE_H
#define MG_EVSOURCE_H

#include <stdint.h>
#include <sys/epoll.h>

struct evsource {
	void (*cb)(struct evsource *src, uint32_t events);
};

static inline int evsource_add(int epfd, int fd, uint32_t events, struct evsource *src)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -1 : 0;
}

static inline int evsource_mod(int epfd, int fd, uint32_t events, struct evsource *src)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) ? -1 : 0;
}

static inline void evsource_del(int epfd, int fd)
{
	epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
}

#endif
