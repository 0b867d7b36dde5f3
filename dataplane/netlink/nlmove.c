// SPDX-License-Identifier: GPL-2.0-only
/*
 * nlmove.c - an interface's addresses, routes and neighbours, captured as request messages and
 * replayed onto another interface (nlmove.h for what moves and why).
 *
 * A captured item is a complete request: the family header as dumped (flags the kernel refuses
 * on input cleared) and only the attributes a request may carry, so one stored message serves
 * for the delete on the source and the add on the target; the interface index is rewritten in
 * a copy at each replay (ifa_index, ndm_ifindex, RTA_OIF and every nexthop's rtnh_ifindex that
 * named the captured interface).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "netlink/nlmove.h"
#include "netlink/nlsock.h"

void nlmove_free(struct nlmove *m)
{
	free(m->v);
	memset(m, 0, sizeof(*m));
}

static struct nlmove_item *item_new(struct nlmove *m)
{
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		struct nlmove_item *v = realloc(m->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		m->v = v;
		m->cap = cap;
	}
	memset(&m->v[m->n], 0, sizeof(m->v[0]));
	return &m->v[m->n++];
}

static size_t family_hdr_len(uint16_t type)
{
	switch (type) {
	case RTM_NEWADDR: return sizeof(struct ifaddrmsg);
	case RTM_NEWROUTE: return sizeof(struct rtmsg);
	case RTM_NEWNEIGH: return sizeof(struct ndmsg);
	}
	return 0;
}

int nlmove_add(struct nlmove *m, const uint8_t *msg, size_t len)
{
	const struct nlmsghdr *nlh = (const void *)msg;
	struct nlmove_item *it;
	size_t fl;

	if (len < sizeof(*nlh) || nlh->nlmsg_len != len || len > sizeof(it->msg))
		return -EINVAL;
	fl = family_hdr_len(nlh->nlmsg_type);
	if (!fl || len < NLMSG_LENGTH(fl))
		return -EINVAL;
	it = item_new(m);
	if (!it)
		return -ENOMEM;
	it->kind = nlh->nlmsg_type == RTM_NEWADDR ? NLMOVE_ADDR :
		   nlh->nlmsg_type == RTM_NEWROUTE ? NLMOVE_ROUTE : NLMOVE_NEIGH;
	it->len = (uint16_t)len;
	memcpy(it->msg, msg, len);
	return 0;
}

/* ---- capture ----------------------------------------------------------------------------------- */

struct capture {
	struct nlmove *m;
	int ifindex;
	int err;
};

/* Copies the attributes of src (after its family header of fl bytes) that `keep` accepts; false
 * if they do not all fit in room bytes. */
static bool copy_attrs(struct nlmsghdr *dst, const struct nlmsghdr *src, size_t fl, bool (*keep)(uint16_t),
		       size_t room)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, src, fl) {
		uint16_t t = mnl_attr_get_type(a);

		if (!keep(t))
			continue;
		if (dst->nlmsg_len + MNL_ALIGN(a->nla_len) > room)
			return false;
		mnl_attr_put(dst, t, mnl_attr_get_payload_len(a), mnl_attr_get_payload(a));
	}
	return true;
}

/* An item too large to keep stays where it is; say which (from the attributes that fitted). */
static int too_large(const struct nlmsghdr *partial, enum nlmove_kind kind)
{
	struct nlmove_item it = { .kind = kind, .len = (uint16_t)partial->nlmsg_len };
	char d[160];

	memcpy(it.msg, partial, partial->nlmsg_len);
	nlmove_describe(&it, d, sizeof(d));
	fprintf(stderr, "meshgate: not moving %s: its request is over %zu bytes\n", d, sizeof(it.msg));
	return MNL_CB_OK;
}

static bool addr_attr(uint16_t t)
{
	return t == IFA_ADDRESS || t == IFA_LOCAL || t == IFA_BROADCAST || t == IFA_LABEL ||
	       t == IFA_CACHEINFO || t == IFA_FLAGS || t == IFA_RT_PRIORITY;
}

static bool route_attr(uint16_t t)
{
	return t == RTA_DST || t == RTA_SRC || t == RTA_GATEWAY || t == RTA_OIF || t == RTA_PRIORITY ||
	       t == RTA_PREFSRC || t == RTA_METRICS || t == RTA_MULTIPATH || t == RTA_TABLE ||
	       t == RTA_PREF || t == RTA_VIA || t == RTA_FLOW;
}

static int add_item(struct capture *c, enum nlmove_kind kind, const struct nlmsghdr *nlh)
{
	struct nlmove_item *it = item_new(c->m);

	if (!it)
		return c->err = -ENOMEM, MNL_CB_ERROR;
	it->kind = kind;
	it->len = (uint16_t)nlh->nlmsg_len;
	memcpy(it->msg, nlh, nlh->nlmsg_len);
	return MNL_CB_OK;
}

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct capture *c = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	uint8_t buf[sizeof(((struct nlmove_item *)0)->msg)];
	struct nlmsghdr *out;
	uint32_t flags = ifa->ifa_flags;
	const uint8_t *addr = NULL;

	if (nlh->nlmsg_type != RTM_NEWADDR || (int)ifa->ifa_index != c->ifindex)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_FLAGS && mnl_attr_get_payload_len(a) == 4)
			flags = mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) == IFA_ADDRESS)
			addr = mnl_attr_get_payload(a);
	}
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	if (ifa->ifa_family == AF_INET6 &&
	    (!addr || (addr[0] == 0xfe && (addr[1] & 0xc0) == 0x80) || (flags & IFA_F_TEMPORARY)))
		return MNL_CB_OK;
	out = mnl_nlmsg_put_header(buf);
	out->nlmsg_type = RTM_NEWADDR;
	memcpy(mnl_nlmsg_put_extra_header(out, sizeof(*ifa)), ifa, sizeof(*ifa));
	if (!copy_attrs(out, nlh, sizeof(*ifa), addr_attr, sizeof(buf)))
		return too_large(out, NLMOVE_ADDR);
	return add_item(c, NLMOVE_ADDR, out);
}

static bool route_uses(const struct nlmsghdr *nlh, int ifindex)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct rtmsg)) {
		if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) == 4 &&
		    (int)mnl_attr_get_u32(a) == ifindex)
			return true;
		if (mnl_attr_get_type(a) == RTA_MULTIPATH) {
			const struct rtnexthop *nh = mnl_attr_get_payload(a);
			int left = (int)mnl_attr_get_payload_len(a);

			while (left >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= left) {
				if (nh->rtnh_ifindex == ifindex)
					return true;
				left -= RTNH_ALIGN(nh->rtnh_len);
				nh = RTNH_NEXT(nh);
			}
		}
	}
	return false;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	struct capture *c = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	uint8_t buf[sizeof(((struct nlmove_item *)0)->msg)];
	struct nlmsghdr *out;
	struct rtmsg *r;

	if (nlh->nlmsg_type != RTM_NEWROUTE || rtm->rtm_protocol == RTPROT_KERNEL ||
	    (rtm->rtm_flags & RTM_F_CLONED) || rtm->rtm_type != RTN_UNICAST || !route_uses(nlh, c->ifindex))
		return MNL_CB_OK;
	out = mnl_nlmsg_put_header(buf);
	out->nlmsg_type = RTM_NEWROUTE;
	r = mnl_nlmsg_put_extra_header(out, sizeof(*r));
	*r = *rtm;
	r->rtm_flags &= RTNH_F_ONLINK;          /* LINKDOWN, DEAD, OFFLOAD are the kernel's to set */
	if (!copy_attrs(out, nlh, sizeof(*rtm), route_attr, sizeof(buf)))
		return too_large(out, NLMOVE_ROUTE);
	return add_item(c, NLMOVE_ROUTE, out);
}

static int neigh_cb(const struct nlmsghdr *nlh, void *data)
{
	struct capture *c = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *dst = NULL, *ll = NULL;
	uint8_t buf[sizeof(((struct nlmove_item *)0)->msg)];
	struct nlmsghdr *out;
	struct ndmsg *n;

	if (nlh->nlmsg_type != RTM_NEWNEIGH || ndm->ndm_ifindex != c->ifindex ||
	    (ndm->ndm_family != AF_INET && ndm->ndm_family != AF_INET6) || (ndm->ndm_flags & NTF_PROXY) ||
	    (ndm->ndm_state & (NUD_NOARP | NUD_FAILED | NUD_INCOMPLETE)) || ndm->ndm_state == NUD_NONE)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
		if (mnl_attr_get_type(a) == NDA_DST)
			dst = a;
		if (mnl_attr_get_type(a) == NDA_LLADDR && mnl_attr_get_payload_len(a) == 6)
			ll = a;
	}
	if (!dst || !ll)
		return MNL_CB_OK;
	out = mnl_nlmsg_put_header(buf);
	out->nlmsg_type = RTM_NEWNEIGH;
	n = mnl_nlmsg_put_extra_header(out, sizeof(*n));
	n->ndm_family = ndm->ndm_family;
	n->ndm_ifindex = ndm->ndm_ifindex;
	n->ndm_state = ndm->ndm_state & NUD_PERMANENT ? NUD_PERMANENT : NUD_STALE;
	n->ndm_flags = ndm->ndm_flags & NTF_ROUTER;
	mnl_attr_put(out, NDA_DST, mnl_attr_get_payload_len(dst), mnl_attr_get_payload(dst));
	mnl_attr_put(out, NDA_LLADDR, 6, mnl_attr_get_payload(ll));
	return add_item(c, NLMOVE_NEIGH, out);
}

static int dump(struct mnl_socket *nl, uint16_t type, uint8_t family, size_t hl, mnl_cb_t cb, struct capture *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	uint8_t *fam;
	int ret;

	nlh->nlmsg_type = type;
	fam = mnl_nlmsg_put_extra_header(nlh, hl);
	fam[0] = family;                        /* every family header starts with the family */
	ret = nlsock_dump(nl, nlh, cb, c, NULL);
	return c->err ? c->err : ret;
}

int nlmove_capture(struct nlmove *m, int ifindex)
{
	struct capture c = { .m = m, .ifindex = ifindex };
	struct mnl_socket *nl = nlsock_open();
	int ret;

	m->n = 0;
	if (!nl)
		return -errno;
	ret = dump(nl, RTM_GETADDR, AF_UNSPEC, sizeof(struct ifaddrmsg), addr_cb, &c);
	if (!ret)
		ret = dump(nl, RTM_GETROUTE, AF_INET, sizeof(struct rtmsg), route_cb, &c);
	if (!ret)
		ret = dump(nl, RTM_GETROUTE, AF_INET6, sizeof(struct rtmsg), route_cb, &c);
	if (!ret)
		ret = dump(nl, RTM_GETNEIGH, AF_UNSPEC, sizeof(struct ndmsg), neigh_cb, &c);
	mnl_socket_close(nl);
	return ret;
}

/* ---- replay ------------------------------------------------------------------------------------ */

/* The interface the item was captured on. */
static int item_ifindex(const struct nlmove_item *it)
{
	const struct nlmsghdr *nlh = (const void *)it->msg;
	const struct nlattr *a;

	if (it->kind == NLMOVE_ADDR)
		return (int)((const struct ifaddrmsg *)mnl_nlmsg_get_payload(nlh))->ifa_index;
	if (it->kind == NLMOVE_NEIGH)
		return ((const struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_ifindex;
	mnl_attr_for_each(a, nlh, sizeof(struct rtmsg)) {
		if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) == 4)
			return (int)mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) == RTA_MULTIPATH && mnl_attr_get_payload_len(a) >= sizeof(struct rtnexthop))
			return ((const struct rtnexthop *)mnl_attr_get_payload(a))->rtnh_ifindex;
	}
	return 0;
}

static bool route_has_gateway(const struct nlmove_item *it)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, (const struct nlmsghdr *)it->msg, sizeof(struct rtmsg))
		if (mnl_attr_get_type(a) == RTA_GATEWAY || mnl_attr_get_type(a) == RTA_VIA ||
		    mnl_attr_get_type(a) == RTA_MULTIPATH)
			return true;
	return false;
}

/*
 * The item as a request on interface `to`, into buf. An address keeps its label only on the
 * interface it came from (a label starts with its interface's name), and an IPv6 address skips
 * duplicate address detection: it was ours a moment ago.
 */
static struct nlmsghdr *build(const struct nlmove_item *it, int to, bool add, uint8_t *buf)
{
	struct nlmsghdr *nlh = (void *)buf;
	int orig = item_ifindex(it);
	struct nlattr *a;

	memcpy(buf, it->msg, it->len);
	if (it->kind == NLMOVE_ADDR) {
		struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
		uint8_t tmp[sizeof(it->msg) + 16];
		struct nlmsghdr *out = mnl_nlmsg_put_header(tmp);
		bool has_flags = false;

		ifa->ifa_index = (uint32_t)to;
		ifa->ifa_flags &= ~IFA_F_SECONDARY;
		out->nlmsg_type = nlh->nlmsg_type;
		memcpy(mnl_nlmsg_put_extra_header(out, sizeof(*ifa)), ifa, sizeof(*ifa));
		mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
			uint16_t t = mnl_attr_get_type(a);

			if ((t == IFA_LABEL && to != orig) || (!add && t != IFA_LOCAL && t != IFA_ADDRESS))
				continue;
			if (t == IFA_FLAGS) {
				mnl_attr_put_u32(out, IFA_FLAGS, (mnl_attr_get_u32(a) & ~IFA_F_SECONDARY) |
						 (ifa->ifa_family == AF_INET6 ? IFA_F_NODAD : 0));
				has_flags = true;
				continue;
			}
			mnl_attr_put(out, t, mnl_attr_get_payload_len(a), mnl_attr_get_payload(a));
		}
		if (add && ifa->ifa_family == AF_INET6 && !has_flags)
			mnl_attr_put_u32(out, IFA_FLAGS, IFA_F_NODAD);
		memcpy(buf, tmp, out->nlmsg_len);
	} else if (it->kind == NLMOVE_NEIGH) {
		((struct ndmsg *)mnl_nlmsg_get_payload(nlh))->ndm_ifindex = to;
	} else {
		mnl_attr_for_each(a, nlh, sizeof(struct rtmsg)) {
			if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_get_payload_len(a) == 4 &&
			    (int)mnl_attr_get_u32(a) == orig)
				*(uint32_t *)mnl_attr_get_payload(a) = (uint32_t)to;
			if (mnl_attr_get_type(a) == RTA_MULTIPATH) {
				struct rtnexthop *nh = mnl_attr_get_payload(a);
				int left = (int)mnl_attr_get_payload_len(a);

				while (left >= (int)sizeof(*nh) && nh->rtnh_len >= sizeof(*nh) && nh->rtnh_len <= left) {
					if (nh->rtnh_ifindex == orig)
						nh->rtnh_ifindex = to;
					nh->rtnh_flags &= RTNH_F_ONLINK;
					left -= RTNH_ALIGN(nh->rtnh_len);
					nh = RTNH_NEXT(nh);
				}
			}
		}
	}
	/* RTM_NEW* is a multiple of 4 and RTM_DEL* the next number, for all three kinds. */
	nlh->nlmsg_type = (uint16_t)((nlh->nlmsg_type & ~3u) | (add ? 0 : 1));
	nlh->nlmsg_flags = add ? NLM_F_CREATE | (it->kind == NLMOVE_NEIGH ? NLM_F_REPLACE : NLM_F_EXCL) : 0;
	return nlh;
}

static int replay(struct mnl_socket *nl, const struct nlmove_item *it, int ifindex, bool add)
{
	uint8_t buf[sizeof(it->msg) + 16];
	int ret = nlsock_request(nl, build(it, ifindex, add, buf));

	if (add && ret == -EEXIST)
		return 0;
	if (!add && (ret == -ESRCH || ret == -ENOENT || ret == -EADDRNOTAVAIL || ret == -ENODEV))
		return 0;
	return ret;
}

static void report(const struct nlmove_item *it, const char *what, int ifindex, int err)
{
	char d[160], name[IF_NAMESIZE] = "?";

	nlmove_describe(it, d, sizeof(d));
	if_indextoname((unsigned)ifindex, name);
	fprintf(stderr, "meshgate: %s %s %s %s: %s\n", what, d, what[0] == 'a' ? "to" : "from", name,
		strerror(-err));
}

int nlmove_apply(const struct nlmove *m, int from, int to)
{
	static const enum nlmove_kind del_order[] = { NLMOVE_ROUTE, NLMOVE_NEIGH, NLMOVE_ADDR };
	struct mnl_socket *nl;
	int failed = 0, ret;
	char name[IF_NAMESIZE];

	if (!if_indextoname((unsigned)to, name))
		return -ENODEV;
	nl = nlsock_open();
	if (!nl)
		return -errno;
	for (size_t k = 0; from && k < 3; k++)
		for (size_t i = m->n; i-- > 0;)               /* addresses: secondaries before primaries */
			if (m->v[i].kind == del_order[k] && (ret = replay(nl, &m->v[i], from, false)))
				report(&m->v[i], "removing", from, ret);
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].kind == NLMOVE_ADDR && (ret = replay(nl, &m->v[i], to, true)))
			report(&m->v[i], "adding", to, ret), failed++;
	/* Direct routes first: a gateway must be reachable when its route is added. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < m->n; i++)
			if (m->v[i].kind == NLMOVE_ROUTE && route_has_gateway(&m->v[i]) == pass &&
			    (ret = replay(nl, &m->v[i], to, true)))
				report(&m->v[i], "adding", to, ret), failed++;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].kind == NLMOVE_NEIGH && (ret = replay(nl, &m->v[i], to, true)))
			report(&m->v[i], "adding", to, ret), failed++;
	mnl_socket_close(nl);
	return failed;
}

/* ---- naming ------------------------------------------------------------------------------------ */

static const char *ntop(int family, const void *a, char *buf)
{
	return inet_ntop(family, a, buf, INET6_ADDRSTRLEN) ? buf : "?";
}

void nlmove_describe(const struct nlmove_item *it, char *out, size_t len)
{
	const struct nlmsghdr *nlh = (const void *)it->msg;
	const struct nlattr *a;
	char b1[INET6_ADDRSTRLEN], b2[INET6_ADDRSTRLEN];
	size_t off;

	if (it->kind == NLMOVE_ADDR) {
		const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
		const void *addr = NULL;

		mnl_attr_for_each(a, nlh, sizeof(*ifa))
			if (mnl_attr_get_type(a) == IFA_LOCAL || (!addr && mnl_attr_get_type(a) == IFA_ADDRESS))
				addr = mnl_attr_get_payload(a);
		snprintf(out, len, "%s %s/%u", ifa->ifa_family == AF_INET ? "inet" : "inet6",
			 addr ? ntop(ifa->ifa_family, addr, b1) : "?", ifa->ifa_prefixlen);
	} else if (it->kind == NLMOVE_NEIGH) {
		const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
		const uint8_t *ll = NULL;
		const void *dst = NULL;

		mnl_attr_for_each(a, nlh, sizeof(*ndm)) {
			if (mnl_attr_get_type(a) == NDA_DST)
				dst = mnl_attr_get_payload(a);
			if (mnl_attr_get_type(a) == NDA_LLADDR)
				ll = mnl_attr_get_payload(a);
		}
		snprintf(out, len, "neigh %s lladdr %02x:%02x:%02x:%02x:%02x:%02x %s",
			 dst ? ntop(ndm->ndm_family, dst, b1) : "?", ll ? ll[0] : 0, ll ? ll[1] : 0, ll ? ll[2] : 0,
			 ll ? ll[3] : 0, ll ? ll[4] : 0, ll ? ll[5] : 0,
			 ndm->ndm_state & NUD_PERMANENT ? "permanent" : "stale");
	} else {
		const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
		const void *dst = NULL, *gw = NULL;
		uint32_t table = rtm->rtm_table, prio = 0;
		bool multipath = false;

		mnl_attr_for_each(a, nlh, sizeof(*rtm)) {
			switch (mnl_attr_get_type(a)) {
			case RTA_DST: dst = mnl_attr_get_payload(a); break;
			case RTA_GATEWAY: gw = mnl_attr_get_payload(a); break;
			case RTA_TABLE: table = mnl_attr_get_u32(a); break;
			case RTA_PRIORITY: prio = mnl_attr_get_u32(a); break;
			case RTA_MULTIPATH: multipath = true; break;
			}
		}
		if (dst)
			off = (size_t)snprintf(out, len, "route %s/%u", ntop(rtm->rtm_family, dst, b1), rtm->rtm_dst_len);
		else
			off = (size_t)snprintf(out, len, "route %s", rtm->rtm_family == AF_INET6 ? "default (IPv6)" : "default");
		if (off < len && gw)
			off += (size_t)snprintf(out + off, len - off, " via %s", ntop(rtm->rtm_family, gw, b2));
		if (off < len && multipath)
			off += (size_t)snprintf(out + off, len - off, " (multipath)");
		if (off < len && table == RT_TABLE_MAIN)
			off += (size_t)snprintf(out + off, len - off, " table main");
		else if (off < len)
			off += (size_t)snprintf(out + off, len - off, " table %u", table);
		if (off < len && prio)
			snprintf(out + off, len - off, " metric %u", prio);
	}
}
