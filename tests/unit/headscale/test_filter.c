// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_filter.c - PacketFilter JSON -> dataplane filter -> verdicts, as a numbered table of
 * allow/deny cases (tailscale's receive-side rules), plus range splitting and
 * malformed filters.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include "hsfilter.h"
#include "filter.h"

static int failures;

/* A minimal IPv4/IPv6 packet: proto, src, dst, dport, TCP flags or ICMP type. */
static uint32_t build(uint8_t *b, const char *src, const char *dst, uint8_t proto, uint16_t dport, uint8_t flags_or_type)
{
	int v6 = strchr(src, ':') != NULL;
	uint32_t hl = v6 ? 40 : 20;

	memset(b, 0, 128);
	if (v6) {
		b[0] = 0x60;
		b[6] = proto;
		inet_pton(AF_INET6, src, b + 8);
		inet_pton(AF_INET6, dst, b + 24);
	} else {
		b[0] = 0x45;
		b[9] = proto;
		inet_pton(AF_INET, src, b + 12);
		inet_pton(AF_INET, dst, b + 16);
	}
	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
		b[hl + 2] = dport >> 8;
		b[hl + 3] = dport & 0xff;
		b[hl + 13] = flags_or_type;
	} else {
		b[hl] = flags_or_type;
	}
	return hl + 20;
}

struct pcase {
	const char *src, *dst;
	uint8_t proto;
	uint16_t dport;
	uint8_t flags_or_type;
	int want;
};

#define SYN 0x02
#define ACK 0x10

static void run(const char *name, const char *json, const struct pcase *cases, size_t n)
{
	json_error_t jerr;
	json_t *rules = json_loads(json, 0, &jerr);
	char err[160] = "";
	struct filter *f = hs_filter_compile(rules, err, sizeof(err));

	if (!f) {
		printf("FAIL %s: compile: %s\n", name, err);
		failures++;
		json_decref(rules);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint8_t pkt[128];
		int fam = strchr(cases[i].src, ':') ? AF_INET6 : AF_INET;
		uint32_t len = build(pkt, cases[i].src, cases[i].dst, cases[i].proto, cases[i].dport, cases[i].flags_or_type);
		int got = filter_allows(f, pkt, len, fam);

		if (got != cases[i].want) {
			printf("FAIL %s case %zu: %s -> %s proto %u port %u: got %s\n", name, i + 1, cases[i].src,
			       cases[i].dst, cases[i].proto, cases[i].dport, got ? "allow" : "deny");
			failures++;
		}
	}
	printf("ok %s (%zu cases)\n", name, n);
	filter_free(f);
	json_decref(rules);
}

/* No policy yet (a Headscale router before its first filter): not even what an empty rule list
 * lets through statelessly (replies, established TCP) passes. */
static void allow_none(void)
{
	static const struct pcase none[] = {
		{ "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 22, SYN, 0 },
		{ "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 80, ACK, 0 },
		{ "100.64.0.2", "192.168.8.80", IPPROTO_ICMP, 0, 0, 0 },
		{ "fd7a:115c:a1e0::2", "fd00:8::80", IPPROTO_ICMPV6, 0, 129, 0 },
		{ "100.64.0.2", "192.168.8.80", IPPROTO_UDP, 53, 0, 0 },
	};
	struct filter *f = filter_new_allow_none();

	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		uint8_t pkt[128];
		int fam = strchr(none[i].src, ':') ? AF_INET6 : AF_INET;
		uint32_t len = build(pkt, none[i].src, none[i].dst, none[i].proto, none[i].dport, none[i].flags_or_type);

		if (filter_allows(f, pkt, len, fam)) {
			printf("FAIL allow_none case %zu: allowed\n", i + 1);
			failures++;
		}
	}
	printf("ok allow_none (%zu cases)\n", sizeof(none) / sizeof(none[0]));
	filter_free(f);
}

/* IPv4 fragments after the first pass whatever the rules, unless their offset could reach into
 * the first fragment's headers; an IPv6 Fragment header passes no rule. */
static void fragments(void)
{
	static const struct { uint16_t frag_field; int want; } v4[] = {
		{ 185, 1 },                          /* 1 offset 1480 bytes: a later fragment */
		{ FILTER_MIN_FRAG_BLOCKS, 1 },       /* 2 the lowest offset passed */
		{ FILTER_MIN_FRAG_BLOCKS - 1, 0 },   /* 3 could overlap the headers */
		{ 1, 0 },                            /* 4 likewise */
		{ 0x2000, 0 },                       /* 5 a first fragment (MF): judged by its port, none allowed */
		{ 0x2000 | 185, 1 },                 /* 6 a middle fragment */
	};
	struct filter *f = filter_new();      /* a policy with no rules */
	uint8_t pkt[128];
	uint32_t len;
	size_t i;

	for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++) {
		len = build(pkt, "100.64.0.2", "192.168.8.80", IPPROTO_UDP, 53, 0);
		pkt[6] = (uint8_t)(v4[i].frag_field >> 8);
		pkt[7] = (uint8_t)v4[i].frag_field;
		if (filter_allows(f, pkt, len, AF_INET) != v4[i].want) {
			printf("FAIL fragments case %zu: frag field 0x%04x: got %s\n", i + 1, v4[i].frag_field,
			       v4[i].want ? "deny" : "allow");
			failures++;
		}
	}
	len = build(pkt, "fd7a:115c:a1e0::2", "fd00:8::80", 44, 0, 0);
	if (filter_allows(f, pkt, len, AF_INET6)) {
		printf("FAIL fragments case %zu: an IPv6 Fragment header allowed\n", i + 1);
		failures++;
	}
	printf("ok fragments (%zu cases)\n", i + 1);
	filter_free(f);
}

int main(void)
{
	/* Only TCP 22 to one LAN host, from one laptop. */
	static const struct pcase ssh_only[] = {
		{ "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 22, SYN, 1 },      /* 1 the allowed flow */
		{ "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 80, SYN, 0 },      /* 2 other port */
		{ "100.64.0.2", "192.168.8.81", IPPROTO_TCP, 22, SYN, 0 },      /* 3 other host */
		{ "100.64.0.3", "192.168.8.80", IPPROTO_TCP, 22, SYN, 0 },      /* 4 other source */
		{ "100.64.0.2", "192.168.8.80", IPPROTO_UDP, 22, 0, 0 },        /* 5 proto not listed */
		{ "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 80, SYN | ACK, 1 },/* 6 not a new flow: passes */
		{ "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 80, ACK, 1 },      /* 7 established: passes */
		{ "100.64.0.2", "192.168.8.80", IPPROTO_ICMP, 0, 8, 0 },        /* 8 echo request: needs a rule */
		{ "100.64.0.2", "192.168.8.80", IPPROTO_ICMP, 0, 0, 1 },        /* 9 echo reply always passes */
		{ "100.64.0.2", "192.168.8.80", IPPROTO_ICMP, 0, 3, 1 },        /* 10 unreachable always passes */
		{ "100.64.0.2", "192.168.8.80", 99, 0, 0, 0 },                  /* 11 TSMP: the router's, never forwarded */
		{ "100.64.0.2", "192.168.8.80", 47, 0, 0, 0 },                  /* 12 GRE: no all-ports rule */
	};
	/* Headscale without a policy: allow all (default protocols). */
	static const struct pcase allow_all[] = {
		{ "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 443, SYN, 1 },
		{ "fd7a:115c:a1e0::2", "fd00:8::80", IPPROTO_UDP, 53, 0, 1 },
		{ "fd7a:115c:a1e0::2", "fd00:8::80", IPPROTO_ICMPV6, 0, 128, 1 },
		{ "100.64.0.2", "192.168.8.80", 47, 0, 0, 1 },                  /* all ports -> other protos too */
		{ "100.64.0.2", "192.168.8.80", 132, 0, 0, 0 },                 /* ... but only listed protocols */
	};
	/* A rule that lists protocol 99 with all ports still admits no TSMP. */
	static const struct pcase tsmp_listed[] = {
		{ "100.64.0.2", "192.168.8.80", 99, 0, 0, 0 },
		{ "fd7a:115c:a1e0::2", "fd00:8::80", 99, 0, 0, 0 },
		{ "100.64.0.2", "192.168.8.80", 47, 0, 0, 1 },                  /* the rule itself works */
	};
	/* An empty list: deny everything new (fail closed). */
	static const struct pcase deny_all[] = {
		{ "100.64.0.2", "192.168.8.80", IPPROTO_TCP, 22, SYN, 0 },
		{ "100.64.0.2", "192.168.8.80", IPPROTO_UDP, 53, 0, 0 },
		{ "100.64.0.2", "192.168.8.80", IPPROTO_ICMP, 0, 8, 0 },
	};
	/* Ranges are split into exact prefixes; ICMP ignores ports; explicit IPProto. */
	static const struct pcase ranges[] = {
		{ "100.64.0.7", "10.33.1.1", IPPROTO_UDP, 5000, 0, 1 },        /* inside 100.64.0.5-100.64.0.9 */
		{ "100.64.0.4", "10.33.1.1", IPPROTO_UDP, 5000, 0, 0 },        /* just below */
		{ "100.64.0.10", "10.33.1.1", IPPROTO_UDP, 5000, 0, 0 },       /* just above */
		{ "100.64.0.9", "10.33.1.1", IPPROTO_UDP, 5000, 0, 1 },        /* upper bound inclusive */
		{ "100.64.0.5", "10.34.0.1", IPPROTO_UDP, 5000, 0, 0 },        /* dst outside /16 */
		{ "100.64.0.5", "10.33.0.1", IPPROTO_TCP, 5000, SYN, 0 },      /* only UDP listed */
		{ "fd7a:115c:a1e0::9", "10.33.0.1", IPPROTO_UDP, 5000, 0, 0 },  /* family mismatch */
	};

	run("ssh_only", "[{\"SrcIPs\":[\"100.64.0.2\"],\"DstPorts\":[{\"IP\":\"192.168.8.80\","
	    "\"Ports\":{\"First\":22,\"Last\":22}}],\"IPProto\":[6]}]", ssh_only, sizeof(ssh_only) / sizeof(ssh_only[0]));
	run("allow_all", "[{\"SrcIPs\":[\"*\"],\"DstPorts\":[{\"IP\":\"*\",\"Ports\":{\"First\":0,\"Last\":65535}}],"
	    "\"IPProto\":[6,17,1,58,47]}]", allow_all, sizeof(allow_all) / sizeof(allow_all[0]));
	run("deny_all", "[]", deny_all, sizeof(deny_all) / sizeof(deny_all[0]));
	run("tsmp_listed", "[{\"SrcIPs\":[\"*\"],\"DstPorts\":[{\"IP\":\"*\",\"Ports\":{\"First\":0,\"Last\":65535}}],"
	    "\"IPProto\":[99,47]}]", tsmp_listed, sizeof(tsmp_listed) / sizeof(tsmp_listed[0]));
	allow_none();
	fragments();
	run("ranges", "[{\"SrcIPs\":[\"100.64.0.5-100.64.0.9\",\"cap:foo\"],\"DstPorts\":[{\"IP\":\"10.33.0.0/16\","
	    "\"Ports\":{\"First\":0,\"Last\":65535}}],\"IPProto\":[17]},{\"Dsts\":[],\"Caps\":[]}]",
	    ranges, sizeof(ranges) / sizeof(ranges[0]));

	/* Malformed filters are refused (the caller keeps the old one). */
	static const char *const bad[] = {
		"{}", "[{\"SrcIPs\":[\"nonsense\"],\"DstPorts\":[{\"IP\":\"*\",\"Ports\":{\"First\":0,\"Last\":1}}]}]",
		"[{\"SrcIPs\":[\"*\"],\"DstPorts\":[{\"IP\":\"*\",\"Ports\":{\"First\":9,\"Last\":1}}]}]",
		"[{\"SrcBits\":[32],\"SrcIPs\":[\"*\"],\"DstPorts\":[{\"IP\":\"*\",\"Ports\":{\"First\":0,\"Last\":1}}]}]",
		"[{\"SrcIPs\":[\"100.64.0.9-100.64.0.1\"],\"DstPorts\":[{\"IP\":\"*\",\"Ports\":{\"First\":0,\"Last\":1}}]}]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = json_loads(bad[i], 0, NULL);
		char err[160];
		struct filter *f = hs_filter_compile(j, err, sizeof(err));

		if (f) {
			printf("FAIL bad filter %zu accepted\n", i + 1);
			failures++;
			filter_free(f);
		}
		json_decref(j);
	}
	printf("%s\n", failures ? "FAILED" : "all filter cases pass");
	return failures != 0;
}
