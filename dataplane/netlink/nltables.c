// SPDX-License-Identifier: GPL-2.0-only
/*
 * nltables.c - parses rtnetlink link/address/route/neighbour messages into the control thread's
 * copy of the kernel state (see nltables.h). Untrusted-length discipline: every attribute is
 * length-checked before use, so a malformed message is ignored rather than misread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/rtnetlink.h>
#include <linux/neighbour.h>
#include <linux/if_addr.h>
#include <libmnl/libmnl.h>

#include "netlink/nltables.h"
#include "vec.h"

#define NLT_MAXATTR 64

#ifndef IFF_LOWER_UP          /* <net/if.h> lacks it; <linux/if.h> clashes with <net/if.h> */
#define IFF_LOWER_UP 0x10000
#endif

#define NLT_PUSH(vec, item) ({                                                        \
	int __r = mg_vec_grow((void **)&(vec).v, &(vec).cap, (vec).n, sizeof(*(vec).v)); \
	if (!__r)                                                                    \
		(vec).v[(vec).n++] = *(item);                                        \
	__r; })

/* Removes element i keeping order (address order matters: "first address" wins). */
#define NLT_REMOVE(vec, i) \
	memmove(&(vec).v[i], &(vec).v[(i) + 1], ((vec).n - (i) - 1) * sizeof(*(vec).v)), (vec).n--

void nltables_init(struct nltables *t, int ifindex)
{
	memset(t, 0, sizeof(*t));
	t->ifindex = ifindex;
}

void nltables_free(struct nltables *t)
{
	free(t->routes.v);
	free(t->addrs.v);
	free(t->neighs.v);
	memset(t, 0, sizeof(*t));
}

void nltables_clear_routes(struct nltables *t)
{
	t->routes.n = 0;
}

void nltables_clear_all(struct nltables *t)
{
	t->routes.n = t->addrs.n = t->neighs.n = 0;
	memset(t->mac, 0, sizeof(t->mac));
	t->mtu = 0;
	t->link_flags = 0;
	t->present = false;
}

static unsigned int nlt_alen(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Collects attributes by type; later duplicates win, unknown types beyond the table are ignored. */
static int nlt_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);

	if (type < NLT_MAXATTR)
		tb[type] = attr;
	return MNL_CB_OK;
}

static bool nlt_get_addr(const struct nlattr *a, int family, uint8_t out[16])
{
	unsigned int alen = nlt_alen(family);

	if (!a || !alen || mnl_attr_get_payload_len(a) != alen)
		return false;
	memset(out, 0, 16);
	memcpy(out, mnl_attr_get_payload(a), alen);
	return true;
}

static bool nlt_get_u32(const struct nlattr *a, uint32_t *out)
{
	if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return false;
	*out = mnl_attr_get_u32(a);
	return true;
}

/* ---- link ---- */

static int nlt_link(struct nltables *t, const struct nlmsghdr *nlh)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NLT_MAXATTR] = { 0 };
	uint32_t mtu, changed_flags;
	int ret = 0;

	if (ifi->ifi_index != t->ifindex)
		return 0;
	if (nlh->nlmsg_type == RTM_DELLINK) {
		nltables_clear_all(t);
		return NLT_CHANGED | NLT_RESYNC_ROUTES;
	}
	mnl_attr_parse(nlh, sizeof(*ifi), nlt_attr_cb, tb);
	if (!t->present)
		ret |= NLT_CHANGED;
	t->present = true;
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6 &&
	    memcmp(t->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6)) {
		memcpy(t->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		ret |= NLT_CHANGED;
	}
	if (nlt_get_u32(tb[IFLA_MTU], &mtu) && mtu != t->mtu) {
		t->mtu = mtu;
		ret |= NLT_CHANGED;
	}
	/* IPv4 flushes routes through a device that goes down without telling anyone. */
	changed_flags = (t->link_flags ^ ifi->ifi_flags) & (IFF_UP | IFF_LOWER_UP | IFF_RUNNING);
	if (changed_flags)
		ret |= NLT_CHANGED | NLT_RESYNC_ROUTES;
	t->link_flags = ifi->ifi_flags;
	return ret;
}

/* ---- addresses ---- */

int nltables_addr_upsert(struct nltables *t, const struct nl_addr_ent *a)
{
	size_t i;

	for (i = 0; i < t->addrs.n; i++) {
		struct nl_addr_ent *e = &t->addrs.v[i];

		if (e->family == a->family && e->prefixlen == a->prefixlen &&
		    !memcmp(e->addr, a->addr, 16)) {
			if (!memcmp(e, a, sizeof(*a)))
				return 0;
			*e = *a;
			return NLT_CHANGED;
		}
	}
	return NLT_PUSH(t->addrs, a) ?: NLT_CHANGED;
}

static int nlt_addr(struct nltables *t, const struct nlmsghdr *nlh)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NLT_MAXATTR] = { 0 };
	struct nl_addr_ent a = { 0 };
	size_t i;

	if ((int)ifa->ifa_index != t->ifindex || !nlt_alen(ifa->ifa_family))
		return 0;
	mnl_attr_parse(nlh, sizeof(*ifa), nlt_attr_cb, tb);
	a.family = ifa->ifa_family;
	a.prefixlen = ifa->ifa_prefixlen;
	a.scope = ifa->ifa_scope;
	/* IFA_LOCAL is our address; IFA_ADDRESS is the peer's on point-to-point links. */
	if (!nlt_get_addr(tb[IFA_LOCAL], a.family, a.addr) &&
	    !nlt_get_addr(tb[IFA_ADDRESS], a.family, a.addr))
		return 0;
	if (!nlt_get_u32(tb[IFA_FLAGS], &a.flags))
		a.flags = ifa->ifa_flags;
	if (nlh->nlmsg_type == RTM_NEWADDR)
		return nltables_addr_upsert(t, &a);
	for (i = 0; i < t->addrs.n; i++) {
		struct nl_addr_ent *e = &t->addrs.v[i];

		if (e->family == a.family && e->prefixlen == a.prefixlen &&
		    !memcmp(e->addr, a.addr, 16)) {
			NLT_REMOVE(t->addrs, i);
			/* IPv4 drops routes using a removed address silently. */
			return NLT_CHANGED | NLT_RESYNC_ROUTES;
		}
	}
	return 0;
}

/* ---- routes ---- */

/* The kernel's identity of a route: prefix, TOS and metric (IPv4 fib alias; IPv6 adds nexthops
 * as siblings, which the full key below tells apart). */
static bool nlt_route_same_slot(const struct nl_route_ent *a, const struct nl_route_ent *b)
{
	return a->family == b->family && a->dst_len == b->dst_len && a->tos == b->tos &&
	       a->priority == b->priority && !memcmp(a->dst, b->dst, 16);
}

static bool nlt_route_same(const struct nl_route_ent *a, const struct nl_route_ent *b)
{
	return nlt_route_same_slot(a, b) && a->oif == b->oif && a->has_gw == b->has_gw &&
	       !memcmp(a->gw, b->gw, 16);
}

int nltables_route_upsert(struct nltables *t, const struct nl_route_ent *r, bool replace)
{
	size_t i;

	for (i = t->routes.n; replace && i-- > 0;)
		if (nlt_route_same_slot(&t->routes.v[i], r) && !nlt_route_same(&t->routes.v[i], r))
			NLT_REMOVE(t->routes, i);
	for (i = 0; i < t->routes.n; i++) {
		if (nlt_route_same(&t->routes.v[i], r)) {
			t->routes.v[i] = *r;
			return NLT_CHANGED;
		}
	}
	return NLT_PUSH(t->routes, r) ?: NLT_CHANGED;
}

static int nlt_route_del(struct nltables *t, const struct nl_route_ent *r)
{
	size_t i;

	for (i = 0; i < t->routes.n; i++) {
		if (nlt_route_same(&t->routes.v[i], r)) {
			NLT_REMOVE(t->routes, i);
			return NLT_CHANGED;
		}
	}
	return 0;
}

/* Multipath: keep one hop, preferring one through our interface (the fast path has one NIC,
 * so it cannot balance across devices anyway). */
static void nlt_route_multipath(struct nltables *t, const struct nlattr *mp, struct nl_route_ent *r)
{
	const struct rtnexthop *nh = mnl_attr_get_payload(mp);
	int len = (int)mnl_attr_get_payload_len(mp);
	bool first = true;

	for (; len >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= len;
	     len -= RTNH_ALIGN(nh->rtnh_len), nh = RTNH_NEXT(nh)) {
		const struct nlattr *tb[NLT_MAXATTR] = { 0 };
		const struct nlattr *attr;

		if (!first && nh->rtnh_ifindex != t->ifindex)
			continue;
		void *attrs = RTNH_DATA(nh);

		mnl_attr_for_each_payload(attrs, nh->rtnh_len - sizeof(*nh))
			nlt_attr_cb(attr, tb);
		r->oif = nh->rtnh_ifindex;
		r->has_gw = nlt_get_addr(tb[RTA_GATEWAY], r->family, r->gw);
		if (!r->has_gw)
			memset(r->gw, 0, 16);
		if (nh->rtnh_ifindex == t->ifindex)
			return;
		first = false;
	}
}

static bool nlt_route_parse(struct nltables *t, const struct nlmsghdr *nlh, struct nl_route_ent *r)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NLT_MAXATTR] = { 0 };
	uint32_t table = rtm->rtm_table, oif = 0;

	if (!nlt_alen(rtm->rtm_family) || (rtm->rtm_flags & RTM_F_CLONED) || rtm->rtm_protocol == MG_RTPROT_TUN)
		return false;
	switch (rtm->rtm_type) {
	case RTN_UNICAST: case RTN_BLACKHOLE: case RTN_UNREACHABLE: case RTN_PROHIBIT: case RTN_THROW:
		break;
	default:
		return false;    /* local/broadcast/multicast live in other tables or do not route */
	}
	mnl_attr_parse(nlh, sizeof(*rtm), nlt_attr_cb, tb);
	nlt_get_u32(tb[RTA_TABLE], &table);
	if (table != RT_TABLE_MAIN || rtm->rtm_dst_len > nlt_alen(rtm->rtm_family) * 8)
		return false;
	memset(r, 0, sizeof(*r));
	r->family = rtm->rtm_family;
	r->dst_len = rtm->rtm_dst_len;
	r->tos = rtm->rtm_tos;
	r->type = rtm->rtm_type;
	if (!nlt_get_addr(tb[RTA_DST], r->family, r->dst) && (tb[RTA_DST] || r->dst_len))
		return false;         /* a malformed prefix must not turn into a default route */
	nlt_get_u32(tb[RTA_PRIORITY], &r->priority);
	if (nlt_get_u32(tb[RTA_OIF], &oif))
		r->oif = (int)oif;
	r->has_gw = nlt_get_addr(tb[RTA_GATEWAY], r->family, r->gw);
	r->has_prefsrc = nlt_get_addr(tb[RTA_PREFSRC], r->family, r->prefsrc);
	if ((tb[RTA_GATEWAY] && !r->has_gw) || (tb[RTA_PREFSRC] && !r->has_prefsrc))
		return false;
	if (tb[RTA_MULTIPATH])
		nlt_route_multipath(t, tb[RTA_MULTIPATH], r);
	/* RTA_VIA (IPv4 over an IPv6 gateway) and nexthop objects (RTA_NH_ID) are not mirrored:
	 * the route stays, with no gateway or interface, so it is "not ours". */
	if (tb[RTA_VIA] || tb[RTA_NH_ID])
		r->oif = 0;
	return true;
}

static int nlt_route(struct nltables *t, const struct nlmsghdr *nlh)
{
	struct nl_route_ent r;

	if (!nlt_route_parse(t, nlh, &r))
		return 0;
	if (nlh->nlmsg_type == RTM_DELROUTE)
		return nlt_route_del(t, &r);
	return nltables_route_upsert(t, &r, nlh->nlmsg_flags & NLM_F_REPLACE);
}

/* ---- neighbours ---- */

int nltables_neigh_upsert(struct nltables *t, const struct nl_neigh_ent *n)
{
	size_t i;

	for (i = 0; i < t->neighs.n; i++) {
		struct nl_neigh_ent *e = &t->neighs.v[i];

		if (e->family == n->family && !memcmp(e->addr, n->addr, 16)) {
			if (!memcmp(e, n, sizeof(*n)))
				return 0;
			*e = *n;
			return NLT_CHANGED;
		}
	}
	return NLT_PUSH(t->neighs, n) ?: NLT_CHANGED;
}

static int nlt_neigh(struct nltables *t, const struct nlmsghdr *nlh)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[NLT_MAXATTR] = { 0 };
	struct nl_neigh_ent n = { 0 };
	size_t i;

	if (ndm->ndm_ifindex != t->ifindex || !nlt_alen(ndm->ndm_family) ||
	    (ndm->ndm_flags & NTF_PROXY))
		return 0;
	mnl_attr_parse(nlh, sizeof(*ndm), nlt_attr_cb, tb);
	n.family = ndm->ndm_family;
	n.state = ndm->ndm_state;
	if (!nlt_get_addr(tb[NDA_DST], n.family, n.addr))
		return 0;
	if (tb[NDA_LLADDR] && mnl_attr_get_payload_len(tb[NDA_LLADDR]) == 6) {
		memcpy(n.mac, mnl_attr_get_payload(tb[NDA_LLADDR]), 6);
		n.has_mac = true;
	}
	if (nlh->nlmsg_type == RTM_NEWNEIGH)
		return nltables_neigh_upsert(t, &n);
	for (i = 0; i < t->neighs.n; i++) {
		if (t->neighs.v[i].family == n.family && !memcmp(t->neighs.v[i].addr, n.addr, 16)) {
			NLT_REMOVE(t->neighs, i);
			return NLT_CHANGED;
		}
	}
	return 0;
}

static size_t nlt_hdrlen(uint16_t type)
{
	switch (type) {
	case RTM_NEWLINK: case RTM_DELLINK: return sizeof(struct ifinfomsg);
	case RTM_NEWADDR: case RTM_DELADDR: return sizeof(struct ifaddrmsg);
	case RTM_NEWROUTE: case RTM_DELROUTE: return sizeof(struct rtmsg);
	case RTM_NEWNEIGH: case RTM_DELNEIGH: return sizeof(struct ndmsg);
	default: return 0;
	}
}

int nltables_apply(struct nltables *t, const struct nlmsghdr *nlh)
{
	size_t hdr = nlt_hdrlen(nlh->nlmsg_type);

	if (!hdr || nlh->nlmsg_len < mnl_nlmsg_size(hdr))
		return 0;
	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK: case RTM_DELLINK: return nlt_link(t, nlh);
	case RTM_NEWADDR: case RTM_DELADDR: return nlt_addr(t, nlh);
	case RTM_NEWROUTE: case RTM_DELROUTE: return nlt_route(t, nlh);
	default: return nlt_neigh(t, nlh);
	}
}
