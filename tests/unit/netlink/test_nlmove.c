// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_nlmove.c - nlmove against the kernel in a throw-away namespace (root only): a "NIC"
 * (veth mvnic0) with two IPv4 addresses and an IPv6 one, routes in the main table and in table
 * 100 (default routes of both families, a gateway route with a metric, a direct route), and
 * neighbour entries (permanent and learnt) moves to a "TAP" (veth mvtap0) and back; then again,
 * with the TAP deleted before the way back, as after a crash. An unrelated interface keeps its
 * configuration throughout, and the kernel's own routes are not copied.
 */
#include <stdbool.h>
#include <net/if.h>

#include "netlink/nlmove.h"
#include "nstest.h"

#define IP(...) sh_out("ip " __VA_ARGS__)

static void setup(void)
{
	sh("ip link add mvnic0 type veth peer name mvnicp");
	sh("ip link add mvtap0 type veth peer name mvtapp");
	sh("ip link add mvoth0 type veth peer name mvothp");
	sh("for i in mvnic0 mvnicp mvtap0 mvtapp mvoth0 mvothp; do ip link set $i up; done");
	sh("ip addr add 192.168.8.105/24 dev mvnic0 && ip addr add 192.168.8.106/24 dev mvnic0");
	sh("ip addr add fd00:8::105/64 dev mvnic0 nodad");
	sh("ip route add default via 192.168.8.1 dev mvnic0");
	sh("ip route add 10.0.0.0/8 via 192.168.8.1 dev mvnic0 metric 50");
	sh("ip route add 172.16.0.0/12 dev mvnic0");
	sh("ip route add default via 192.168.8.1 dev mvnic0 table 100");
	sh("ip -6 route add default via fd00:8::1 dev mvnic0");
	sh("ip neigh add 192.168.8.1 lladdr 02:00:00:00:00:01 dev mvnic0 nud permanent");
	sh("ip neigh add fd00:8::1 lladdr 02:00:00:00:00:01 dev mvnic0 nud permanent");
	sh("ip neigh add 192.168.8.80 lladdr 02:00:00:00:00:80 dev mvnic0 nud reachable");
	sh("ip addr add 10.9.0.1/24 dev mvoth0 && ip route add 10.10.0.0/16 via 10.9.0.2");
}

/* What `ip` shows of an interface's configuration, one string. */
static const char *conf_of(const char *dev)
{
	static char out[4096];

	snprintf(out, sizeof(out), "%s", sh_out("ip -4 addr show dev %s; ip -6 addr show dev %s scope global; "
					  "ip route show table all dev %s proto boot; ip -6 route show table all dev %s "
					  "proto boot; ip neigh show dev %s", dev, dev, dev, dev, dev));
	return out;
}

static void expect_configured(const char *dev, bool yes)
{
	static const char *const want[] = {
		"192.168.8.105/24", "192.168.8.106/24", "fd00:8::105/64", "default via 192.168.8.1 table 100",
		"default via 192.168.8.1 \n", "10.0.0.0/8 via 192.168.8.1 metric 50", "172.16.0.0/12 scope link",
		"default via fd00:8::1", "192.168.8.1 lladdr 02:00:00:00:00:01 PERMANENT",
		"fd00:8::1 lladdr 02:00:00:00:00:01 PERMANENT", "192.168.8.80 lladdr 02:00:00:00:00:80",
	};
	const char *c = conf_of(dev);

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool has = strstr(c, want[i]) != NULL;

		/* the default route prints "default via 192.168.8.1 " then the newline or more */
		if (i == 4)
			has = strstr(c, "default via 192.168.8.1 \n") || strstr(c, "default via 192.168.8.1\n");
		CHECK(has == yes, "%s %s \"%s\"; it has:\n%s", dev, yes ? "lacks" : "still has", want[i], c);
	}
}

int main(void)
{
	struct nlmove m = { 0 };
	unsigned counts[3] = { 0 };
	char d[160];
	int nic, tap, ret;

	ns_require();
	if (ns_enter(ns_create("mv"))) {
		printf("SKIP: setns refused\n");
		return 77;
	}
	setup();
	nic = (int)if_nametoindex("mvnic0");
	tap = (int)if_nametoindex("mvtap0");
	CHECK(nic && tap, "interfaces");
	expect_configured("mvnic0", true);

	CHECK((ret = nlmove_capture(&m, nic)) == 0, "capture: %d", ret);
	for (size_t i = 0; i < m.n; i++) {
		counts[m.v[i].kind]++;
		nlmove_describe(&m.v[i], d, sizeof(d));
		printf("  captured: %s\n", d);
	}
	CHECK(counts[NLMOVE_ADDR] == 3, "3 addresses, got %u", counts[NLMOVE_ADDR]);
	CHECK(counts[NLMOVE_ROUTE] == 5, "5 routes (no proto-kernel ones), got %u", counts[NLMOVE_ROUTE]);
	CHECK(counts[NLMOVE_NEIGH] == 3, "3 neighbours, got %u", counts[NLMOVE_NEIGH]);

	/* To the TAP. */
	CHECK((ret = nlmove_apply(&m, nic, tap)) == 0, "move to the TAP: %d failed", ret);
	expect_configured("mvtap0", true);
	expect_configured("mvnic0", false);
	CHECK(strstr(sh_out("ip neigh show dev mvtap0"), "192.168.8.80 lladdr 02:00:00:00:00:80 STALE") != NULL,
	      "a learnt neighbour arrives stale: %s", sh_out("ip neigh show dev mvtap0"));
	CHECK(strstr(sh_out("ip route get 10.1.2.3"), "dev mvtap0") != NULL, "10/8 goes through the TAP");

	/* And back. */
	CHECK((ret = nlmove_apply(&m, tap, nic)) == 0, "move back: %d failed", ret);
	expect_configured("mvnic0", true);
	expect_configured("mvtap0", false);

	/* The crash case: the TAP vanished with the process; the NIC gets everything back. */
	CHECK(nlmove_apply(&m, nic, tap) == 0, "move to the TAP again");
	sh("ip link del mvtap0");
	CHECK(nlmove_apply(&m, tap, tap) == -ENODEV, "a missing target is an error");
	CHECK((ret = nlmove_apply(&m, 0, nic)) == 0, "restore without the TAP: %d failed", ret);
	expect_configured("mvnic0", true);
	/* Twice is harmless (a restore that is repeated after another crash). */
	CHECK((ret = nlmove_apply(&m, 0, nic)) == 0, "restore again: %d failed", ret);

	CHECK(strstr(sh_out("ip addr show dev mvoth0"), "10.9.0.1/24") &&
	      strstr(sh_out("ip route show 10.10.0.0/16"), "via 10.9.0.2"), "the other interface is untouched");
	CHECK(nlmove_add(&m, (const uint8_t *)"\x10\0\0\0\x14\0", 6) == -EINVAL, "a short message is refused");
	nlmove_free(&m);
	if (failures) {
		fprintf(stderr, "test_nlmove: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_nlmove: all checks passed\n");
	return 0;
}
