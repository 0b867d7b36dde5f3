// SPDX-License-Identifier: GPL-2.0-only
/* icmp_err.c - see icmp_err.h. */
#include <errno.h>
#include "icmp_err.h"
#include "pkt.h"
#include "icmp_build.h"

/*
 * A token bucket: one token per 1/ICMP_ERR_PER_SEC of clock, at most ICMP_ERR_BURST saved. The
 * clock advances only by the whole tokens it paid for, so the remainder of an interval counts
 * towards the next token: a flood that asks every millisecond still gets ICMP_ERR_PER_SEC a
 * second, not nothing (resetting the clock on every call threw each 1 ms away).
 */
bool icmp_err_allowed(struct wctx *c)
{
	const uint64_t interval = NSEC_PER_SEC / ICMP_ERR_PER_SEC;
	uint64_t n = (c->now - c->icmp_last) / interval;

	if (n) {
		c->icmp_last += n * interval;
		n += c->icmp_tokens;
		c->icmp_tokens = n > ICMP_ERR_BURST ? ICMP_ERR_BURST : (uint32_t)n;
	}
	if (!c->icmp_tokens)
		return false;
	c->icmp_tokens--;
	return true;
}

bool icmp_err_too_big(struct wctx *c, const struct wpkt *orig, uint32_t mtu, struct wpkt *out)
{
	struct nl_l2hop hop;
	struct wpkt p = { .family = orig->family, .origin = FROM_LOCAL };
	uint64_t base;

	if (orig->family == AF_INET && !(((const struct iphdr *)orig->l3)->frag_off & htons(IP_DF)))
		return false;
	if (nl_snapshot_lookup(c->nl, orig->family, ip_src(orig->l3, orig->family), &hop) == -ENETUNREACH ||
	    !icmp_err_allowed(c))
		return false;
	base = io_frame_get(&c->w->port);
	if (base == UINT64_MAX)
		return false;
	p.addr = base + FRAME_DATA_OFF;
	p.l3 = io_port_data(&c->w->port, p.addr);
	p.len = icmp_build_too_big(p.l3, orig->l3, orig->len, orig->family, hop.src_addr, mtu);
	c->ctr->icmp_sent++;
	*out = p;
	return true;
}
