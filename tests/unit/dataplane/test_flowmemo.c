// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_flowmemo - the worker's memo of the LAN flow it noted last (wk_flow_noted, worker_tx.h):
 * a packet skips the flow table only if it is an unfragmented TCP or UDP packet (IPv4 without
 * options, IPv6 with TCP/UDP right after its header) of the very flow noted last, in the same
 * pass; any packet that is noted some other way (ICMP, a fragment, IPv4 options, an IPv6
 * extension header) clears the memo, since its note may evict that flow's entry.
 */
#include <stdio.h>
#include <string.h>
#include "device.h"
#include "wctx.h"
#include "worker_tx.h"

static int failures, checks;
#define CHECK(c) do { checks++; if (!(c)) { failures++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

/* An IPv4 packet of protocol proto from 192.168.8.10:sport to 100.64.0.2:dport, 48 bytes. */
static void v4(uint8_t *p, uint8_t proto, uint16_t sport, uint16_t dport)
{
	memset(p, 0, 48);
	p[0] = 0x45;
	p[3] = 48;
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, (const uint8_t[]){ 192, 168, 8, 10, 100, 64, 0, 2 }, 8);
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
}

static bool noted(struct wctx *c, const uint8_t *p, int family)
{
	return wk_flow_noted(c, p, 48, family, family == AF_INET ? p[9] : p[6]);
}

int main(void)
{
	struct mg_device dev = { 0 };
	struct worker w = { .dev = &dev };
	struct wctx *c = wk_ctx_new(&w);
	uint8_t a[48], b[48], icmp[48], frag[48], opts[48], v6[48] = { 0x60 }, v6b[48], v6c[48], v6x[48];

	if (!c)
		return printf("FAIL: wk_ctx_new\n"), 1;
	v4(a, IPPROTO_UDP, 40000, 53);
	v4(b, IPPROTO_UDP, 40000, 54);
	v4(icmp, IPPROTO_ICMP, 0x0800, 0);
	v4(frag, IPPROTO_UDP, 40000, 53);
	frag[6] = 0x20;                  /* more fragments */
	v4(opts, IPPROTO_TCP, 40000, 53);
	opts[0] = 0x46;
	v6[6] = IPPROTO_UDP;
	memcpy(v6 + 8, (const uint8_t[]){ 0xfd, 0, 0, 8, [15] = 10 }, 16);
	memcpy(v6 + 24, (const uint8_t[]){ 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, [15] = 2 }, 16);
	memcpy(v6 + 40, (const uint8_t[]){ 0x9c, 0x40, 0, 53 }, 4);
	memcpy(v6b, v6, 48);
	v6b[23] = 11;                    /* another source, by its last byte */
	memcpy(v6c, v6, 48);
	v6c[39] = 3;                     /* another destination, by its last byte */
	memcpy(v6x, v6, 48);
	v6x[6] = 0;                      /* a hop-by-hop options header first */
	c->pass = 5;

	CHECK(!noted(c, a, AF_INET));    /* first: the table is asked */
	CHECK(noted(c, a, AF_INET));     /* again in the pass: skipped */
	CHECK(noted(c, a, AF_INET));
	CHECK(!noted(c, b, AF_INET));    /* another port: asked, and remembered instead */
	CHECK(!noted(c, a, AF_INET));
	CHECK(noted(c, a, AF_INET));
	a[9] = IPPROTO_TCP;              /* same addresses and ports, other protocol */
	CHECK(!noted(c, a, AF_INET));
	a[9] = IPPROTO_UDP;
	CHECK(!noted(c, a, AF_INET));
	CHECK(!noted(c, icmp, AF_INET)); /* noted elsewhere: the memo is cleared */
	CHECK(!noted(c, a, AF_INET));
	CHECK(noted(c, a, AF_INET));
	CHECK(!noted(c, v6, AF_INET6));  /* IPv6 as well: asked once, then skipped */
	CHECK(noted(c, v6, AF_INET6));
	CHECK(!noted(c, v6b, AF_INET6)); /* each of the four address words counts */
	CHECK(!noted(c, v6c, AF_INET6));
	CHECK(!noted(c, v6, AF_INET6));
	CHECK(noted(c, v6, AF_INET6));
	CHECK(!noted(c, v6x, AF_INET6)); /* an extension header: noted elsewhere, memo cleared */
	CHECK(!noted(c, v6, AF_INET6));
	CHECK(!noted(c, a, AF_INET));
	CHECK(!noted(c, frag, AF_INET)); /* a first fragment has ports, but is not memoized */
	CHECK(!noted(c, a, AF_INET));
	CHECK(!noted(c, opts, AF_INET)); /* IPv4 options: the ports are elsewhere */
	CHECK(!noted(c, opts, AF_INET));
	CHECK(!noted(c, a, AF_INET));
	CHECK(noted(c, a, AF_INET));
	c->pass = 6;                     /* a new pass (a new clock): asked again */
	CHECK(!noted(c, a, AF_INET));
	CHECK(noted(c, a, AF_INET));

	wk_ctx_free(c);
	printf("test_flowmemo: %d/%d checks passed\n", checks - failures, checks);
	return failures ? 1 : 0;
}
