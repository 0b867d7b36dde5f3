// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_takeover.c - the takeover state file's text: what is written (one described item a line,
 * its netlink request as hex) reads back byte for byte, with the NIC, TAP, pid and boot id; a file
 * of another version, with a broken hex item or without its interfaces is refused, and a name that
 * JSON would need to escape is not written.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "takeover.h"
#include "check.h"

static void add(struct takeover *t, struct nlmsghdr *nlh)
{
	CHECK_INT(nlmove_add(&t->moved, (const uint8_t *)nlh, nlh->nlmsg_len), 0);
}

static void items(struct takeover *t)
{
	char buf[512];
	struct nlmsghdr *nlh;
	uint8_t a4[4], gw[4], a6[16];

	inet_pton(AF_INET, "192.168.8.105", a4);
	inet_pton(AF_INET, "192.168.8.1", gw);
	inet_pton(AF_INET6, "fd00:8::105", a6);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	*(struct ifaddrmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifaddrmsg)) =
		(struct ifaddrmsg){ .ifa_family = AF_INET, .ifa_prefixlen = 24, .ifa_index = 2 };
	mnl_attr_put(nlh, IFA_LOCAL, 4, a4);
	mnl_attr_put(nlh, IFA_ADDRESS, 4, a4);
	add(t, nlh);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWADDR;
	*(struct ifaddrmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifaddrmsg)) =
		(struct ifaddrmsg){ .ifa_family = AF_INET6, .ifa_prefixlen = 64, .ifa_index = 2 };
	mnl_attr_put(nlh, IFA_ADDRESS, 16, a6);
	add(t, nlh);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWROUTE;
	*(struct rtmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct rtmsg)) =
		(struct rtmsg){ .rtm_family = AF_INET, .rtm_table = 100, .rtm_protocol = RTPROT_BOOT,
				.rtm_type = RTN_UNICAST };
	mnl_attr_put_u32(nlh, RTA_TABLE, 100);
	mnl_attr_put(nlh, RTA_GATEWAY, 4, gw);
	mnl_attr_put_u32(nlh, RTA_OIF, 2);
	add(t, nlh);

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWNEIGH;
	*(struct ndmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ndmsg)) =
		(struct ndmsg){ .ndm_family = AF_INET, .ndm_ifindex = 2, .ndm_state = NUD_PERMANENT };
	mnl_attr_put(nlh, NDA_DST, 4, gw);
	mnl_attr_put(nlh, NDA_LLADDR, 6, "\x02\0\0\0\0\x01");
	add(t, nlh);
}

int main(void)
{
	struct takeover t = { .nic = "eth0", .tap = "meshgate0-lan" }, back = { 0 };
	char boot[64], *text, *bad;
	int pid;

	items(&t);
	CHECK_INT(takeover_format(&t, 4321, "0b5d3f4e-1111-2222-3333-444455556666", &text), 0);
	printf("%s", text);
	CHECK(strstr(text, "\"what\": \"inet 192.168.8.105/24\"") != NULL);
	CHECK(strstr(text, "\"what\": \"inet6 fd00:8::105/64\"") != NULL);
	CHECK(strstr(text, "\"what\": \"route default via 192.168.8.1 table 100\"") != NULL);
	CHECK(strstr(text, "\"what\": \"neigh 192.168.8.1 lladdr 02:00:00:00:00:01 permanent\"") != NULL);

	CHECK_INT(takeover_parse(&back, text, &pid, boot, sizeof(boot)), 0);
	CHECK_STR(back.nic, "eth0");
	CHECK_STR(back.tap, "meshgate0-lan");
	CHECK_STR(boot, "0b5d3f4e-1111-2222-3333-444455556666");
	CHECK_INT(pid, 4321);
	CHECK_INT(back.moved.n, t.moved.n);
	for (size_t i = 0; i < t.moved.n && i < back.moved.n; i++) {
		CHECK_INT(back.moved.v[i].kind, t.moved.v[i].kind);
		CHECK_INT(back.moved.v[i].len, t.moved.v[i].len);
		CHECK(!memcmp(back.moved.v[i].msg, t.moved.v[i].msg, t.moved.v[i].len));
	}

	/* Another version, a broken item, a file without its interfaces: refused. */
	bad = strdup(text);
	memcpy(strstr(bad, "\"version\": 1"), "\"version\": 2", 12);
	CHECK_INT(takeover_parse(&back, bad, &pid, boot, sizeof(boot)), -EINVAL);
	strcpy(bad, text);
	*strstr(bad, "\"}") = 'x';                     /* the first item's hex loses a digit's pair */
	strstr(bad, "x")[-1] = '"';
	CHECK_INT(takeover_parse(&back, bad, &pid, boot, sizeof(boot)), -EINVAL);
	CHECK_INT(takeover_parse(&back, "{\n  \"version\": 1,\n  \"moved\": [\n  ]\n}\n", &pid, boot, sizeof(boot)),
		  -EINVAL);
	free(bad);
	/* An interface name JSON would have to escape is not written. */
	strcpy(t.tap, "ta\"p");
	free(text);
	text = NULL;
	CHECK_INT(takeover_format(&t, 1, "x", &text), -EINVAL);
	CHECK(text == NULL);
	nlmove_free(&t.moved);
	nlmove_free(&back.moved);
	return check_done("test_takeover");
}
