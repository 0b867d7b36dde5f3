/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsresolve.h - a batch of host name lookups for the control thread without blocking it: glibc's
 * getaddrinfo_a (GAI_NOWAIT), polled from the periodic tick. Used for STUN targets that the
 * DERPMap names only by HostName (empty IPv4/IPv6 = use DNS).
 */
#ifndef MG_HSRESOLVE_H
#define MG_HSRESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devconf.h"

#define HS_RESOLVE_MAX 8

struct hs_resolve_batch;

/* Starts looking up @n (<= HS_RESOLVE_MAX) names; each answer keeps its @ports[i]. 0 or -errno. */
int hs_resolve_start(struct hs_resolve_batch **out, const char (*names)[256], const uint16_t *ports, size_t n);
/*
 * False while any lookup runs. Then true, with the first IPv4 and the first IPv6 address of each
 * name that resolved (in name order) in @out (at most @max; *@n written).
 */
bool hs_resolve_poll(struct hs_resolve_batch *b, struct mg_endpoint *out, size_t max, size_t *n);
/* Cancels what still runs; a lookup that cannot be cancelled is waited for up to 2 s, then left
 * to the process exit (its memory must outlive the resolver thread). NULL is fine. */
void hs_resolve_free(struct hs_resolve_batch *b);

#endif
