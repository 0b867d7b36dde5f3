// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_nl_snapshot.c - no kernel needed: (1) the rtnetlink parser on hand-built messages,
 * (2) table-driven lookups, (3) a differential test of the snapshot's LPM + neighbour + source
 * selection against a deliberately naive linear scan over the same tables.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>
#include <linux/if_addr.h>
#include <libmnl/libmnl.h>

#include "mg.h"
#include "netlink/nl_snapshot.h"
#include "netlink/nltables.h"

#define OURS 7
#define OTHER 9

static int failures;

#define CHECK(cond, ...) do {                                              \
	if (!(cond)) {                                                     \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);       \
		fprintf(stderr, __VA_ARGS__);                              \
		fprintf(stderr, "\n");                                     \
		failures++;                                                \
	}                                                                  \
} while (0)

static void pton(int family, const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(family, s, out) != 1) {
		fprintf(stderr, "bad address %s\n", s);
		exit(1);
	}
}

static const char *ntop(int family, const uint8_t *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int i;

	i = (i + 1) % 4;
	return inet_ntop(family, a, buf[i], sizeof(buf[i]));
}

/* ---- message builders (what the kernel sends) ---- */

static struct nlmsghdr *msg_route(char *buf, uint16_t type, uint16_t flags, int family,
				  const char *dst, int len, const char *gw, int oif, uint32_t table)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	uint8_t a[16];
	unsigned int alen = family == AF_INET ? 4 : 16;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_dst_len = (uint8_t)len;
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_COMPAT;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, table);
	if (len) {
		pton(family, dst, a);
		mnl_attr_put(nlh, RTA_DST, alen, a);
	}
	if (gw) {
		pton(family, gw, a);
		mnl_attr_put(nlh, RTA_GATEWAY, alen, a);
	}
	if (oif)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
	return nlh;
}

static struct nlmsghdr *msg_neigh(char *buf, uint16_t type, int family, const char *dst,
				  const uint8_t *mac, uint16_t state, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	uint8_t a[16];

	nlh->nlmsg_type = type;
	ndm->ndm_family = (uint8_t)family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = state;
	pton(family, dst, a);
	mnl_attr_put(nlh, NDA_DST, family == AF_INET ? 4 : 16, a);
	if (mac)
		mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	return nlh;
}

static struct nlmsghdr *msg_addr(char *buf, uint16_t type, int family, const char *addr, int plen,
				 uint8_t scope, uint32_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	uint8_t a[16];

	nlh->nlmsg_type = type;
	ifa->ifa_family = (uint8_t)family;
	ifa->ifa_prefixlen = (uint8_t)plen;
	ifa->ifa_scope = scope;
	ifa->ifa_index = OURS;
	pton(family, addr, a);
	mnl_attr_put(nlh, IFA_ADDRESS, family == AF_INET ? 4 : 16, a);
	if (family == AF_INET)
		mnl_attr_put(nlh, IFA_LOCAL, 4, a);
	mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	return nlh;
}

static const uint8_t MAC_A[6] = { 2, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 2, 0, 0, 0, 0, 0xb };
static const uint8_t MAC_SELF[6] = { 2, 0, 0, 0, 0, 0x1 };

static int lookup_str(const struct nl_snapshot *s, int family, const char *dst, struct nl_l2hop *h)
{
	uint8_t a[16];

	pton(family, dst, a);
	memset(h, 0xee, sizeof(*h));
	return nl_snapshot_lookup(s, family, a, h);
}

static void test_parser(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nltables t;
	struct nlmsghdr *nlh;
	int r;

	nltables_init(&t, OURS);
	r = nltables_apply(&t, msg_route(buf, RTM_NEWROUTE, 0, AF_INET, "10.0.0.0", 8, "192.168.1.1", OURS, RT_TABLE_MAIN));
	CHECK(r & NLT_CHANGED && t.routes.n == 1, "new route");
	CHECK(t.routes.v[0].has_gw && t.routes.v[0].oif == OURS && t.routes.v[0].dst[0] == 10, "route fields");
	/* the same message again is idempotent */
	nltables_apply(&t, msg_route(buf, RTM_NEWROUTE, 0, AF_INET, "10.0.0.0", 8, "192.168.1.1", OURS, RT_TABLE_MAIN));
	CHECK(t.routes.n == 1, "duplicate NEWROUTE adds nothing (n=%zu)", t.routes.n);
	/* NLM_F_REPLACE with another gateway replaces, not adds */
	nltables_apply(&t, msg_route(buf, RTM_NEWROUTE, NLM_F_REPLACE, AF_INET, "10.0.0.0", 8, "192.168.1.2", OURS, RT_TABLE_MAIN));
	CHECK(t.routes.n == 1 && t.routes.v[0].gw[3] == 2, "replace (n=%zu)", t.routes.n);
	/* other tables and cloned routes are ignored */
	r = nltables_apply(&t, msg_route(buf, RTM_NEWROUTE, 0, AF_INET, "10.1.0.0", 16, NULL, OURS, 1000));
	CHECK(r == 0 && t.routes.n == 1, "table 1000 ignored");
	nlh = msg_route(buf, RTM_NEWROUTE, 0, AF_INET6, "2001:db8::", 64, NULL, OURS, RT_TABLE_MAIN);
	((struct rtmsg *)mnl_nlmsg_get_payload(nlh))->rtm_flags |= RTM_F_CLONED;
	CHECK(nltables_apply(&t, nlh) == 0 && t.routes.n == 1, "cloned ignored");
	/* a malformed RTA_DST must not become a default route */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	{
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

		rtm->rtm_family = AF_INET;
		rtm->rtm_dst_len = 24;
		rtm->rtm_table = RT_TABLE_MAIN;
		rtm->rtm_type = RTN_UNICAST;
		mnl_attr_put(nlh, RTA_DST, 3, "\x0a\x00\x00");
	}
	CHECK(nltables_apply(&t, nlh) == 0 && t.routes.n == 1, "malformed RTA_DST ignored");
	/* truncated header */
	nlh->nlmsg_len = sizeof(*nlh) + 2;
	CHECK(nltables_apply(&t, nlh) == 0, "truncated ignored");
	/* delete */
	r = nltables_apply(&t, msg_route(buf, RTM_DELROUTE, 0, AF_INET, "10.0.0.0", 8, "192.168.1.2", OURS, RT_TABLE_MAIN));
	CHECK(r & NLT_CHANGED && t.routes.n == 0, "delroute");

	/* neighbours: only ours, proxies ignored, state updates in place */
	nltables_apply(&t, msg_neigh(buf, RTM_NEWNEIGH, AF_INET, "192.168.1.1", MAC_A, NUD_REACHABLE, OURS));
	nltables_apply(&t, msg_neigh(buf, RTM_NEWNEIGH, AF_INET, "192.168.1.9", MAC_A, NUD_REACHABLE, OTHER));
	nlh = msg_neigh(buf, RTM_NEWNEIGH, AF_INET, "192.168.1.8", MAC_A, NUD_PERMANENT, OURS);
	((struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_flags = NTF_PROXY;
	nltables_apply(&t, nlh);
	CHECK(t.neighs.n == 1, "neigh filter (n=%zu)", t.neighs.n);
	nltables_apply(&t, msg_neigh(buf, RTM_NEWNEIGH, AF_INET, "192.168.1.1", NULL, NUD_INCOMPLETE, OURS));
	CHECK(t.neighs.n == 1 && t.neighs.v[0].state == NUD_INCOMPLETE && !t.neighs.v[0].has_mac, "neigh update");
	nltables_apply(&t, msg_neigh(buf, RTM_DELNEIGH, AF_INET, "192.168.1.1", NULL, 0, OURS));
	CHECK(t.neighs.n == 0, "delneigh");

	/* addresses: IFA_FLAGS is read; removal asks for a route re-dump (IPv4 is silent) */
	nltables_apply(&t, msg_addr(buf, RTM_NEWADDR, AF_INET6, "fd00::1", 64, RT_SCOPE_UNIVERSE, IFA_F_NODAD | IFA_F_PERMANENT));
	CHECK(t.addrs.n == 1 && (t.addrs.v[0].flags & IFA_F_NODAD), "addr flags");
	r = nltables_apply(&t, msg_addr(buf, RTM_DELADDR, AF_INET6, "fd00::1", 64, RT_SCOPE_UNIVERSE, 0));
	CHECK(t.addrs.n == 0 && (r & NLT_RESYNC_ROUTES), "deladdr");

	/* multipath: the hop through our interface is kept */
	nlh = msg_route(buf, RTM_NEWROUTE, 0, AF_INET, "172.16.0.0", 12, NULL, 0, RT_TABLE_MAIN);
	{
		struct nlattr *mp = mnl_attr_nest_start(nlh, RTA_MULTIPATH);
		struct rtnexthop *nh;
		uint8_t gw[16];
		int i;

		for (i = 0; i < 2; i++) {
			nh = mnl_nlmsg_get_payload_tail(nlh);
			mnl_nlmsg_put_extra_header(nlh, RTNH_ALIGN(sizeof(*nh)));
			nh->rtnh_ifindex = i ? OURS : OTHER;
			pton(AF_INET, i ? "192.168.1.77" : "10.99.0.1", gw);
			mnl_attr_put(nlh, RTA_GATEWAY, 4, gw);
			nh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) - (char *)nh);
		}
		mnl_attr_nest_end(nlh, mp);
	}
	nltables_apply(&t, nlh);
	CHECK(t.routes.n == 1 && t.routes.v[0].oif == OURS && t.routes.v[0].gw[3] == 77,
	      "multipath picks our hop (oif %d)", t.routes.n ? t.routes.v[0].oif : -1);
	nltables_free(&t);
}

static void add_route(struct nltables *t, int family, const char *dst, int len, const char *gw,
		      int oif, uint32_t metric, uint8_t type, const char *prefsrc)
{
	struct nl_route_ent r = { .family = (uint8_t)family, .dst_len = (uint8_t)len,
				  .type = type, .priority = metric, .oif = oif };

	pton(family, dst, r.dst);
	if (gw) {
		r.has_gw = true;
		pton(family, gw, r.gw);
	}
	if (prefsrc) {
		r.has_prefsrc = true;
		pton(family, prefsrc, r.prefsrc);
	}
	nltables_route_upsert(t, &r, false);
}

static void add_addr(struct nltables *t, int family, const char *a, int plen, uint8_t scope, uint32_t flags)
{
	struct nl_addr_ent e = { .family = (uint8_t)family, .prefixlen = (uint8_t)plen,
				 .scope = scope, .flags = flags };

	pton(family, a, e.addr);
	nltables_addr_upsert(t, &e);
}

static void add_neigh(struct nltables *t, int family, const char *a, const uint8_t *mac, uint16_t state)
{
	struct nl_neigh_ent n = { .family = (uint8_t)family, .state = state, .has_mac = mac != NULL };

	pton(family, a, n.addr);
	if (mac)
		memcpy(n.mac, mac, 6);
	nltables_neigh_upsert(t, &n);
}

static const struct lookup_case {
	int family;
	const char *dst;
	int ret;
	const char *nexthop, *src;
	const uint8_t *mac;
} lookup_cases[] = {
	/*  1 */ { AF_INET, "8.8.8.8", 0, "192.168.8.2", "192.168.8.105", MAC_A },      /* lowest metric default */
	/*  2 */ { AF_INET, "198.51.100.7", 0, "192.168.8.3", "192.168.8.105", MAC_B },
	/*  3 */ { AF_INET, "198.51.100.200", -EAGAIN, "192.168.8.4", "192.168.8.105", NULL }, /* /25 wins, INCOMPLETE */
	/*  4 */ { AF_INET, "192.168.8.80", 0, "192.168.8.80", "192.168.8.105", MAC_A },  /* on-link, PERMANENT */
	/*  5 */ { AF_INET, "192.168.8.81", -EAGAIN, "192.168.8.81", "192.168.8.105", NULL }, /* FAILED */
	/*  6 */ { AF_INET, "203.0.113.9", -ENETUNREACH, NULL, NULL, NULL },      /* other device hides default */
	/*  7 */ { AF_INET, "192.0.2.1", -ENETUNREACH, NULL, NULL, NULL },        /* blackhole */
	/*  8 */ { AF_INET, "10.7.1.1", -EAGAIN, "10.5.0.1", "10.5.0.5", NULL },   /* src: subnet of gateway */
	/*  9 */ { AF_INET, "100.64.1.2", 0, "192.168.8.3", "100.64.0.5", MAC_B }, /* prefsrc */
	/* 10 */ { AF_INET6, "2001:db8::99", -EAGAIN, "2001:db8::99", "2001:db8::5", NULL },
	/* 11 */ { AF_INET6, "2001:4860::1", 0, "fe80::1", "2001:db8::5", MAC_B }, /* link-local gw, DELAY */
	/* 12 */ { AF_INET6, "2001:db8:1::1", 0, "2001:db8::fe", "2001:db8::5", MAC_A }, /* PROBE */
	/* 13 */ { AF_INET, "192.168.8.82", 0, "192.168.8.82", "192.168.8.105", MAC_B }, /* NOARP with lladdr */
	/* 14 */ { AF_INET, "172.31.4.4", -EAGAIN, "172.31.4.4", "192.168.8.105", NULL }, /* primary over secondary */
};

static void build_fixture(struct nltables *t)
{
	nltables_init(t, OURS);
	memcpy(t->mac, MAC_SELF, 6);
	t->mtu = 1500;
	add_addr(t, AF_INET, "192.168.9.9", 24, RT_SCOPE_UNIVERSE, IFA_F_SECONDARY);
	add_addr(t, AF_INET, "192.168.8.105", 24, RT_SCOPE_UNIVERSE, IFA_F_PERMANENT);
	add_addr(t, AF_INET, "10.5.0.5", 16, RT_SCOPE_UNIVERSE, 0);
	add_addr(t, AF_INET, "10.5.0.6", 16, RT_SCOPE_UNIVERSE, IFA_F_SECONDARY);
	add_addr(t, AF_INET6, "fe80::5", 64, RT_SCOPE_LINK, 0);
	add_addr(t, AF_INET6, "fd7a::5", 64, RT_SCOPE_UNIVERSE, IFA_F_TENTATIVE);
	add_addr(t, AF_INET6, "fd7a::6", 64, RT_SCOPE_UNIVERSE, IFA_F_DEPRECATED);
	add_addr(t, AF_INET6, "2001:db8::5", 64, RT_SCOPE_UNIVERSE, 0);
	add_route(t, AF_INET, "192.168.8.0", 24, NULL, OURS, 0, RTN_UNICAST, NULL);
	add_route(t, AF_INET, "0.0.0.0", 0, "192.168.8.1", OURS, 100, RTN_UNICAST, NULL);
	add_route(t, AF_INET, "0.0.0.0", 0, "192.168.8.2", OURS, 50, RTN_UNICAST, NULL);
	add_route(t, AF_INET, "198.51.100.0", 24, "192.168.8.3", OURS, 0, RTN_UNICAST, NULL);
	add_route(t, AF_INET, "198.51.100.128", 25, "192.168.8.4", OURS, 0, RTN_UNICAST, NULL);
	add_route(t, AF_INET, "203.0.113.0", 24, NULL, OTHER, 0, RTN_UNICAST, NULL);
	add_route(t, AF_INET, "192.0.2.0", 24, NULL, 0, 0, RTN_BLACKHOLE, NULL);
	add_route(t, AF_INET, "10.5.0.0", 16, NULL, OURS, 0, RTN_UNICAST, NULL);
	add_route(t, AF_INET, "10.7.0.0", 16, "10.5.0.1", OURS, 0, RTN_UNICAST, NULL);
	add_route(t, AF_INET, "172.31.0.0", 16, NULL, OURS, 0, RTN_UNICAST, NULL);
	add_route(t, AF_INET, "100.64.0.0", 10, "192.168.8.3", OURS, 0, RTN_UNICAST, "100.64.0.5");
	add_route(t, AF_INET6, "2001:db8::", 64, NULL, OURS, 256, RTN_UNICAST, NULL);
	add_route(t, AF_INET6, "::", 0, "fe80::1", OURS, 1024, RTN_UNICAST, NULL);
	add_route(t, AF_INET6, "2001:db8:1::", 48, "2001:db8::fe", OURS, 1024, RTN_UNICAST, NULL);
	add_neigh(t, AF_INET, "192.168.8.2", MAC_A, NUD_REACHABLE);
	add_neigh(t, AF_INET, "192.168.8.3", MAC_B, NUD_STALE);
	add_neigh(t, AF_INET, "192.168.8.4", NULL, NUD_INCOMPLETE);
	add_neigh(t, AF_INET, "192.168.8.80", MAC_A, NUD_PERMANENT);
	add_neigh(t, AF_INET, "192.168.8.81", MAC_A, NUD_FAILED);
	add_neigh(t, AF_INET, "192.168.8.82", MAC_B, NUD_NOARP);
	add_neigh(t, AF_INET6, "fe80::1", MAC_B, NUD_DELAY);
	add_neigh(t, AF_INET6, "2001:db8::fe", MAC_A, NUD_PROBE);
}

static void test_table(void)
{
	struct nltables t;
	struct nl_snapshot *s;
	struct nl_l2hop h;
	uint8_t a[16], mac[6];
	size_t i;

	build_fixture(&t);
	s = nl_snapshot_build(&t);
	CHECK(s, "build");
	for (i = 0; i < ARRAY_SIZE(lookup_cases); i++) {
		const struct lookup_case *c = &lookup_cases[i];
		int ret = lookup_str(s, c->family, c->dst, &h);

		CHECK(ret == c->ret, "case %zu %s: ret %d want %d", i + 1, c->dst, ret, c->ret);
		if (ret != c->ret || ret == -ENETUNREACH)
			continue;
		pton(c->family, c->nexthop, a);
		CHECK(!memcmp(h.nexthop, a, 16), "case %zu: nexthop %s want %s", i + 1, ntop(c->family, h.nexthop), c->nexthop);
		pton(c->family, c->src, a);
		CHECK(!memcmp(h.src_addr, a, 16), "case %zu: src %s want %s", i + 1, ntop(c->family, h.src_addr), c->src);
		CHECK(h.family == c->family && !memcmp(h.src_mac, MAC_SELF, 6), "case %zu: family/src_mac", i + 1);
		if (!ret)
			CHECK(!memcmp(h.dst_mac, c->mac, 6), "case %zu: dst_mac", i + 1);
	}
	pton(AF_INET, "192.168.8.105", a);
	CHECK(nl_snapshot_is_local(s, AF_INET, a), "is_local v4");
	pton(AF_INET, "192.168.8.106", a);
	CHECK(!nl_snapshot_is_local(s, AF_INET, a), "not local v4");
	pton(AF_INET6, "2001:db8::5", a);
	CHECK(nl_snapshot_is_local(s, AF_INET6, a), "is_local v6");
	CHECK(!nl_snapshot_is_local(s, AF_INET, a), "family matters");
	nl_snapshot_mac(s, mac);
	CHECK(!memcmp(mac, MAC_SELF, 6) && nl_snapshot_mtu(s) == 1500, "mac/mtu");
	nl_snapshot_free(s);

	/* empty tables: everything unreachable */
	nltables_clear_all(&t);
	s = nl_snapshot_build(&t);
	CHECK(lookup_str(s, AF_INET, "1.2.3.4", &h) == -ENETUNREACH, "empty v4");
	CHECK(lookup_str(s, AF_INET6, "::1", &h) == -ENETUNREACH, "empty v6");
	nl_snapshot_free(s);
	nltables_free(&t);
}

/* ---- differential test against a naive reference ---- */

static uint64_t rng_state = 0x6d657368676174ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static bool bit(const uint8_t *a, int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static bool naive_match(const uint8_t *prefix, int len, const uint8_t *addr)
{
	int i;

	for (i = 0; i < len; i++)
		if (bit(prefix, i) != bit(addr, i))
			return false;
	return true;
}

static const uint8_t *naive_src(const struct nltables *t, const struct nl_route_ent *r, const uint8_t *nh)
{
	const uint8_t *found[4] = { NULL };
	size_t i;
	int rank;

	if (r->has_prefsrc)
		return r->prefsrc;
	for (i = 0; i < t->addrs.n; i++) {
		const struct nl_addr_ent *a = &t->addrs.v[i];

		if (a->family != r->family)
			continue;
		if (r->family == AF_INET)
			rank = naive_match(a->addr, a->prefixlen, nh) ? 3 : (a->flags & IFA_F_SECONDARY) ? 1 : 2;
		else if (a->scope != RT_SCOPE_UNIVERSE)
			rank = 1;
		else
			rank = (a->flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED | IFA_F_DEPRECATED)) ? 2 : 3;
		if (!found[rank])
			found[rank] = a->addr;
	}
	for (rank = 3; rank > 0; rank--)
		if (found[rank])
			return found[rank];
	return NULL;
}

static int naive_lookup(const struct nltables *t, int family, const uint8_t *dst, struct nl_l2hop *out)
{
	const struct nl_route_ent *best = NULL;
	const uint8_t *src;
	size_t i;

	for (i = 0; i < t->routes.n; i++) {
		const struct nl_route_ent *r = &t->routes.v[i];

		if (r->family != family || !naive_match(r->dst, r->dst_len, dst))
			continue;
		if (!best || r->dst_len > best->dst_len ||
		    (r->dst_len == best->dst_len && r->priority < best->priority))
			best = r;
	}
	if (!best || best->type != RTN_UNICAST || best->oif != t->ifindex)
		return -ENETUNREACH;
	memset(out, 0, sizeof(*out));
	out->family = family;
	memcpy(out->src_mac, t->mac, 6);
	memcpy(out->nexthop, best->has_gw ? best->gw : dst, family == AF_INET ? 4 : 16);
	src = naive_src(t, best, best->has_gw ? best->gw : best->dst);
	if (src)
		memcpy(out->src_addr, src, 16);
	for (i = 0; i < t->neighs.n; i++) {
		const struct nl_neigh_ent *n = &t->neighs.v[i];

		if (n->family == family && !memcmp(n->addr, out->nexthop, 16)) {
			if (!n->has_mac || !(n->state & (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE |
							 NUD_PERMANENT | NUD_NOARP)))
				return -EAGAIN;
			memcpy(out->dst_mac, n->mac, 6);
			return 0;
		}
	}
	return -EAGAIN;
}

/* A random address near one of a few bases, so prefixes nest and destinations hit them. */
static void rnd_addr(uint8_t out[16], const uint8_t bases[8][16], unsigned int alen)
{
	unsigned int keep = (unsigned int)(rnd() % (alen * 8 + 1)), i;

	memcpy(out, bases[rnd() % 8], 16);
	for (i = keep; i < alen * 8; i++)
		if (rnd() & 1)
			out[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
}

static void rnd_tables(struct nltables *t, int family, const uint8_t bases[8][16])
{
	static const uint16_t states[] = { NUD_REACHABLE, NUD_STALE, NUD_DELAY, NUD_PROBE, NUD_PERMANENT,
					   NUD_NOARP, NUD_INCOMPLETE, NUD_FAILED, NUD_NONE };
	unsigned int alen = family == AF_INET ? 4 : 16, i, n = 1 + (unsigned int)(rnd() % 300);

	nltables_init(t, OURS);
	t->mac[5] = 0x42;
	unsigned int n_addrs = (unsigned int)(rnd() % 6);

	for (i = 0; i < n_addrs; i++) {
		struct nl_addr_ent a = { .family = (uint8_t)family, .prefixlen = (uint8_t)(alen * 4 + rnd() % (alen * 4 + 1)),
					 .scope = rnd() % 4 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK };

		a.flags = (uint32_t)(rnd() % 3 ? 0 : family == AF_INET ? IFA_F_SECONDARY : IFA_F_DEPRECATED);
		rnd_addr(a.addr, bases, alen);
		nltables_addr_upsert(t, &a);
	}
	for (i = 0; i < n; i++) {
		struct nl_route_ent r = { .family = (uint8_t)family, .type = RTN_UNICAST,
					  .priority = (uint32_t)(rnd() % 4) };
		uint8_t raw[16];
		uint64_t k = rnd() % 10;

		r.dst_len = (uint8_t)(rnd() % 5 ? rnd() % (alen * 8 + 1) : (alen * 8) - rnd() % 3);
		rnd_addr(raw, bases, alen);
		for (unsigned int b = 0; b < alen * 8; b++)     /* the kernel sends masked prefixes */
			if (b >= r.dst_len && bit(raw, (int)b))
				raw[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
		memcpy(r.dst, raw, 16);
		r.oif = k < 7 ? OURS : k < 9 ? OTHER : 0;
		if (k == 9)
			r.type = rnd() & 1 ? RTN_BLACKHOLE : RTN_UNREACHABLE;
		if (rnd() & 1) {
			r.has_gw = true;
			rnd_addr(r.gw, bases, alen);
		}
		if (rnd() % 10 == 0) {
			r.has_prefsrc = true;
			rnd_addr(r.prefsrc, bases, alen);
		}
		nltables_route_upsert(t, &r, false);
		if (rnd() % 3) {        /* a neighbour for the gateway or some host */
			struct nl_neigh_ent e = { .family = (uint8_t)family, .state = states[rnd() % ARRAY_SIZE(states)] };

			if (r.has_gw && rnd() & 1)
				memcpy(e.addr, r.gw, 16);
			else
				rnd_addr(e.addr, bases, alen);
			e.has_mac = rnd() % 8 != 0;
			e.mac[0] = 2;
			e.mac[5] = (uint8_t)rnd();
			nltables_neigh_upsert(t, &e);
		}
	}
}

static void test_differential(int family)
{
	unsigned int alen = family == AF_INET ? 4 : 16, round, q, mismatches = 0;
	unsigned long hits[3] = { 0 };
	uint8_t bases[8][16] = { { 0 } };

	for (round = 0; round < 40; round++) {
		struct nltables t;
		struct nl_snapshot *s;
		unsigned int i;

		for (i = 0; i < 8; i++)
			for (q = 0; q < alen; q++)
				bases[i][q] = (uint8_t)rnd();
		rnd_tables(&t, family, bases);
		s = nl_snapshot_build(&t);
		CHECK(s, "build");
		for (q = 0; q < 3000 && s; q++) {
			struct nl_l2hop got, want;
			uint8_t dst[16] = { 0 };
			int rg, rw;

			rnd_addr(dst, bases, alen);
			if (q % 4 == 0)   /* exactly a neighbour's address: on-link hits */
				memcpy(dst, t.neighs.n ? t.neighs.v[rnd() % t.neighs.n].addr : dst, 16);
			memset(&got, 0, sizeof(got));
			rg = nl_snapshot_lookup(s, family, dst, &got);
			rw = naive_lookup(&t, family, dst, &want);
			hits[rw == 0 ? 0 : rw == -EAGAIN ? 1 : 2]++;
			if (rg != rw || (rg != -ENETUNREACH &&
			    (memcmp(got.nexthop, want.nexthop, 16) || memcmp(got.src_addr, want.src_addr, 16) ||
			     memcmp(got.src_mac, want.src_mac, 6) || got.family != want.family)) ||
			    (!rg && memcmp(got.dst_mac, want.dst_mac, 6))) {
				if (mismatches++ < 5)
					fprintf(stderr, "FAIL differential %s dst %s: got %d nh %s src %s, want %d nh %s src %s\n",
						family == AF_INET ? "v4" : "v6", ntop(family, dst), rg,
						ntop(family, got.nexthop), ntop(family, got.src_addr), rw,
						ntop(family, want.nexthop), ntop(family, want.src_addr));
			}
		}
		nl_snapshot_free(s);
		nltables_free(&t);
	}
	CHECK(!mismatches, "%u differential mismatches (%s)", mismatches, family == AF_INET ? "v4" : "v6");
	/* the generator must exercise all three outcomes, or the comparison proves little */
	CHECK(hits[0] > 1000 && hits[1] > 1000 && hits[2] > 1000, "coverage %lu/%lu/%lu", hits[0], hits[1], hits[2]);
	printf("differential %s: %lu ok, %lu eagain, %lu unreachable\n", family == AF_INET ? "v4" : "v6",
	       hits[0], hits[1], hits[2]);
}

/* Not an assertion: prints the per-lookup cost on the fixture (8 distinct v4 prefix lengths). */
static void bench_lookup(void)
{
	static const char *dsts[] = { "8.8.8.8", "198.51.100.200", "192.168.8.80", "10.7.1.1" };
	uint8_t a[4][16] = { { 0 } };
	struct nltables t;
	struct nl_snapshot *s;
	struct timespec t0, t1;
	struct nl_l2hop h;
	long i, n = 2000000, ok = 0;
	double ns;

	build_fixture(&t);
	s = nl_snapshot_build(&t);
	for (i = 0; i < 4; i++)
		pton(AF_INET, dsts[i], a[i]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < n; i++)
		ok += nl_snapshot_lookup(s, AF_INET, a[i & 3], &h) == 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
	printf("lookup: %.1f ns each (%ld resolved)\n", ns / (double)n, ok);
	nl_snapshot_free(s);
	nltables_free(&t);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		rng_state = strtoull(argv[1], NULL, 0) ?: rng_state;
	test_parser();
	test_table();
	test_differential(AF_INET);
	test_differential(AF_INET6);
	bench_lookup();
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("PASS test_nl_snapshot\n");
	return 0;
}
