// SPDX-License-Identifier: GPL-2.0-only
/*
 * tun.c - the local-delivery TUN device: open, address, route, close. Configuration goes over
 * rtnetlink (what `ip link/addr/route` send), so no external tool is needed at runtime.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/if_addr.h>
#include <libmnl/libmnl.h>

#include "io/tun.h"
#include "netlink/nlsock.h"
#include "netlink/nltables.h"

static int tun_ifindex(const char *name)
{
	unsigned int idx = if_nametoindex(name);

	return idx ? (int)idx : -ENODEV;
}

static unsigned int tun_alen(const struct mg_ipprefix *p)
{
	if (p->family == AF_INET && p->cidr <= 32)
		return 4;
	if (p->family == AF_INET6 && p->cidr <= 128)
		return 16;
	return 0;
}

/* Brings the link up with the given MTU in one RTM_NEWLINK. */
static int tun_link_up(int ifindex, uint32_t mtu)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nlsock_request_once(nlh);
}

int tun_open(const char *name, uint32_t mtu)
{
	struct ifreq ifr = { 0 };
	int fd, ret;

	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	strcpy(ifr.ifr_name, name);
	/* IFF_NO_PI: every read/write is exactly one IP packet; the kernel infers the protocol
	 * from the version nibble. */
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		goto err_errno;
	/* A device left persistent by someone else would outlive us; make it follow our fd. */
	if (ioctl(fd, TUNSETPERSIST, 0) < 0)
		goto err_errno;
	ret = tun_ifindex(ifr.ifr_name);
	if (ret >= 0)
		ret = tun_link_up(ret, mtu);
	if (ret < 0)
		goto err;
	return fd;
err_errno:
	ret = -errno;
err:
	close(fd);
	return ret;
}

static int tun_address(const char *name, const struct mg_ipprefix *p, bool add)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int alen = tun_alen(p);
	int ifindex = tun_ifindex(name), ret;
	struct ifaddrmsg *ifa;

	if (!alen)
		return -EINVAL;
	if (ifindex < 0)
		return ifindex;
	nlh->nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	nlh->nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = p->family;
	ifa->ifa_prefixlen = p->cidr;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	mnl_attr_put(nlh, IFA_LOCAL, alen, p->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, p->addr);
	if (p->family == AF_INET6) {
		/* No DAD: nobody else can own our tailnet address on a TUN, and a tentative
		 * address would refuse traffic for a second or more. */
		ifa->ifa_flags = IFA_F_NODAD;
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	}
	ret = nlsock_request_once(nlh);
	return (add && ret == -EEXIST) || (!add && ret == -EADDRNOTAVAIL) ? 0 : ret;
}

int tun_add_address(const char *name, const struct mg_ipprefix *p)
{
	return tun_address(name, p, true);
}

int tun_del_address(const char *name, const struct mg_ipprefix *p)
{
	return tun_address(name, p, false);
}

static void tun_masked(const struct mg_ipprefix *p, unsigned int alen, uint8_t out[16])
{
	unsigned int i;

	for (i = 0; i < alen; i++) {
		unsigned int bits = p->cidr > i * 8 ? p->cidr - i * 8 : 0;

		out[i] = bits >= 8 ? p->addr[i] : (uint8_t)(p->addr[i] & (0xff00u >> bits));
	}
}

static int tun_route(const char *name, const struct mg_ipprefix *p, uint16_t type)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int alen = tun_alen(p);
	int ifindex = tun_ifindex(name);
	uint8_t dst[16];
	struct rtmsg *rtm;

	if (!alen)
		return -EINVAL;
	if (ifindex < 0)
		return ifindex;
	tun_masked(p, alen, dst);     /* the kernel rejects IPv4 prefixes with host bits set */
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL : 0;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = p->family;
	rtm->rtm_dst_len = p->cidr;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = MG_RTPROT_TUN;
	rtm->rtm_type = RTN_UNICAST;
	/* On delete, NOWHERE matches any scope, as `ip route del` does. */
	rtm->rtm_scope = type == RTM_NEWROUTE ? RT_SCOPE_LINK : RT_SCOPE_NOWHERE;
	if (p->cidr)
		mnl_attr_put(nlh, RTA_DST, alen, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
	return nlsock_request_once(nlh);
}

int tun_add_route(const char *name, const struct mg_ipprefix *p)
{
	int ret = tun_route(name, p, RTM_NEWROUTE);

	return ret == -EEXIST ? 0 : ret;
}

int tun_del_route(const char *name, const struct mg_ipprefix *p)
{
	return tun_route(name, p, RTM_DELROUTE);
}

void tun_close(int fd, const char *name)
{
	/* Non-persistent (tun_open cleared TUNSETPERSIST): the last close unregisters the device,
	 * and with it its addresses and routes. name is kept for symmetry and logging. */
	(void)name;
	if (fd >= 0)
		close(fd);
}
