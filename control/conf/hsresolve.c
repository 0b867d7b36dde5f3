// SPDX-License-Identifier: GPL-2.0-only
/*
 * hsresolve.c - getaddrinfo_a without notification: the control tick asks gai_error() whether
 * each request is done, so no thread ever calls back into our memory. The one hazard is freeing
 * a request the resolver thread still writes; hs_resolve_free() cancels, waits briefly, and
 * otherwise leaks the batch rather than free it under the thread.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include "hsresolve.h"

struct hs_resolve_batch {
	size_t n;
	struct gaicb req[HS_RESOLVE_MAX];
	struct gaicb *list[HS_RESOLVE_MAX];
	struct addrinfo hints;
	char names[HS_RESOLVE_MAX][256];
	uint16_t ports[HS_RESOLVE_MAX];
};

int hs_resolve_start(struct hs_resolve_batch **out, const char (*names)[256], const uint16_t *ports, size_t n)
{
	struct hs_resolve_batch *b;
	size_t i;

	*out = NULL;
	if (!n || n > HS_RESOLVE_MAX)
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->n = n;
	b->hints.ai_family = AF_UNSPEC;
	b->hints.ai_socktype = SOCK_DGRAM;
	for (i = 0; i < n; i++) {
		snprintf(b->names[i], sizeof(b->names[i]), "%s", names[i]);
		b->ports[i] = ports[i];
		b->req[i].ar_name = b->names[i];
		b->req[i].ar_request = &b->hints;
		b->list[i] = &b->req[i];
	}
	if (getaddrinfo_a(GAI_NOWAIT, b->list, (int)n, NULL)) {
		free(b);
		return -EAGAIN;
	}
	*out = b;
	return 0;
}

static void take(const struct addrinfo *ai, uint16_t port, struct mg_endpoint *out, size_t max, size_t *n)
{
	bool have4 = false, have6 = false;

	for (; ai && *n < max; ai = ai->ai_next) {
		struct mg_endpoint *e = &out[*n];

		memset(e, 0, sizeof(*e));
		if (ai->ai_family == AF_INET && !have4) {
			memcpy(e->addr, &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr, 4);
			e->family = AF_INET;
			have4 = true;
		} else if (ai->ai_family == AF_INET6 && !have6) {
			memcpy(e->addr, &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr, 16);
			e->family = AF_INET6;
			have6 = true;
		} else {
			continue;
		}
		e->port = port;
		(*n)++;
	}
}

bool hs_resolve_poll(struct hs_resolve_batch *b, struct mg_endpoint *out, size_t max, size_t *n)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (gai_error(&b->req[i]) == EAI_INPROGRESS)
			return false;
	*n = 0;
	for (i = 0; i < b->n; i++)
		if (!gai_error(&b->req[i]))
			take(b->req[i].ar_result, b->ports[i], out, max, n);
	return true;
}

/* In progress and not taken back by gai_cancel (glibc leaves a cancelled request's status at
 * EAI_INPROGRESS: @cancelled says which ones the resolver will not touch again). */
static bool any_running(struct hs_resolve_batch *b, const bool *cancelled)
{
	for (size_t i = 0; i < b->n; i++)
		if (!cancelled[i] && gai_error(&b->req[i]) == EAI_INPROGRESS)
			return true;
	return false;
}

void hs_resolve_free(struct hs_resolve_batch *b)
{
	struct timespec tick = { .tv_nsec = 10000000L };
	bool cancelled[HS_RESOLVE_MAX] = { false };
	size_t i;
	int waits;

	if (!b)
		return;
	for (i = 0; i < b->n; i++)
		if (gai_error(&b->req[i]) == EAI_INPROGRESS)
			cancelled[i] = gai_cancel(&b->req[i]) == EAI_CANCELED;
	/* A lookup already running cannot be cancelled: poll it out, 2 s at most (gai_suspend is
	 * not used: without a notification it was seen to sleep its whole timeout). */
	for (waits = 0; any_running(b, cancelled) && waits < 200; waits++)
		nanosleep(&tick, NULL);
	if (any_running(b, cancelled))
		return;                          /* still in the resolver's hands: leave it */
	for (i = 0; i < b->n; i++)
		if (b->req[i].ar_result)
			freeaddrinfo(b->req[i].ar_result);
	free(b);
}
