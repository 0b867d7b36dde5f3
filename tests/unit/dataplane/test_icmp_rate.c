// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_icmp_rate.c - the rate limit of the ICMP too-big errors (icmp_err_allowed) under a steady
 * flood, the clock injected through wctx.now. A LAN sender of oversized packets must learn the
 * tunnel MTU at ICMP_ERR_PER_SEC whatever its packet rate: errors that stop under a flood are a
 * PMTU black hole.
 *
 *   flood rate (pkt/s)   for      errors allowed
 *   1000, 10000          10 s     BURST + 10 * PER_SEC (+-1): the rate, not less
 *   150                  10 s     the same (between one and two tokens per packet gap)
 *   50                   10 s     every packet (below the rate)
 *   after 1 s idle                BURST at once, then one per interval
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "icmp_err.h"

static int t_failures;
#define T_CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); \
	printf(__VA_ARGS__); printf("\n"); t_failures++; } } while (0)

/* Errors allowed to a flood of @pps packets a second for @secs seconds, from a full bucket. */
static unsigned flood(struct wctx *c, uint64_t pps, unsigned secs)
{
	uint64_t gap = NSEC_PER_SEC / pps, end = c->now + secs * NSEC_PER_SEC;
	unsigned sent = 0;

	for (; c->now < end; c->now += gap)
		sent += icmp_err_allowed(c);
	return sent;
}

static void fresh(struct wctx *c)
{
	memset(c, 0, sizeof(*c));
	c->now = 1000 * NSEC_PER_SEC;        /* a monotonic clock long after boot */
}

int main(void)
{
	static const uint64_t rates[] = { 1000, 10000, 150 };
	struct wctx *c = malloc(sizeof(*c));
	unsigned want = ICMP_ERR_BURST + 10 * ICMP_ERR_PER_SEC, n;

	if (!c)
		return 1;
	for (unsigned i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		fresh(c);
		n = flood(c, rates[i], 10);
		T_CHECK(n + 1 >= want && n <= want + 1, "%lu pkt/s for 10 s: %u errors allowed, want %u",
			(unsigned long)rates[i], n, want);
	}
	fresh(c);
	n = flood(c, 50, 10);
	T_CHECK(n == 500, "50 pkt/s for 10 s: %u errors allowed, want all 500", n);

	fresh(c);
	flood(c, 10000, 1);                  /* empties the bucket */
	c->now += NSEC_PER_SEC;              /* idle for 1 s: the bucket refills to its cap */
	n = 0;
	while (icmp_err_allowed(c))
		n++;
	T_CHECK(n == ICMP_ERR_BURST, "after 1 s idle: a burst of %u, want %u", n, ICMP_ERR_BURST);
	c->now += NSEC_PER_SEC / ICMP_ERR_PER_SEC - 1;
	T_CHECK(!icmp_err_allowed(c), "a token before its interval");
	c->now += 1;
	T_CHECK(icmp_err_allowed(c), "no token after its interval");
	free(c);
	printf("%s\n", t_failures ? "FAILED" : "icmp_rate: all cases pass");
	return t_failures != 0;
}
