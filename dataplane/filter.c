// SPDX-License-Identifier: GPL-2.0-only
/*
 * filter.c - see filter.h. Rules are scanned in order; tailnet ACLs compile to a handful of rules,
 * so a linear scan over prefixes is cheaper than building a trie per rule.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include "filter.h"
#include "pkt.h"
#include "tsmp.h"

struct filter *filter_new(void)
{
	static _Atomic uint64_t serials;
	struct filter *f = calloc(1, sizeof(struct filter));

	if (f)
		f->serial = atomic_fetch_add_explicit(&serials, 1, memory_order_relaxed) + 1;
	return f;
}

struct filter *filter_new_allow_none(void)
{
	struct filter *f = filter_new();

	if (f)
		f->allow_none = true;
	return f;
}

struct filter_rule *filter_rule_add(struct filter *f)
{
	struct filter_rule *r = realloc(f->rules, (f->n_rules + 1) * sizeof(*r));

	if (!r)
		return NULL;
	f->rules = r;
	r = &f->rules[f->n_rules++];
	memset(r, 0, sizeof(*r));
	return r;
}

int filter_rule_src(struct filter_rule *r, const struct mg_ipprefix *p)
{
	struct mg_ipprefix *v = realloc(r->src, (r->n_src + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->src = v;
	r->src[r->n_src++] = *p;
	return 0;
}

int filter_rule_dst(struct filter_rule *r, const struct mg_ipprefix *p, uint16_t first, uint16_t last)
{
	struct filter_dst *v = realloc(r->dst, (r->n_dst + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->dst = v;
	r->dst[r->n_dst].prefix = *p;
	r->dst[r->n_dst].port_first = first;
	r->dst[r->n_dst].port_last = last;
	r->n_dst++;
	return 0;
}

void filter_rule_proto(struct filter_rule *r, uint8_t proto)
{
	r->protos[proto / 32] |= 1u << (proto % 32);
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_rules; i++) {
		free(f->rules[i].src);
		free(f->rules[i].dst);
	}
	free(f->rules);
	free(f);
}

/* Protocol and destination port; IPv6 extension headers other than none are not walked. */
static uint8_t l4_info(const uint8_t *l3, uint32_t len, int family, uint16_t *dport, bool *has_port)
{
	uint32_t hl = family == AF_INET ? (l3[0] & 0xf) * 4u : IP6_HLEN;
	uint8_t proto = family == AF_INET ? l3[9] : l3[6];
	bool first_fragment = family != AF_INET || !(ntohs(*(const uint16_t *)(l3 + 6)) & 0x1fff);

	*has_port = (proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP) &&
		    first_fragment && len >= hl + 4;
	*dport = *has_port ? (uint16_t)(l3[hl + 2] << 8 | l3[hl + 3]) : 0;
	return proto;
}

/*
 * Tailscale's receive-side semantics (wgengine/filter runIn4/runIn6): rules decide only new flows;
 * the rest passes statelessly (UDP replies: flowtrack.h, asked by the worker before the rules).
 */
static bool always_passes(const uint8_t *l3, uint32_t len, int family, uint8_t proto)
{
	uint32_t hl = family == AF_INET ? (l3[0] & 0xf) * 4u : IP6_HLEN;
	uint8_t t;

	if (len < hl + 14)
		return false;
	t = l3[hl];
	if (proto == IPPROTO_TCP)                         /* only SYN without ACK opens a flow */
		return !((l3[hl + 13] & 0x12) == 0x02);
	if (proto == IPPROTO_ICMP)                        /* echo reply and errors */
		return t == 0 || t == 3 || t == 11 || t == 12;
	if (proto == IPPROTO_ICMPV6)
		return t == 129 || (t >= 1 && t <= 4);
	return false;
}

static bool rule_allows(const struct filter_rule *r, int family, const uint8_t *src, const uint8_t *dst,
			uint8_t proto, uint16_t dport, bool has_port)
{
	bool portless = proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
	bool src_ok = false;

	if (!(r->protos[proto / 32] >> (proto % 32) & 1))
		return false;
	for (size_t i = 0; i < r->n_src && !src_ok; i++)
		src_ok = mg_prefix_contains(&r->src[i], family, src);
	if (!src_ok)
		return false;
	for (size_t i = 0; i < r->n_dst; i++) {
		const struct filter_dst *d = &r->dst[i];

		if (!mg_prefix_contains(&d->prefix, family, dst))
			continue;
		/* ICMP matches on addresses alone; other port-less protocols need an all-ports rule. */
		if (has_port ? dport >= d->port_first && dport <= d->port_last :
		    portless || (d->port_first == 0 && d->port_last == 65535))
			return true;
	}
	return false;
}

bool filter_allows(const struct filter *f, const uint8_t *l3, uint32_t len, int family)
{
	const uint8_t *src = ip_src(l3, family), *dst = ip_dst(l3, family);
	uint16_t dport;
	bool has_port;
	uint8_t proto;

	if (!f)
		return true;
	proto = l4_info(l3, len, family, &dport, &has_port);
	/* TSMP is the router's own business (tsmp.h), whatever a rule lists. */
	if (f->allow_none || proto == TSMP_PROTO)
		return false;
	/* An IPv4 fragment after the first has no ports: its first was judged, and without it the
	 * rest is useless to the receiver, so it passes, as in tailscaled; unless its offset is
	 * below FILTER_MIN_FRAG_BLOCKS, where it could overwrite the first fragment's headers. (An
	 * IPv6 Fragment header is protocol 44 here: no rule names it, so it is dropped, as
	 * tailscaled drops it.) */
	if (family == AF_INET && (ntohs(*(const uint16_t *)(l3 + 6)) & 0x1fff))
		return (ntohs(*(const uint16_t *)(l3 + 6)) & 0x1fff) >= FILTER_MIN_FRAG_BLOCKS;
	if (always_passes(l3, len, family, proto))
		return true;
	for (size_t i = 0; i < f->n_rules; i++)
		if (rule_allows(&f->rules[i], family, src, dst, proto, dport, has_port))
			return true;
	return false;
}
