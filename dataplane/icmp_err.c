// SPDX-License-Identifier: GPL-2.0-only
/* icmp_err.c - see icmp_err.h. */
#include <errno.h>
#include "icmp_err.h"
#include "pkt.h"
#include "icmp_build.h"

static bool icmp_err_allowed(struct wctx *c)
{
	uint64_t elapsed = c->now - c->icmp_last;

	c->icmp_last = c->now;
	c->icmp_tokens += elapsed / (NSEC_PER_SEC / ICMP_ERR_PER_SEC);
	if (c->icmp_tokens > ICMP_ERR_BURST)
		c->icmp_tokens = ICMP_ERR_BURST;
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
