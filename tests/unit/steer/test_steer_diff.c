// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_steer_diff.c - the two NIC backends steer alike. Every frame of the table goes, under each
 * configuration, through
 *   (a) the compiled XDP object (argv[1]) with BPF_PROG_TEST_RUN, its maps filled through the
 *       loader's own calls (io/xsk_prog.c); the verdict is the steer_stats counter that moved;
 *   (b) the DPDK backend's dpdk_steer_verdict(), from a device (listen port, SNAT, allowed IPs)
 *       and a netlink snapshot holding the same configuration, and dpdk_steer_frame() (what the
 *       DPDK rx path calls), whose counters and action must match that verdict as XDP's do;
 * and the verdicts must be equal, and equal to the table's expectation.
 *
 * (a) needs root (BPF_PROG_TEST_RUN): without it (b) is still checked against the table, then the
 * test exits 77. Frames shorter than an Ethernet header are checked on (b) only: the kernel's
 * test run refuses them (an XDP program never sees one).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "device.h"
#include "io/dpdk_steer.h"
#include "io/xsk_prog.h"
#include "netlink/nl_snapshot.h"
#include "netlink/nltables.h"
#include <linux/rtnetlink.h>
#include "frames.h"

#define NCONF 3

/* ---- the configurations ----------------------------------------------------------------- */

static const struct conf {
	const char *name;
	uint16_t port;
	bool nat, exit_routes;           /* exit_routes: a peer's 0.0.0.0/0 and ::/0 */
} confs[NCONF] = {
	{ "A: ListenPort 41641, SNAT on", 41641, true, false },
	{ "B: ListenPort 41641, SNAT off", 41641, false, false },
	{ "C: no listen port, SNAT on, exit-node routes", 0, true, true },
};

/* The router's addresses on the NIC (10.99.0.1 also lies inside a tunnel route: local wins). */
static const char *const locals[] = { "192.168.8.105", "10.99.0.1", "2001:db8:8::105", "fe80::105" };

/* The tunnel routes (the peers' allowed IPs). */
static const struct route {
	const char *addr;
	uint8_t cidr;
	bool exit;
} routes[] = {
	{ "100.64.0.2", 32, false }, { "100.64.0.3", 32, false }, { "10.99.0.0", 16, false },
	{ "fd7a:115c:a1e0::2", 128, false }, { "2001:db8:99::", 48, false },
	{ "0.0.0.0", 0, true }, { "::", 0, true },
};

/* ---- the frames ---------------------------------------------------------------------------
 * expect: one letter per configuration A, B, C: W(ireGuard) R(oute) N(AT) P(ass to the kernel),
 * F (first fragment to the listen port: dropped), L (later fragment to us: kernel, counted). */

#define ME4 "192.168.8.105"
#define ME6 "2001:db8:8::105"
#define LAN4 "192.168.8.80"
#define NET4 "198.51.100.2"
#define NET6 "2001:db8:1::2"

static const struct tcase {
	const char *name;
	struct frame_spec f;
	const char *expect;
} cases[] = {
	{ "WireGuard data to our port", { F_IP, NET4, ME4, 17, 41641, 41641, .wg_type = 4, .payload = 32 }, "WWP" },
	{ "WireGuard handshake initiation", { F_IP, NET4, ME4, 17, 41641, 41641, .wg_type = 1, .payload = 148 }, "WWP" },
	{ "WireGuard cookie reply", { F_IP, NET4, ME4, 17, 3333, 41641, .wg_type = 3, .payload = 64 }, "WWP" },
	{ "UDP to another port of ours (DNS)", { F_IP, LAN4, ME4, 17, 5353, 53, .payload = 20 }, "PPP" },
	{ "UDP to port 0 of ours", { F_IP, LAN4, ME4, 17, 5353, 0, .payload = 4 }, "PPP" },
	{ "UDP from our port, to another", { F_IP, NET4, ME4, 17, 41641, 41642, .payload = 4 }, "PPP" },
	{ "UDP reply to NAT port 61000", { F_IP, LAN4, ME4, 17, 53, 61000, .payload = 20 }, "NPN" },
	{ "UDP reply to NAT port 65535", { F_IP, LAN4, ME4, 17, 53, 65535, .payload = 20 }, "NPN" },
	{ "UDP reply to port 60999", { F_IP, LAN4, ME4, 17, 53, 60999, .payload = 20 }, "PPP" },
	{ "TCP to our SSH port", { F_IP, LAN4, ME4, 6, 50000, 22 }, "PPP" },
	{ "TCP reply to NAT port 62000", { F_IP, LAN4, ME4, 6, 80, 62000 }, "NPN" },
	{ "TCP to NAT port, source port 41641", { F_IP, NET4, ME4, 6, 41641, 61001 }, "NPN" },
	{ "TCP to our listen port", { F_IP, NET4, ME4, 6, 1234, 41641 }, "PPP" },
	{ "ICMP echo reply, NAT identifier", { F_IP, LAN4, ME4, 1, 0, 61005, .payload = 8 }, "NPN" },
	{ "ICMP echo request, NAT identifier", { F_IP, LAN4, ME4, 1, 8, 61005, .payload = 8 }, "PPP" },
	{ "ICMP echo reply, other identifier", { F_IP, LAN4, ME4, 1, 0, 1000, .payload = 8 }, "PPP" },
	{ "ICMP unreachable to us", { F_IP, LAN4, ME4, 1, 3, 61005, .payload = 28 }, "PPP" },
	{ "GRE to us", { F_IP, LAN4, ME4, 47, 0, 61005, .payload = 8 }, "PPP" },
	{ "IPv4 proto 58, type 0, NAT id (read as ICMPv6)", { F_IP, LAN4, ME4, 58, 0, 61005 }, "NPN" },
	{ "TCP from the LAN to a peer", { F_IP, LAN4, "100.64.0.2", 6, 50000, 22 }, "RRR" },
	{ "UDP from the LAN to a routed /16", { F_IP, LAN4, "10.99.3.4", 17, 5000, 41641, .payload = 8 }, "RRR" },
	{ "UDP to our address inside a route", { F_IP, LAN4, "10.99.0.1", 17, 5000, 41641, .payload = 8 }, "WWP" },
	{ "TCP to our address inside a route", { F_IP, LAN4, "10.99.0.1", 6, 5000, 22 }, "PPP" },
	{ "TCP to an unrouted LAN host", { F_IP, LAN4, "192.168.8.81", 6, 50000, 22 }, "PPR" },
	{ "UDP to the LAN broadcast", { F_IP, LAN4, "192.168.8.255", 17, 68, 67, .payload = 8 }, "PPP" },
	{ "UDP to 255.255.255.255", { F_IP, "0.0.0.0", "255.255.255.255", 17, 68, 67, .payload = 8 }, "PPP" },
	{ "WireGuard port to 255.255.255.255", { F_IP, LAN4, "255.255.255.255", 17, 41641, 41641, .payload = 32 }, "PPP" },
	{ "mDNS to 224.0.0.251", { F_IP, LAN4, "224.0.0.251", 17, 5353, 5353, .payload = 20 }, "PPP" },
	{ "SSDP to 239.255.255.250", { F_IP, LAN4, "239.255.255.250", 17, 1900, 1900, .payload = 20 }, "PPP" },
	{ "reserved 240.0.0.1", { F_IP, LAN4, "240.0.0.1", 6, 1, 2 }, "PPP" },
	{ "link-local 169.254.7.7", { F_IP, "169.254.1.1", "169.254.7.7", 17, 1, 2, .payload = 8 }, "PPP" },
	{ "169.255.0.1 (not link-local)", { F_IP, LAN4, "169.255.0.1", 6, 1, 2 }, "PPR" },
	{ "223.255.255.255 (unicast range)", { F_IP, LAN4, "223.255.255.255", 6, 1, 2 }, "PPR" },
	{ "our /24's broadcast inside a route", { F_IP, LAN4, "10.99.0.255", 17, 1, 2, .payload = 8 }, "PPP" },
	{ "another /24's broadcast inside a route", { F_IP, LAN4, "10.99.1.255", 17, 1, 2, .payload = 8 }, "RRR" },
	{ "WireGuard to a removed address", { F_IP, NET4, "192.168.8.106", 17, 41641, 41641, .wg_type = 4, .payload = 32 }, "PPR" },
	{ "routed fragment (MF)", { F_IP, LAN4, "100.64.0.3", 17, 5000, 53, .frag = 0x2000, .payload = 8 }, "RRR" },
	{ "our port, first fragment (MF)", { F_IP, NET4, ME4, 17, 41641, 41641, .frag = 0x2000, .wg_type = 4, .payload = 32 }, "FFP" },
	{ "our port, first fragment, DF and MF", { F_IP, NET4, ME4, 17, 41641, 41641, .frag = 0x6000, .payload = 32 }, "FFP" },
	{ "our port, first fragment, UDP header cut", { F_IP, NET4, ME4, 17, 41641, 41641, .frag = 0x2000, .payload = 32, .cut = 41 }, "PPP" },
	{ "another port of ours, first fragment", { F_IP, NET4, ME4, 17, 41641, 53, .frag = 0x2000, .payload = 32 }, "PPP" },
	{ "TCP to our port number, first fragment", { F_IP, NET4, ME4, 6, 41641, 41641, .frag = 0x2000 }, "PPP" },
	{ "our port, later fragment", { F_IP, NET4, ME4, 17, 41641, 41641, .frag = 0x0010, .wg_type = 4, .payload = 32 }, "LLL" },
	{ "our port, last fragment (offset, no MF)", { F_IP, NET4, ME4, 17, 41641, 41641, .frag = 0x00b9, .payload = 32 }, "LLL" },
	{ "NAT port, later fragment", { F_IP, LAN4, ME4, 17, 53, 61000, .frag = 0x0001, .payload = 8 }, "LLL" },
	{ "ICMP later fragment to us", { F_IP, LAN4, ME4, 1, 0, 0, .frag = 0x20b9, .payload = 8 }, "LLL" },
	{ "our port, DF set", { F_IP, NET4, ME4, 17, 41641, 41641, .frag = 0x4000, .wg_type = 4, .payload = 32 }, "WWP" },
	{ "our port, IPv4 options (IHL 6)", { F_IP, NET4, ME4, 17, 41641, 41641, .ihl = 6, .wg_type = 4, .payload = 32 }, "WWP" },
	{ "NAT port, IPv4 options (IHL 15)", { F_IP, LAN4, ME4, 6, 80, 61000, .ihl = 15 }, "NPN" },
	{ "IHL 4 to our port", { F_IP, NET4, ME4, 17, 41641, 41641, .ihl = 4, .payload = 32 }, "PPP" },
	{ "IHL 4 to a peer", { F_IP, LAN4, "100.64.0.2", 17, 41641, 41641, .ihl = 4, .payload = 32 }, "PPP" },
	{ "IHL 15 past the frame, to a peer", { F_IP, LAN4, "100.64.0.2", 6, 1, 2, .ihl = 15, .cut = 34 }, "RRR" },
	{ "IHL 15 past the frame, to our port", { F_IP, NET4, ME4, 17, 41641, 41641, .ihl = 15, .cut = 40 }, "PPP" },
	{ "UDP header cut at 7 bytes, our port", { F_IP, NET4, ME4, 17, 41641, 41641, .payload = 32, .cut = 41 }, "PPP" },
	{ "UDP header of exactly 8 bytes, our port", { F_IP, NET4, ME4, 17, 41641, 41641, .payload = 32, .cut = 42 }, "WWP" },
	{ "IPv4 header cut at 19 bytes, to a peer", { F_IP, LAN4, "100.64.0.2", 6, 1, 2, .cut = 33 }, "PPP" },
	{ "Ethernet header only (IPv4 type)", { F_IP, LAN4, "100.64.0.2", 6, 1, 2, .cut = 14 }, "PPP" },
	{ "13 bytes (C only)", { F_IP, LAN4, "100.64.0.2", 6, 1, 2, .cut = 13 }, "PPP" },
	{ "1 byte (C only)", { F_IP, LAN4, "100.64.0.2", 6, 1, 2, .cut = 1 }, "PPP" },
	{ "ARP request for us", { F_ARP }, "PPP" },
	{ "ARP cut to 20 bytes", { F_ARP, .cut = 20 }, "PPP" },
	{ "VLAN-tagged WireGuard to our port", { F_VLAN, NET4, ME4, 17, 41641, 41641, .wg_type = 4, .payload = 32 }, "PPP" },
	{ "VLAN-tagged TCP to a peer", { F_VLAN, LAN4, "100.64.0.2", 6, 1, 2 }, "PPP" },
	{ "IPv6 WireGuard data to our port", { F_IP, NET6, ME6, 17, 41641, 41641, .wg_type = 4, .payload = 32 }, "WWP" },
	{ "IPv6 WireGuard to our link-local", { F_IP, "fe80::80", "fe80::105", 17, 41641, 41641, .wg_type = 1, .payload = 148 }, "WWP" },
	{ "IPv6 UDP to another port", { F_IP, NET6, ME6, 17, 41641, 443, .payload = 8 }, "PPP" },
	{ "IPv6 UDP to NAT port", { F_IP, NET6, ME6, 17, 53, 64000, .payload = 8 }, "NPN" },
	{ "IPv6 TCP to NAT port", { F_IP, NET6, ME6, 6, 443, 61000 }, "NPN" },
	{ "ICMPv6 echo reply, NAT identifier", { F_IP, NET6, ME6, 58, 129, 61000, .payload = 8 }, "NPN" },
	{ "ICMPv6 echo reply, other identifier", { F_IP, NET6, ME6, 58, 129, 100, .payload = 8 }, "PPP" },
	{ "ICMPv6 echo request, NAT identifier", { F_IP, NET6, ME6, 58, 128, 61000, .payload = 8 }, "PPP" },
	{ "IPv6 proto 1, type 129, NAT id (read as ICMP)", { F_IP, NET6, ME6, 1, 129, 61000 }, "NPN" },
	{ "ND neighbour solicitation (multicast)", { F_IP, "fe80::80", "ff02::1:ff00:105", 58, 135, 0, .payload = 16 }, "PPP" },
	{ "ND neighbour advertisement to link-local", { F_IP, "fe80::105", "fe80::80", 58, 136, 0, .payload = 16 }, "PPP" },
	{ "MLD report to ff02::16", { F_IP, "fe80::80", "ff02::16", 58, 143, 0, .payload = 16 }, "PPP" },
	{ "link-local fe80::/10 upper half (febf::)", { F_IP, "fe80::80", "febf::1", 6, 1, 2 }, "PPP" },
	{ "site-local fec0:: (not link-local)", { F_IP, "fe80::80", "fec0::1", 6, 1, 2 }, "PPR" },
	{ "IPv6 TCP to a peer", { F_IP, "2001:db8:8::80", "fd7a:115c:a1e0::2", 6, 50000, 22 }, "RRR" },
	{ "IPv6 UDP into a routed /48", { F_IP, "2001:db8:8::80", "2001:db8:99:5::1", 17, 1, 2, .payload = 8 }, "RRR" },
	{ "IPv6 to an unrouted host", { F_IP, "2001:db8:8::80", "2001:db8:7::1", 6, 1, 2 }, "PPR" },
	{ "IPv6 hop-by-hop, then UDP to our port", { F_IP, NET6, ME6, F_EXT_HOPOPTS, 41641, 41641, .payload = 32 }, "PPP" },
	{ "IPv6 first fragment, UDP to our port", { F_IP, NET6, ME6, F_EXT_FRAG, 41641, 41641, .wg_type = 4, .payload = 32 }, "FFP" },
	{ "IPv6 first fragment, UDP to our link-local", { F_IP, "fe80::80", "fe80::105", F_EXT_FRAG, 41641, 41641, .payload = 32 }, "FFP" },
	{ "IPv6 atomic fragment (no M), our port", { F_IP, NET6, ME6, F_EXT_FRAG, 41641, 41641, .frag = 0x0006, .payload = 32 }, "FFP" },
	{ "IPv6 first fragment, another port of ours", { F_IP, NET6, ME6, F_EXT_FRAG, 41641, 53, .payload = 32 }, "PPP" },
	{ "IPv6 first fragment, UDP header cut", { F_IP, NET6, ME6, F_EXT_FRAG, 41641, 41641, .payload = 32, .cut = 69 }, "PPP" },
	{ "IPv6 Fragment header cut at 7 bytes", { F_IP, NET6, ME6, F_EXT_FRAG, 41641, 41641, .frag = 0x0009, .payload = 32, .cut = 61 }, "PPP" },
	{ "IPv6 later fragment, our port", { F_IP, NET6, ME6, F_EXT_FRAG, 41641, 41641, .frag = 0x05a9, .payload = 32 }, "LLL" },
	{ "IPv6 last fragment (offset, no M)", { F_IP, NET6, ME6, F_EXT_FRAG, 41641, 53, .frag = 0x05a8, .payload = 32 }, "LLL" },
	{ "IPv6 dest options, first fragment, our port", { F_IP, NET6, ME6, F_EXT_DSTOPTS_FRAG, 41641, 41641, .wg_type = 4, .payload = 32 }, "FFP" },
	{ "IPv6 dest options, later fragment", { F_IP, NET6, ME6, F_EXT_DSTOPTS_FRAG, 41641, 41641, .frag = 0x05a9, .payload = 32 }, "LLL" },
	{ "IPv6 hop-by-hop + dest options, later fragment", { F_IP, NET6, ME6, F_EXT_HOP_DST_FRAG, 1, 2, .frag = 0x00b8, .payload = 32 }, "LLL" },
	{ "IPv6 hop-by-hop + dest options, first fragment, other port", { F_IP, NET6, ME6, F_EXT_HOP_DST_FRAG, 41641, 53, .payload = 32 }, "PPP" },
	{ "IPv6 four option headers, later fragment", { F_IP, NET6, ME6, F_EXT_FOUR_FRAG, 1, 2, .frag = 0x00b8, .payload = 32 }, "LLL" },
	{ "IPv6 dest options cut short, fragment behind", { F_IP, NET6, ME6, F_EXT_DSTOPTS_FRAG, 41641, 41641, .payload = 32, .cut = 60 }, "PPP" },
	{ "IPv6 dest options, fragment to a peer", { F_IP, "2001:db8:8::80", "fd7a:115c:a1e0::2", F_EXT_DSTOPTS_FRAG, 1, 2, .frag = 0x00b9, .payload = 8 }, "RRR" },
	{ "IPv6 fragment to a peer", { F_IP, "2001:db8:8::80", "fd7a:115c:a1e0::2", F_EXT_FRAG, 1, 2, .payload = 8 }, "RRR" },
	{ "IPv6 later fragment to a peer", { F_IP, "2001:db8:8::80", "fd7a:115c:a1e0::2", F_EXT_FRAG, 1, 2, .frag = 0x00b9, .payload = 8 }, "RRR" },
	{ "IPv6 later fragment to a multicast group", { F_IP, "fe80::80", "ff02::1", F_EXT_FRAG, 1, 2, .frag = 0x00b9, .payload = 8 }, "PPP" },
	{ "IPv6 header cut at 39 bytes, to a peer", { F_IP, "2001:db8:8::80", "fd7a:115c:a1e0::2", 6, 1, 2, .cut = 53 }, "PPP" },
	{ "IPv6 header only, to a peer", { F_IP, "2001:db8:8::80", "fd7a:115c:a1e0::2", 6, 1, 2, .cut = 54 }, "RRR" },
	{ "IPv6 UDP header cut at 7 bytes, our port", { F_IP, NET6, ME6, 17, 41641, 41641, .payload = 8, .cut = 61 }, "PPP" },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const char verdict_letter[STEER_NVERDICTS] = { [STEER_WG] = 'W', [STEER_ROUTE] = 'R',
						      [STEER_PASS] = 'P', [STEER_NAT] = 'N',
						      [STEER_FRAG_FIRST] = 'F', [STEER_FRAG_LATER] = 'L' };

static int failures;

static int pton_any(const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	if (inet_pton(AF_INET6, s, out) == 1)
		return AF_INET6;
	fprintf(stderr, "bad address %s\n", s);
	exit(1);
}

/* ---- (b) the DPDK side: a device and a netlink snapshot ------------------------------------ */

struct dpdk_side {
	struct mg_device *dev;
	struct nl_snapshot *snap;          /* only the address list: all nl_snapshot_is_local reads */
};

static int peer_token;                     /* allowed IPs map prefixes to an opaque peer */

static void dpdk_side_init(struct dpdk_side *d, const struct conf *c)
{
	uint8_t a[16];
	int family;

	memset(d, 0, sizeof(*d));
	d->dev = calloc(1, sizeof(*d->dev));
	if (!d->dev)
		exit(1);
	d->dev->snat = c->nat;
	atomic_store(&d->dev->listen_port, c->port);
	allowedips_init(&d->dev->allowedips);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (routes[i].exit && !c->exit_routes)
			continue;
		family = pton_any(routes[i].addr, a);
		if (allowedips_insert(&d->dev->allowedips, family, a, routes[i].cidr, &peer_token))
			exit(1);
	}
	/* The snapshot as the kernel mirror builds it, from tables holding only the addresses. */
	struct nltables t;

	nltables_init(&t, 1);
	t.present = true;
	for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		struct nl_addr_ent e = { .scope = RT_SCOPE_UNIVERSE };

		e.family = (uint8_t)pton_any(locals[i], e.addr);
		e.prefixlen = e.family == AF_INET ? 24 : 64;
		if (nltables_addr_upsert(&t, &e) < 0)
			exit(1);
	}
	d->snap = nl_snapshot_build(&t);
	nltables_free(&t);
	if (!d->snap)
		exit(1);
}

static void dpdk_side_uninit(struct dpdk_side *d)
{
	allowedips_uninit(&d->dev->allowedips);
	nl_snapshot_free(d->snap);
	free(d->dev);
}

/* ---- (a) the XDP side: the object, its maps filled by the loader's calls -------------------- */

struct xdp_side {
	struct bpf_object *obj;
	int prog_fd;
	struct steer_prog sp;              /* only the map fds: nothing is attached */
};

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	return m ? bpf_map__fd(m) : -1;
}

/* The loader's keys for locals: each address, and for the IPv4 ones (/24, as on the DPDK side)
 * the subnet broadcast. */
static int local_set(struct xdp_side *x)
{
	struct steer_local k[2 * sizeof(locals) / sizeof(locals[0])];
	size_t n = 0;
	uint8_t a[16];

	for (size_t i = 0; i < sizeof(locals) / sizeof(locals[0]); i++) {
		int family = pton_any(locals[i], a);

		k[n] = (struct steer_local){ .family = family == AF_INET ? STEER_FAMILY_V4 : STEER_FAMILY_V6 };
		memcpy(k[n++].addr, a, family == AF_INET ? 4 : 16);
		if (family != AF_INET)
			continue;
		a[3] = 255;
		k[n] = (struct steer_local){ .family = STEER_FAMILY_BCAST4 };
		memcpy(k[n++].addr, a, 4);
	}
	return steer_prog_local_set(&x->sp, k, n);
}

static int xdp_side_maps(struct xdp_side *x, const struct conf *c)
{
	uint8_t a[16];
	int family;

	if (steer_prog_set_port(&x->sp, c->port) || steer_prog_set_nat(&x->sp, c->nat))
		return -1;
	/* 192.168.8.106 was ours and is gone: local_set must take it out of the map. */
	if (steer_prog_local(&x->sp, AF_INET, (const uint8_t *)"\xc0\xa8\x08\x6a", true) ||
	    local_set(x))
		return -1;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (routes[i].exit && !c->exit_routes)
			continue;
		family = pton_any(routes[i].addr, a);
		if (steer_prog_route(&x->sp, family, a, routes[i].cidr, true))
			return -1;
	}
	return 0;
}

/* 0, or -errno from opening/loading (the caller decides between skip and failure). */
static int xdp_side_init(struct xdp_side *x, const char *path, const struct conf *c)
{
	struct bpf_program *prog;
	int ret;

	memset(x, 0, sizeof(*x));
	x->obj = bpf_object__open_file(path, NULL);
	if (!x->obj)
		return -errno;
	ret = bpf_object__load(x->obj);
	prog = bpf_object__find_program_by_name(x->obj, "xdp_steer");
	if (ret || !prog) {
		bpf_object__close(x->obj);
		return ret ? ret : -ENOENT;
	}
	x->prog_fd = bpf_program__fd(prog);
	x->sp.xsks_fd = map_fd(x->obj, "xsks_map");
	x->sp.cfg_fd = map_fd(x->obj, "steer_cfg");
	x->sp.local_fd = map_fd(x->obj, "steer_local");
	x->sp.routes4_fd = map_fd(x->obj, "steer_routes4");
	x->sp.routes6_fd = map_fd(x->obj, "steer_routes6");
	x->sp.stats_fd = map_fd(x->obj, "steer_stats");
	if (x->sp.cfg_fd < 0 || x->sp.local_fd < 0 || x->sp.routes4_fd < 0 || x->sp.routes6_fd < 0 ||
	    x->sp.stats_fd < 0 || xdp_side_maps(x, c)) {
		fprintf(stderr, "FAIL: the object's maps are missing or refuse the configuration\n");
		bpf_object__close(x->obj);
		return -EINVAL;
	}
	return 0;
}

/*
 * One frame through the program: the verdict is the one verdict counter that moved by one. No
 * AF_XDP socket is bound, so a worker verdict must also move the no-socket counter by one and
 * come back as XDP_PASS (bpf_redirect_map's fallback: a queue without a worker never blackholes);
 * a first fragment to the listen port comes back as XDP_DROP, everything else as XDP_PASS.
 * -1 on any inconsistency.
 */
static int xdp_verdict(struct xdp_side *x, const uint8_t *frame, uint32_t len)
{
	uint64_t before[STEER_NSTATS], after[STEER_NSTATS];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .repeat = 1);
	int verdict = -1;
	bool to_worker;

	if (steer_prog_stats(&x->sp, before) || bpf_prog_test_run_opts(x->prog_fd, &o) ||
	    steer_prog_stats(&x->sp, after)) {
		fprintf(stderr, "  test run failed: %s\n", strerror(errno));
		return -1;
	}
	for (int k = 0; k < STEER_NVERDICTS; k++) {
		if (after[k] == before[k])
			continue;
		if (verdict >= 0 || after[k] != before[k] + 1)
			return -1;
		verdict = k;
	}
	to_worker = verdict == STEER_WG || verdict == STEER_ROUTE || verdict == STEER_NAT;
	if (after[STEER_ST_NOSOCK] != before[STEER_ST_NOSOCK] + to_worker) {
		fprintf(stderr, "  no-socket counter moved by %lu for verdict %d\n",
			after[STEER_ST_NOSOCK] - before[STEER_ST_NOSOCK], verdict);
		return -1;
	}
	if (o.retval != (verdict == STEER_FRAG_FIRST ? XDP_DROP : XDP_PASS)) {
		fprintf(stderr, "  XDP action %u for verdict %d without a bound socket\n", o.retval, verdict);
		return -1;
	}
	return verdict;
}

/* ---- the comparison --------------------------------------------------------------------------- */

static char letter(int v)
{
	return v >= 0 && v < STEER_NVERDICTS ? verdict_letter[v] : '?';
}

/*
 * The DPDK backend's handling of one frame (dpdk_steer_frame, what io/dpdk.c's rx calls): exactly
 * the verdict's counter moved by one (so fragments are counted as the XDP program counts them),
 * and the frame goes where XDP sends it: a worker verdict to the worker, a first fragment to the
 * listen port dropped, everything else to the kernel. Returns the verdict, or -1.
 */
static int dpdk_counted(struct dpdk_side *d, const uint8_t *frame, uint32_t len)
{
	uint64_t st[STEER_NSTATS] = { 0 };
	enum dpdk_steer_action a = dpdk_steer_frame(d->dev, d->snap, frame, len, st), want;
	int v = -1;

	for (int k = 0; k < STEER_NSTATS; k++) {
		if (!st[k])
			continue;
		if (v >= 0 || st[k] != 1)
			return -1;
		v = k;
	}
	if (v < 0 || v >= STEER_NVERDICTS)
		return -1;
	want = v == STEER_WG || v == STEER_ROUTE || v == STEER_NAT ? DPDK_STEER_WORKER :
	       v == STEER_FRAG_FIRST ? DPDK_STEER_DROP : DPDK_STEER_KERNEL;
	if (a != want) {
		fprintf(stderr, "  dpdk action %d for verdict %d\n", a, v);
		return -1;
	}
	return v;
}

/* Runs every frame under configuration ci; x is NULL when only the C side can run. Returns the
 * number of XDP-vs-C comparisons made. */
static unsigned run_conf(unsigned ci, struct xdp_side *x)
{
	const struct conf *c = &confs[ci];
	static uint8_t frame[FRAME_MAX];
	struct dpdk_side d;
	unsigned compared = 0;

	dpdk_side_init(&d, c);
	for (unsigned i = 0; i < NCASES; i++) {
		uint32_t len = frame_build(&cases[i].f, frame);
		int cv = dpdk_steer_verdict(d.dev, d.snap, frame, len);
		int dv = dpdk_counted(&d, frame, len);
		int xv = x && len >= 14 ? xdp_verdict(x, frame, len) : cv;
		char want = cases[i].expect[ci];

		compared += x && len >= 14;
		if (xv != cv || dv != cv || letter(cv) != want) {
			fprintf(stderr, "FAIL %s, case %u (%s, %u bytes): xdp %c, dpdk %c (counted and sent: %c), "
				"expected %c\n", c->name, i + 1, cases[i].name, len,
				x && len >= 14 ? letter(xv) : '-', letter(cv), letter(dv), want);
			failures++;
		}
	}
	dpdk_side_uninit(&d);
	return compared;
}

int main(int argc, char **argv)
{
	const char *skip = geteuid() ? "not root" : NULL;
	unsigned compared = 0, c_only = 0;
	struct xdp_side x;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s xdp_steer.bpf.o\n", argv[0]);
		return 1;
	}
	libbpf_set_print(NULL);
	for (unsigned ci = 0; ci < NCONF; ci++) {
		ret = skip ? 0 : xdp_side_init(&x, argv[1], &confs[ci]);
		if (ret == -EPERM)
			skip = "root without the right to load BPF programs (EPERM)";
		else if (ret) {
			fprintf(stderr, "FAIL: loading %s: %s\n", argv[1], strerror(-ret));
			return 1;
		}
		compared += run_conf(ci, skip ? NULL : &x);
		c_only += NCASES;
		if (!skip)
			bpf_object__close(x.obj);
	}
	c_only -= compared;
	printf("steer: %zu frames x %u configurations: %u verdicts compared XDP vs DPDK, %u checked on "
	       "the DPDK side only, %d mismatches\n", NCASES, NCONF, compared, c_only, failures);
	if (failures)
		return 1;
	if (skip) {
		printf("SKIP: %s, so no BPF_PROG_TEST_RUN: only the DPDK side was checked\n", skip);
		return 77;
	}
	return 0;
}
