// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_nlmirror.c - nlmirror against a real kernel in throw-away namespaces (root only).
 *
 *   mgnl-a-PID (the router; this test setns()es into it)      mgnl-b-PID (a LAN host)
 *   +---------------------------------------------+         +----------------------+
 *   | veth0  02:aa:00:00:00:01  mtu 1400          |---------| veth1 02:bb:00:00:00:02|
 *   |        10.9.0.1/24  fd00:9::1/64            |         | 10.9.0.2/24          |
 *   | other0 203.0.113.1/24 (another interface,    |
 *   |        a veth looped to other1 in the same ns) |         | fd00:9::2/64         |
 *   | gateways (static neighbours, nobody home):  |         +----------------------+
 *   |   10.9.0.254 ..fe  10.9.0.253 ..fd          |
 *   |   fd00:9::fe ..06:fe  fe80::1 ..06:01       |
 *   +---------------------------------------------+
 */
#define _LGPL_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <time.h>
#include "rcu.h"

#include "evsource.h"
#include "netlink/nlmirror.h"
#include "nstest.h"

static const char *A, *B;
static struct nlmirror *m;
static int epfd, notified;

static void on_notify(void *ctx)
{
	(*(int *)ctx)++;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the control loop for up to ms milliseconds. */
static void pump(int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;

	while (now_ms() < end) {
		struct epoll_event ev[8];
		int i, n = epoll_wait(epfd, ev, 8, 20);

		for (i = 0; i < n; i++) {
			struct evsource *src = ev[i].data.ptr;

			src->cb(src, ev[i].events);
		}
		mg_rcu_quiescent_state();
	}
}

static int lookup(const char *dst, struct nl_l2hop *h)
{
	int family = strchr(dst, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16] = { 0 };

	inet_pton(family, dst, a);
	memset(h, 0, sizeof(*h));
	return nl_snapshot_lookup(nlmirror_current(m), family, a, h);
}

static bool hop_is(const struct nl_l2hop *h, const char *nexthop)
{
	uint8_t a[16] = { 0 };

	inet_pton(h->family, nexthop, a);
	return !memcmp(h->nexthop, a, 16);
}

static bool mac_is(const uint8_t *mac, uint8_t last)
{
	return mac[0] == 2 && mac[5] == last;
}

/* Pumps until lookup(dst) returns want_ret with next hop want_nh (NULL: any), or ms pass. */
static bool wait_lookup(const char *dst, int want_ret, const char *want_nh, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	struct nl_l2hop h;

	for (;;) {
		int ret = lookup(dst, &h);

		if (ret == want_ret && (!want_nh || hop_is(&h, want_nh)))
			return true;
		if (now_ms() >= end)
			return false;
		pump(20);
	}
}

static void setup(void)
{
	A = ns_create("a");
	B = ns_create("b");
	if (sh("ip -n %s link add veth0 type veth peer name veth1 netns %s", A, B) ||
	    sh("ip -n %s link set veth0 address 02:aa:00:00:00:01 mtu 1400 up", A) ||
	    sh("ip -n %s link set veth1 address 02:bb:00:00:00:02 up", B) ||
	    sh("ip -n %s addr add 10.9.0.1/24 dev veth0", A) ||
	    sh("ip -n %s addr add fd00:9::1/64 dev veth0 nodad", A) ||
	    sh("ip -n %s addr add 10.9.0.2/24 dev veth1", B) ||
	    sh("ip -n %s addr add fd00:9::2/64 dev veth1 nodad", B) ||
	    sh("ip -n %s link add other0 type veth peer name other1", A) ||
	    sh("ip -n %s link set other0 up && ip -n %s link set other1 up", A, A) ||
	    sh("ip -n %s addr add 203.0.113.1/24 dev other0", A) ||
	    sh("ip -n %s neigh add 10.9.0.254 lladdr 02:00:00:00:00:fe dev veth0 nud permanent", A) ||
	    sh("ip -n %s neigh add 10.9.0.253 lladdr 02:00:00:00:00:fd dev veth0 nud permanent", A) ||
	    sh("ip -n %s neigh add 10.9.0.77 lladdr 02:00:00:00:00:77 dev veth0 nud permanent", A) ||
	    sh("ip -n %s neigh add fd00:9::fe lladdr 02:00:00:00:06:fe dev veth0 nud permanent", A) ||
	    sh("ip -n %s neigh add fe80::1 lladdr 02:00:00:00:06:01 dev veth0 nud permanent", A) ||
	    sh("ip -n %s route add default via 10.9.0.254", A) ||
	    sh("ip -n %s route add 198.51.100.0/24 via 10.9.0.253", A) ||
	    sh("ip -n %s -6 route add 2001:db8:1::/48 via fd00:9::fe", A) ||
	    sh("ip -n %s -6 route add default via fe80::1 dev veth0", A)) {
		fprintf(stderr, "FAIL: lab setup\n");
		exit(1);
	}
}

static void test_initial_dump(void)
{
	const struct nl_snapshot *s = nlmirror_current(m);
	struct nl_l2hop h;
	uint8_t mac[6], a[16] = { 0 };
	int ret;

	nl_snapshot_mac(s, mac);
	CHECK(mac_is(mac, 0x01) && mac[1] == 0xaa, "own mac %02x:..:%02x", mac[1], mac[5]);
	CHECK(nl_snapshot_mtu(s) == 1400, "mtu %u", nl_snapshot_mtu(s));
	inet_pton(AF_INET, "10.9.0.1", a);
	CHECK(nl_snapshot_is_local(s, AF_INET, a), "10.9.0.1 local");
	inet_pton(AF_INET, "203.0.113.1", a);
	CHECK(!nl_snapshot_is_local(s, AF_INET, a), "other0's address is not ours");
	inet_pton(AF_INET6, "fd00:9::1", a);
	CHECK(nl_snapshot_is_local(s, AF_INET6, a), "fd00:9::1 local");

	ret = lookup("8.8.8.8", &h);          /* default route via gateway */
	CHECK(ret == 0 && hop_is(&h, "10.9.0.254") && mac_is(h.dst_mac, 0xfe) && mac_is(h.src_mac, 0x01),
	      "default: ret %d", ret);
	CHECK(h.src_addr[0] == 10 && h.src_addr[3] == 1, "default: src");
	ret = lookup("198.51.100.7", &h);     /* more specific than default */
	CHECK(ret == 0 && hop_is(&h, "10.9.0.253") && mac_is(h.dst_mac, 0xfd), "198.51.100.7: ret %d", ret);
	ret = lookup("10.9.0.77", &h);        /* on-link */
	CHECK(ret == 0 && hop_is(&h, "10.9.0.77") && mac_is(h.dst_mac, 0x77), "on-link: ret %d", ret);
	ret = lookup("203.0.113.5", &h);      /* best route leaves through other0 */
	CHECK(ret == -ENETUNREACH, "other interface: ret %d", ret);
	ret = lookup("2001:db8:1::1", &h);
	CHECK(ret == 0 && hop_is(&h, "fd00:9::fe") && h.dst_mac[4] == 6 && h.dst_mac[5] == 0xfe,
	      "v6 via global gw: ret %d", ret);
	ret = lookup("2001:4860::1", &h);     /* default via link-local gateway */
	inet_pton(AF_INET6, "fd00:9::1", a);
	CHECK(ret == 0 && hop_is(&h, "fe80::1") && h.dst_mac[5] == 0x01 && h.dst_mac[4] == 6,
	      "v6 default: ret %d", ret);
	CHECK(!memcmp(h.src_addr, a, 16), "v6 src prefers the global address over fe80::");
}

static void test_route_events(void)
{
	struct nl_l2hop h;
	int before = notified;

	sh("ip -n %s route add 198.51.100.128/25 via 10.9.0.77", A);
	CHECK(wait_lookup("198.51.100.200", 0, "10.9.0.77", 3000), "added /25 wins over /24");
	CHECK(lookup("198.51.100.7", &h) == 0 && hop_is(&h, "10.9.0.253"), "/24 still serves the rest");
	CHECK(notified > before, "notify callback ran");
	sh("ip -n %s route del 198.51.100.128/25", A);
	CHECK(wait_lookup("198.51.100.200", 0, "10.9.0.253", 3000), "removal falls back to /24");
	sh("ip -n %s -6 route add 2001:db8:1:2::/64 via fe80::1 dev veth0", A);
	CHECK(wait_lookup("2001:db8:1:2::9", 0, "fe80::1", 3000), "v6 more specific");
	sh("ip -n %s -6 route del 2001:db8:1:2::/64", A);
	CHECK(wait_lookup("2001:db8:1:2::9", 0, "fd00:9::fe", 3000), "v6 removal");
	sh("ip -n %s link set veth0 mtu 1300", A);
	pump(200);
	CHECK(nl_snapshot_mtu(nlmirror_current(m)) == 1300, "mtu change seen");
	sh("ip -n %s route del default", A);
	CHECK(wait_lookup("8.8.8.8", -ENETUNREACH, NULL, 3000), "no default route: unreachable");
	sh("ip -n %s route replace default via 10.9.0.253", A);
	CHECK(wait_lookup("8.8.8.8", 0, "10.9.0.253", 3000), "default back via another gateway");
}

/* IPv4 flushes routes through a downed device without RTM_DELROUTE; the mirror re-dumps. */
static void test_link_down(void)
{
	sh("ip -n %s link set veth0 down", A);
	CHECK(wait_lookup("198.51.100.7", -ENETUNREACH, NULL, 3000), "routes gone after link down");
	/* Admin down also flushes the neighbour table, static entries included. */
	sh("ip -n %s link set veth0 up && ip -n %s route add 198.51.100.0/24 via 10.9.0.253", A, A);
	CHECK(wait_lookup("198.51.100.7", -EAGAIN, "10.9.0.253", 3000), "route back, neighbour flushed");
	sh("ip -n %s neigh add 10.9.0.253 lladdr 02:00:00:00:00:fd dev veth0 nud permanent", A);
	CHECK(wait_lookup("198.51.100.7", 0, "10.9.0.253", 3000), "neighbour back");
}

static void test_resolve(void)
{
	struct nl_l2hop h;
	uint8_t a[16] = { 0 };
	int ret;

	ret = lookup("10.9.0.2", &h);
	CHECK(ret == -EAGAIN && hop_is(&h, "10.9.0.2") && h.family == AF_INET, "unresolved: ret %d", ret);
	ret = nlmirror_resolve(m, AF_INET, h.nexthop);
	CHECK(ret == 0, "resolve: %d", ret);
	CHECK(nlmirror_resolve(m, AF_INET, h.nexthop) == -EALREADY, "second resolve rate-limited");
	CHECK(wait_lookup("10.9.0.2", 0, "10.9.0.2", 3000), "peer answered ARP");
	lookup("10.9.0.2", &h);
	CHECK(mac_is(h.dst_mac, 0x02) && h.dst_mac[1] == 0xbb, "peer mac");
	CHECK(strstr(sh_out("ip -n %s neigh show 10.9.0.2 dev veth0", A), "02:bb:00:00:00:02") != NULL,
	      "kernel has the entry");

	/* nobody at .99: the kernel probes, the entry shows INCOMPLETE then FAILED */
	inet_pton(AF_INET, "10.9.0.99", a);
	CHECK(nlmirror_resolve(m, AF_INET, a) == 0, "resolve .99");
	pump(300);
	{
		const char *out = sh_out("ip -n %s neigh show 10.9.0.99 dev veth0", A);

		CHECK(strstr(out, "INCOMPLETE") || strstr(out, "FAILED"), "probe entry: '%s'", out);
	}
	CHECK(lookup("10.9.0.99", &h) == -EAGAIN, "still unresolved");
	pump(120);
	CHECK(nlmirror_resolve(m, AF_INET, a) == 0, "after 100 ms a new request is allowed");

	ret = lookup("fd00:9::2", &h);
	CHECK(ret == -EAGAIN, "v6 unresolved: ret %d", ret);
	CHECK(nlmirror_resolve(m, AF_INET6, h.nexthop) == 0, "resolve v6");
	CHECK(wait_lookup("fd00:9::2", 0, "fd00:9::2", 3000), "peer answered NS");
	lookup("fd00:9::2", &h);
	CHECK(h.dst_mac[1] == 0xbb, "v6 peer mac");

	/* the entry goes away -> lookups stop using it */
	sh("ip -n %s neigh del 10.9.0.77 dev veth0", A);
	CHECK(wait_lookup("10.9.0.77", -EAGAIN, "10.9.0.77", 3000), "deleted neighbour");
}

/* One batch of 100 changes must not cause 100 rebuilds. */
static void test_coalescing(void)
{
	char path[] = "/tmp/mgnl-batch-XXXXXX";
	int fd = mkstemp(path), i, before;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f) {
		CHECK(0, "mkstemp");
		return;
	}
	for (i = 0; i < 100; i++)
		fprintf(f, "route add 192.0.%d.0/24 via 10.9.0.254\n", i);
	fclose(f);
	pump(50);
	before = notified;
	sh("ip -n %s -batch %s", A, path);
	unlink(path);
	CHECK(wait_lookup("192.0.99.1", 0, "10.9.0.254", 3000), "last batch route visible");
	pump(100);
	printf("100 route changes -> %d snapshot(s)\n", notified - before);
	CHECK(notified - before < 20, "coalesced: %d rebuilds for 100 changes", notified - before);
}

/* A worker-like reader looks up while the control thread republishes: with ASan this catches
 * a snapshot freed before a grace period; always, every answer must be one of the two valid
 * ones (the /24 via .254 while it exists, else the default via .253). */
static atomic_bool reader_stop;
static atomic_long reader_lookups, reader_bad;

static void *reader(void *arg)
{
	uint8_t gw254[16] = { 10, 9, 0, 254 }, gw253[16] = { 10, 9, 0, 253 };
	unsigned int x = 0;

	(void)arg;
	mg_rcu_register_thread();
	while (!atomic_load(&reader_stop)) {
		const struct nl_snapshot *s = nlmirror_current(m);
		int i;

		for (i = 0; i < 64; i++, x++) {
			uint8_t dst[16] = { 192, 0, (uint8_t)(x % 100), 1 };
			struct nl_l2hop h;
			int ret = nl_snapshot_lookup(s, AF_INET, dst, &h);

			if (ret || (memcmp(h.nexthop, gw254, 16) && memcmp(h.nexthop, gw253, 16)))
				atomic_fetch_add(&reader_bad, 1);
		}
		atomic_fetch_add(&reader_lookups, 64);
		mg_rcu_quiescent_state();          /* once per loop, like a worker */
	}
	mg_rcu_unregister_thread();
	return NULL;
}

static void test_concurrent_reader(void)
{
	char path[] = "/tmp/mgnl-churn-XXXXXX";
	int fd = mkstemp(path), i, round, before = notified;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	pthread_t th;

	if (!f) {
		CHECK(0, "mkstemp");
		return;
	}
	for (i = 0; i < 100; i++)
		fprintf(f, "route del 192.0.%d.0/24\n", i);
	for (i = 0; i < 100; i++)
		fprintf(f, "route add 192.0.%d.0/24 via 10.9.0.254\n", i);
	fclose(f);
	pthread_create(&th, NULL, reader, NULL);
	for (round = 0; round < 10; round++) {
		sh("ip -n %s -batch %s", A, path);
		pump(30);
	}
	CHECK(wait_lookup("192.0.42.1", 0, "10.9.0.254", 3000), "churned route present at the end");
	atomic_store(&reader_stop, true);
	pthread_join(th, NULL);
	unlink(path);
	printf("reader: %ld lookups during %d republishes\n", atomic_load(&reader_lookups), notified - before);
	CHECK(atomic_load(&reader_lookups) > 0 && notified - before >= 2, "reader ran during republishes");
	CHECK(atomic_load(&reader_bad) == 0, "%ld inconsistent answers", atomic_load(&reader_bad));
}

/* Overflowing the event socket loses events; the mirror must notice (ENOBUFS) and re-dump. */
static void test_enobufs(void)
{
	char path[] = "/tmp/mgnl-flood-XXXXXX";
	int fd = mkstemp(path), i, small = 1;   /* the kernel rounds up to its minimum */
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	unsigned long before = nlmirror_debug_resyncs(m);
	struct nl_l2hop h;
	int missing = 0;

	if (!f) {
		CHECK(0, "mkstemp");
		return;
	}
	for (i = 0; i < 200; i++)
		fprintf(f, "route add 172.20.%d.0/24 via 10.9.0.254\n", i);
	fclose(f);
	pump(50);
	setsockopt(nlmirror_debug_event_fd(m), SOL_SOCKET, SO_RCVBUFFORCE, &small, sizeof(small));
	sh("ip -n %s -batch %s", A, path);       /* 200 events into a ~2 KiB queue, unread */
	unlink(path);
	pump(300);
	for (i = 0; i < 200; i++) {
		char dst[32];

		snprintf(dst, sizeof(dst), "172.20.%d.9", i);
		missing += !(lookup(dst, &h) == 0 && hop_is(&h, "10.9.0.254"));
	}
	CHECK(nlmirror_debug_resyncs(m) > before, "ENOBUFS led to a re-dump");
	CHECK(missing == 0, "%d of 200 flooded routes missing", missing);
	small = 4 << 20;
	setsockopt(nlmirror_debug_event_fd(m), SOL_SOCKET, SO_RCVBUFFORCE, &small, sizeof(small));
}

int main(void)
{
	int ifindex, ret;

	ns_require();
	setup();
	if (ns_enter(A)) {
		perror("setns");
		return 1;
	}
	ifindex = (int)if_nametoindex("veth0");
	CHECK(ifindex > 0, "veth0 visible after setns");
	mg_rcu_register_thread();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ret = nlmirror_init(&m, ifindex, epfd);
	CHECK(ret == 0, "init: %d", ret);
	CHECK(nlmirror_init(&(struct nlmirror *){ NULL }, 999999, epfd) == -ENODEV, "unknown ifindex");
	if (!ret) {
		nlmirror_set_notify(m, on_notify, &notified);
		test_initial_dump();
		test_route_events();
		test_resolve();
		test_coalescing();
		test_concurrent_reader();
		test_enobufs();
		test_link_down();
		nlmirror_uninit(m);
	}
	mg_rcu_unregister_thread();
	close(epfd);
	ns_cleanup();
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("PASS test_nlmirror\n");
	return 0;
}
