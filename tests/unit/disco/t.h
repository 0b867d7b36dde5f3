/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * t.h - assertion helpers for the disco/STUN unit tests, and a stand-in for the control
 * thread's UDP send (t_send_udp) that records what would have gone to a worker's TX queue.
 */
#ifndef DISCO_TEST_T_H
#define DISCO_TEST_T_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dataplane.h"
#include "disco.h"
#include "stun.h"

static int t_failures, t_checks;

#define CHECK(cond) do {                                                  \
		++t_checks;                                               \
		if (!(cond)) {                                            \
			++t_failures;                                     \
			fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__,    \
				__LINE__, #cond);                         \
		}                                                         \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

/* Hex with optional spaces -> bytes; returns the byte count. */
static inline size_t t_unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t n = 0;
	unsigned int v;

	while (*hex) {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		if (n == cap || sscanf(hex, "%2x", &v) != 1)
			abort();
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

static inline int t_done(const char *name)
{
	printf("%s: %d checks, %d failures\n", name, t_checks, t_failures);
	return t_failures ? 1 : 0;
}

/* Captured sends. */
#define T_SENT_MAX 64
struct t_sent {
	struct mg_endpoint dst;
	uint16_t len;
	uint8_t data[2048];
};
static struct t_sent t_sent[T_SENT_MAX];
static unsigned t_nsent;
static bool t_send_fails;

static bool t_send_udp(void *arg, const struct mg_endpoint *dst, const void *msg, uint16_t len)
{
	(void)arg;
	if (t_send_fails || t_nsent == T_SENT_MAX)
		return false;
	t_sent[t_nsent].dst = *dst;
	t_sent[t_nsent].len = len;
	memcpy(t_sent[t_nsent].data, msg, len);
	t_nsent++;
	return true;
}

/* The room's way out, as the control thread lends it (no node key: pings carry none). */
static const struct disco_ops t_disco_ops = { .send_udp = t_send_udp };

static inline struct mg_endpoint t_ep4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
	struct mg_endpoint ep = { .family = AF_INET, .port = port, .addr = { a, b, c, d } };

	return ep;
}

static inline bool t_ep_eq(const struct mg_endpoint *x, const struct mg_endpoint *y)
{
	return x->family == y->family && x->port == y->port &&
	       !memcmp(x->addr, y->addr, x->family == AF_INET ? 4 : 16);
}

#endif
