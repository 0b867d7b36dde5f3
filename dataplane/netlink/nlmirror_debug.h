/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nlmirror_debug.h - hooks for tests and diagnostics; not part of the fast-path API.
 */
#ifndef MG_NLMIRROR_DEBUG_H
#define MG_NLMIRROR_DEBUG_H

#include "netlink/nlmirror.h"

/* The subscribed event socket (tests shrink its buffer to force ENOBUFS and a full re-dump). */
int nlmirror_debug_event_fd(const struct nlmirror *m);
/* How many full re-dumps lost events have forced so far. */
unsigned long nlmirror_debug_resyncs(const struct nlmirror *m);

#endif
