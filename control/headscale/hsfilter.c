// SPDX-License-Identifier: GPL-2.0-only
/* hsfilter.c - see hsfilter.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "hsfilter.h"
#include "dataplane.h"
#include "addrfmt.h"

typedef unsigned __int128 u128;

static u128 addr_to_int(const uint8_t *a, int family)
{
	u128 v = 0;

	for (int i = 0; i < (family == AF_INET ? 4 : 16); i++)
		v = v << 8 | a[i];
	return v;
}

static void int_to_addr(u128 v, uint8_t *a, int family)
{
	for (int i = (family == AF_INET ? 4 : 16) - 1; i >= 0; i--, v >>= 8)
		a[i] = (uint8_t)v;
}

/* Inclusive range -> the minimal list of prefixes covering it exactly. */
static int add_range(struct filter_rule *r, bool dst, int family, u128 lo, u128 hi, uint16_t pf, uint16_t pl)
{
	unsigned bits = family == AF_INET ? 32 : 128;

	while (lo <= hi) {
		unsigned size = 0;     /* log2 of the block */
		struct mg_ipprefix p = { .family = family };
		int ret;

		while (size < bits && !(lo & ((u128)1 << size)) && lo + (((u128)2 << size) - 1) <= hi)
			size++;
		p.cidr = bits - size;
		int_to_addr(lo, p.addr, family);
		ret = dst ? filter_rule_dst(r, &p, pf, pl) : filter_rule_src(r, &p);
		if (ret)
			return ret;
		if (size == bits || lo + ((u128)1 << size) - 1 == hi)
			break;
		lo += (u128)1 << size;
	}
	return 0;
}

static int add_addr(struct filter_rule *r, bool dst, const char *s, uint16_t pf, uint16_t pl)
{
	static const struct mg_ipprefix any4 = { .family = AF_INET }, any6 = { .family = AF_INET6 };
	struct mg_ipprefix a, b;
	char buf[128];
	const char *dash = strchr(s, '-');

	if (!strcmp(s, "*")) {
		return dst ? filter_rule_dst(r, &any4, pf, pl) || filter_rule_dst(r, &any6, pf, pl) :
			     filter_rule_src(r, &any4) || filter_rule_src(r, &any6);
	}
	if (!dash)
		return addrfmt_parse_prefix(&a, s) ? -1 :
		       dst ? filter_rule_dst(r, &a, pf, pl) : filter_rule_src(r, &a);
	if ((size_t)(dash - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, dash - s);
	buf[dash - s] = '\0';
	if (addrfmt_parse_prefix(&a, buf) || addrfmt_parse_prefix(&b, dash + 1) || a.family != b.family)
		return -1;
	if (addr_to_int(a.addr, a.family) > addr_to_int(b.addr, b.family))
		return -1;
	return add_range(r, dst, a.family, addr_to_int(a.addr, a.family), addr_to_int(b.addr, b.family), pf, pl);
}

static int rule_compile(struct filter *f, const json_t *jr, char *err, size_t errlen)
{
	const json_t *src = json_object_get(jr, "SrcIPs"), *dsts = json_object_get(jr, "DstPorts");
	const json_t *protos = json_object_get(jr, "IPProto"), *v;
	struct filter_rule *r;
	size_t i;

	if (json_object_get(jr, "SrcBits")) {
		snprintf(err, errlen, "SrcBits is not supported (tailscale clients reject it too)");
		return -1;
	}
	if (!json_is_array(dsts) || !json_array_size(dsts))
		return 0;                     /* a CapGrant rule: grants no packets */
	r = filter_rule_add(f);
	if (!r)
		return -1;
	json_array_foreach(src, i, v)
		if (json_is_string(v) && strncmp(json_string_value(v), "cap:", 4) &&
		    add_addr(r, false, json_string_value(v), 0, 0)) {
			snprintf(err, errlen, "SrcIPs: bad entry \"%s\"", json_string_value(v));
			return -1;
		}
	json_array_foreach(dsts, i, v) {
		const json_t *ip = json_object_get(v, "IP"), *ports = json_object_get(v, "Ports");
		json_int_t first = json_integer_value(json_object_get(ports, "First"));
		json_int_t last = json_integer_value(json_object_get(ports, "Last"));

		if (!json_is_string(ip) || json_object_get(v, "Bits") || first < 0 || last > 65535 || first > last ||
		    add_addr(r, true, json_string_value(ip), (uint16_t)first, (uint16_t)last)) {
			snprintf(err, errlen, "DstPorts: bad entry %zu", i);
			return -1;
		}
	}
	if (!json_array_size(protos)) {
		filter_rule_proto(r, IPPROTO_TCP);
		filter_rule_proto(r, IPPROTO_UDP);
		filter_rule_proto(r, IPPROTO_ICMP);
		filter_rule_proto(r, IPPROTO_ICMPV6);
	}
	json_array_foreach(protos, i, v)
		if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 255)
			filter_rule_proto(r, (uint8_t)json_integer_value(v));
	return 0;
}

struct filter *hs_filter_compile(const json_t *rules, char *err, size_t errlen)
{
	struct filter *f = filter_new();
	const json_t *jr;
	size_t i;

	if (!f)
		return NULL;
	if (!json_is_array(rules)) {
		snprintf(err, errlen, "PacketFilter is not an array");
		goto fail;
	}
	json_array_foreach(rules, i, jr)
		if (rule_compile(f, jr, err, errlen))
			goto fail;
	return f;
fail:
	filter_free(f);
	return NULL;
}
