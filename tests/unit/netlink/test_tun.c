// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_tun.c - tun_* against the kernel in a throw-away namespace (root only).
 *
 *   mgnl-t-PID
 *   +------------------------------------------------------+
 *   |  host stack  <-- mgnltun0 (100.64.0.5/32,             |
 *   |                  fd7a:115c:a1e0::5/128, mtu 1380)     |
 *   |                  routes 100.64.0.0/10, fd7a:115c:a1e0::/48
 *   |                      ^ fd: this test plays the tailnet peer
 *   |                        100.64.0.2 / fd7a:115c:a1e0::2 |
 *   +------------------------------------------------------+
 * The test writes ICMP echo requests into the fd and expects the kernel's replies back out of
 * it, checking every checksum itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "io/tun.h"
#include "nstest.h"

#define TUN "mgnltun0"

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)(p[n - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static struct mg_ipprefix prefix(int family, const char *addr, int cidr)
{
	struct mg_ipprefix p = { .family = (uint8_t)family, .cidr = (uint8_t)cidr };

	inet_pton(family, addr, p.addr);
	return p;
}

/* IPv4 + ICMP echo request 100.64.0.2 -> 100.64.0.5, id 0x4d47, seq 1, 32 bytes payload. */
static size_t build_echo4(uint8_t *pkt)
{
	size_t len = 20 + 8 + 32, i;

	memset(pkt, 0, len);
	pkt[0] = 0x45;
	put16(pkt + 2, (uint16_t)len);
	pkt[8] = 64;
	pkt[9] = IPPROTO_ICMP;
	inet_pton(AF_INET, "100.64.0.2", pkt + 12);
	inet_pton(AF_INET, "100.64.0.5", pkt + 16);
	put16(pkt + 10, csum_fold(csum_add(0, pkt, 20)));
	pkt[20] = 8;                        /* echo request */
	put16(pkt + 24, 0x4d47);
	put16(pkt + 26, 1);
	for (i = 0; i < 32; i++)
		pkt[28 + i] = (uint8_t)i;
	put16(pkt + 22, csum_fold(csum_add(0, pkt + 20, 8 + 32)));
	return len;
}

/* ICMPv6 checksum: RFC 8200 section 8.1 pseudo-header (src, dst, length, next header 58). */
static uint32_t csum_v6_pseudo(const uint8_t *ip6, uint32_t plen)
{
	uint8_t tail[8] = { 0, 0, (uint8_t)(plen >> 8), (uint8_t)plen, 0, 0, 0, IPPROTO_ICMPV6 };

	return csum_add(csum_add(0, ip6 + 8, 32), tail, 8);
}

static size_t build_echo6(uint8_t *pkt)
{
	size_t plen = 8 + 32, i;

	memset(pkt, 0, 40 + plen);
	pkt[0] = 0x60;
	put16(pkt + 4, (uint16_t)plen);
	pkt[6] = IPPROTO_ICMPV6;
	pkt[7] = 64;
	inet_pton(AF_INET6, "fd7a:115c:a1e0::2", pkt + 8);
	inet_pton(AF_INET6, "fd7a:115c:a1e0::5", pkt + 24);
	pkt[40] = 128;                      /* echo request */
	put16(pkt + 44, 0x4d47);
	put16(pkt + 46, 1);
	for (i = 0; i < 32; i++)
		pkt[48 + i] = (uint8_t)i;
	put16(pkt + 42, csum_fold(csum_add(csum_v6_pseudo(pkt, (uint32_t)plen), pkt + 40, plen)));
	return 40 + plen;
}

/* Reads packets for up to 2 s until one satisfies match(); other traffic (MLD, RS) is skipped. */
static ssize_t read_matching(int fd, uint8_t *buf, size_t cap, bool (*match)(const uint8_t *, size_t))
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rounds;

	for (rounds = 0; rounds < 20; rounds++) {
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		while ((n = read(fd, buf, cap)) > 0)
			if (match(buf, (size_t)n))
				return n;
	}
	return -1;
}

static bool is_echo4_reply(const uint8_t *b, size_t n)
{
	return n >= 28 && (b[0] >> 4) == 4 && b[9] == IPPROTO_ICMP && b[20] == 0;
}

static bool is_echo6_reply(const uint8_t *b, size_t n)
{
	return n >= 48 && (b[0] >> 4) == 6 && b[6] == IPPROTO_ICMPV6 && b[40] == 129;
}

static void test_ping4(int fd)
{
	uint8_t req[128], rep[2048], a[4];
	size_t len = build_echo4(req);
	ssize_t n;

	CHECK(write(fd, req, len) == (ssize_t)len, "write v4 echo: %s", strerror(errno));
	n = read_matching(fd, rep, sizeof(rep), is_echo4_reply);
	CHECK(n == (ssize_t)len, "v4 echo reply (n=%zd)", n);
	if (n != (ssize_t)len)
		return;
	CHECK(csum_fold(csum_add(0, rep, 20)) == 0, "v4 header checksum");
	CHECK(csum_fold(csum_add(0, rep + 20, (size_t)n - 20)) == 0, "ICMP checksum");
	inet_pton(AF_INET, "100.64.0.5", a);
	CHECK(!memcmp(rep + 12, a, 4) && !memcmp(rep + 16, req + 12, 4), "v4 reply addresses");
	CHECK(!memcmp(rep + 24, req + 24, 4 + 32), "v4 id/seq/payload echoed");
}

static void test_ping6(int fd)
{
	uint8_t req[128], rep[2048];
	size_t len = build_echo6(req);
	ssize_t n;

	CHECK(write(fd, req, len) == (ssize_t)len, "write v6 echo: %s", strerror(errno));
	n = read_matching(fd, rep, sizeof(rep), is_echo6_reply);
	CHECK(n == (ssize_t)len, "v6 echo reply (n=%zd)", n);
	if (n != (ssize_t)len)
		return;
	CHECK(csum_fold(csum_add(csum_v6_pseudo(rep, (uint32_t)(n - 40)), rep + 40, (size_t)n - 40)) == 0,
	      "ICMPv6 checksum");
	CHECK(!memcmp(rep + 8, req + 24, 16) && !memcmp(rep + 24, req + 8, 16), "v6 reply addresses");
	CHECK(!memcmp(rep + 44, req + 44, 4 + 32), "v6 id/seq/payload echoed");
}

static void test_link_state(void)
{
	struct ifreq ifr = { 0 };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	strcpy(ifr.ifr_name, TUN);
	CHECK(ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu == 1380, "mtu %d", ifr.ifr_mtu);
	CHECK(ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_UP), "device up");
	close(s);
}

int main(void)
{
	struct mg_ipprefix v4 = prefix(AF_INET, "100.64.0.5", 32), v6 = prefix(AF_INET6, "fd7a:115c:a1e0::5", 128);
	struct mg_ipprefix r4 = prefix(AF_INET, "100.64.7.7", 10);   /* host bits set on purpose */
	struct mg_ipprefix r6 = prefix(AF_INET6, "fd7a:115c:a1e0::", 48);
	int fd, ret;

	ns_require();
	if (access("/dev/net/tun", R_OK | W_OK)) {
		printf("SKIP: no /dev/net/tun\n");
		return 77;
	}
	if (ns_enter(ns_create("t"))) {
		perror("setns");
		return 1;
	}
	CHECK(tun_open("a-name-longer-than-ifnamsiz", 1380) == -ENAMETOOLONG, "long name");
	fd = tun_open(TUN, 1380);
	CHECK(fd >= 0, "tun_open: %d", fd);
	if (fd < 0)
		return 1;
	test_link_state();
	CHECK((ret = tun_add_address(TUN, &v4)) == 0, "add v4: %d", ret);
	CHECK((ret = tun_add_address(TUN, &v4)) == 0, "add v4 again (EEXIST is fine): %d", ret);
	CHECK((ret = tun_add_address(TUN, &v6)) == 0, "add v6: %d", ret);
	CHECK((ret = tun_add_route(TUN, &r4)) == 0, "route v4: %d", ret);
	CHECK((ret = tun_add_route(TUN, &r4)) == 0, "route v4 again: %d", ret);
	CHECK((ret = tun_add_route(TUN, &r6)) == 0, "route v6: %d", ret);
	CHECK(strstr(sh_out("ip -o -6 addr show dev " TUN), "fd7a:115c:a1e0::5/128") != NULL, "v6 address listed");
	CHECK(!strstr(sh_out("ip -o -6 addr show dev " TUN), "tentative"), "v6 address not tentative");
	CHECK(strstr(sh_out("ip route show dev " TUN), "100.64.0.0/10") != NULL, "v4 route listed");
	test_ping4(fd);
	test_ping6(fd);
	CHECK((ret = tun_del_route(TUN, &r4)) == 0, "del v4 route: %d", ret);
	CHECK(tun_del_route(TUN, &r4) < 0, "deleting twice fails");
	CHECK(!strstr(sh_out("ip route show dev " TUN), "100.64.0.0/10"), "v4 route gone");
	CHECK((ret = tun_del_route(TUN, &r6)) == 0, "del v6 route: %d", ret);
	tun_close(fd, TUN);
	CHECK(if_nametoindex(TUN) == 0, "device gone after close");
	CHECK(tun_add_route(TUN, &r4) == -ENODEV, "no device, no route");
	ns_cleanup();
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("PASS test_tun\n");
	return 0;
}
