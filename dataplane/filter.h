/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * filter.h - the tailnet packet filter (ACLs are enforced on the receiving node: Tailscale's
 * MapResponse.PacketFilter). Applied to every packet that arrives from a peer, after decryption
 * and the cryptokey source check. A rule allows a packet when its protocol is listed, its source is
 * in one of the rule's source prefixes and its destination matches one of the rule's (prefix, port
 * range) pairs. No rule matches: dropped. A compiled filter with no rules denies every new flow
 * (fail closed); the allow-none filter (a Headscale-managed router before it has a policy, as
 * tailscaled before its first netmap) denies every packet; no filter at all (a static
 * configuration without one) allows everything. TSMP (IP protocol 99) is never allowed: the
 * router consumes it (tsmp.h) before the filter runs.
 *
 * Immutable once compiled; the control thread publishes a new one with RCU and workers read it.
 */
#ifndef MG_FILTER_H
#define MG_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "addr.h"

struct filter_dst {
	struct mg_ipprefix prefix;
	uint16_t port_first, port_last;      /* ignored for protocols without ports (ICMP) */
};

struct filter_rule {
	uint32_t protos[8];                  /* bitmap of IP protocol numbers */
	size_t n_src, n_dst;
	struct mg_ipprefix *src;
	struct filter_dst *dst;
};

struct filter {
	uint64_t serial;                     /* unique in the process, never reused: workers' flow
					      * memos name the filter by it (a freed filter's
					      * address may come back as another's) */
	bool allow_none;                     /* no policy yet: drop all, even replies */
	size_t n_rules;
	struct filter_rule *rules;
};

/* Builder (control thread). */
/* The lowest offset (8-byte blocks) of a later IPv4 fragment the filter passes: beyond the
 * longest IPv4 header (60) plus a TCP header (20). */
#define FILTER_MIN_FRAG_BLOCKS 10u

struct filter *filter_new(void);
struct filter *filter_new_allow_none(void);
struct filter_rule *filter_rule_add(struct filter *f);
int filter_rule_src(struct filter_rule *r, const struct mg_ipprefix *p);
int filter_rule_dst(struct filter_rule *r, const struct mg_ipprefix *p, uint16_t first, uint16_t last);
void filter_rule_proto(struct filter_rule *r, uint8_t proto);
void filter_free(struct filter *f);

/* Worker: does the filter allow the IP packet at l3 (len bytes, already validated)? */
bool filter_allows(const struct filter *f, const uint8_t *l3, uint32_t len, int family);

#endif
