// SPDX-License-Identifier: GPL-2.0-only
/*
 * doctor_nic.c - `meshgate doctor`'s checks of the configured Device (Backend = xdp): the driver
 * and its XDP modes and zero-copy support, RX channels against Queues, offloads that break XDP or
 * hand it partial checksums, MTU against XDP's frame limit and the tunnel MTU, and where the
 * queues' interrupts land.
 *
 * Sources: the ethtool ioctls (SIOCETHTOOL, what `ethtool -i/-l/-k` print), the "netdev" generic
 * netlink family for the XDP features the driver declares (Linux 6.3+; older kernels fall back to
 * a list of drivers), /proc/interrupts and /proc/irq. All read-only, in the caller's netns.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/genetlink.h>
#include <linux/sockios.h>
#include <libmnl/libmnl.h>
#include "doctor_nic.h"

/* linux/netdev.h (uapi, Linux 6.3) is newer than Debian 12's headers: the values we read. */
#define NETDEV_CMD_DEV_GET_ 1
#define NETDEV_A_DEV_IFINDEX_ 1
#define NETDEV_A_DEV_XDP_FEATURES_ 3
#define NETDEV_XDP_ACT_BASIC_ (1u << 0)
#define NETDEV_XDP_ACT_REDIRECT_ (1u << 1)
#define NETDEV_XDP_ACT_XSK_ZEROCOPY_ (1u << 3)

/* XDP without multi-buffer: Ethernet frame, XDP_PACKET_HEADROOM (256) and skb_shared_info (320)
 * share one 4 KiB page; the kernel's own limit for native XDP on veth, 4096 - 256 - 320 - 14. */
#define XDP_MAX_MTU 3506u
/* Outer IPv6 + UDP + WireGuard data header and tag, as meshgate's start-up MTU check counts. */
#define WG_OVERHEAD_V6 (40u + 8u + 32u)

struct nic {
	const char *name;
	unsigned ifindex;
	char driver[32];
	int fd;                         /* AF_INET datagram socket for the ioctls */
	bool features_known;
	uint64_t xdp_features;
};

static int ethtool(const struct nic *n, void *cmd)
{
	struct ifreq ifr = { .ifr_data = cmd };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->name);
	return ioctl(n->fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

/* ---- the netdev genl family: one DEV_GET --------------------------------------------------- */

static int genl_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	unsigned type = mnl_attr_get_type(a);

	if (type < 8)
		tb[type] = a;
	return MNL_CB_OK;
}

static int genl_reply_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr **tb = data;

	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), genl_attr_cb, tb);
}

/* One request to generic netlink; @tb (8 slots) gets the reply's attributes. -errno on failure. */
static int genl_call(struct mnl_socket *nl, uint16_t family, uint8_t cmd, uint16_t attr, const void *val,
		     size_t len, bool str, char *buf, size_t buflen, const struct nlattr **tb)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;
	unsigned seq = 1;
	ssize_t n;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	if (str)
		mnl_attr_put_strz(nlh, attr, val);
	else
		mnl_attr_put(nlh, attr, len, val);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, buf, buflen);
	if (n < 0)
		return -errno;
	return mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), genl_reply_cb, tb) < 0 ? -errno : 0;
}

static void nic_xdp_features(struct nic *n)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	const struct nlattr *tb[8] = { 0 };
	struct mnl_socket *nl = mnl_socket_open(NETLINK_GENERIC);
	uint32_t ifindex = n->ifindex;
	uint16_t family;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID))
		goto out;
	if (genl_call(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME, "netdev", 0, true,
		      buf, sizeof(buf), tb) || !tb[CTRL_ATTR_FAMILY_ID])
		goto out;
	family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	memset(tb, 0, sizeof(tb));
	if (genl_call(nl, family, NETDEV_CMD_DEV_GET_, NETDEV_A_DEV_IFINDEX_, &ifindex, sizeof(ifindex), false,
		      buf, sizeof(buf), tb) || !tb[NETDEV_A_DEV_XDP_FEATURES_])
		goto out;
	n->xdp_features = mnl_attr_get_u64(tb[NETDEV_A_DEV_XDP_FEATURES_]);
	n->features_known = true;
out:
	if (nl)
		mnl_socket_close(nl);
}

/* Before Linux 6.3 drivers did not declare XDP features: the mainline drivers known to have
 * native XDP, and those with AF_XDP zero-copy. */
static bool driver_in(const char *driver, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(driver, *list))
			return true;
	return false;
}

static void nic_features_fallback(struct nic *n)
{
	static const char *const native[] = { "veth", "virtio_net", "tun", "i40e", "ice", "ixgbe", "igb", "igc",
					      "mlx4_en", "mlx5_core", "bnxt_en", "ena", "qede", "nfp", "stmmac",
					      "gve", "hv_netvsc", "vmxnet3", "tsnep", NULL };
	static const char *const zc[] = { "i40e", "ice", "ixgbe", "igc", "mlx5_core", "stmmac", "gve", NULL };

	n->xdp_features = driver_in(n->driver, native) ? NETDEV_XDP_ACT_BASIC_ | NETDEV_XDP_ACT_REDIRECT_ : 0;
	if (driver_in(n->driver, zc))
		n->xdp_features |= NETDEV_XDP_ACT_XSK_ZEROCOPY_;
}

/* ---- the checks ---------------------------------------------------------------------------- */

static void check_driver(struct doctor *d, struct nic *n)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	const char *src;

	if (!ethtool(n, &info))
		snprintf(n->driver, sizeof(n->driver), "%s", info.driver);
	nic_xdp_features(n);
	if (!n->features_known)
		nic_features_fallback(n);
	src = n->features_known ? "netdev netlink" : "driver list";
	if (n->xdp_features & NETDEV_XDP_ACT_BASIC_)
		doctor_report(d, DOCTOR_OK, "xdp", NULL, "%s: driver %s, native XDP (%s)", n->name, n->driver, src);
	else
		doctor_report(d, DOCTOR_WARN, "xdp", "a NIC whose driver runs XDP natively: PCI passthrough, or virtio-net",
			      "%s: driver %s has no native XDP (%s): generic mode, every packet copied into an skb first",
			      n->name, n->driver[0] ? n->driver : "?", src);
	if (n->xdp_features & NETDEV_XDP_ACT_XSK_ZEROCOPY_)
		doctor_report(d, DOCTOR_OK, "zerocopy", NULL, "%s: AF_XDP zero-copy", n->name);
	else
		doctor_report(d, DOCTOR_WARN, "zerocopy", "pass through a NIC with AF_XDP zero-copy (i40e, ice, mlx5_core, ixgbe, igc) or use Backend = dpdk",
			      "%s: driver %s has no AF_XDP zero-copy: copy mode", n->name, n->driver);
}

static void check_channels(struct doctor *d, const struct nic *n, unsigned queues)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	unsigned have, max;
	char fix[128];
	int err = ethtool(n, &ch);

	if (err) {
		doctor_report(d, queues > 1 ? DOCTOR_WARN : DOCTOR_OK, "channels", "ethtool -l",
			      "%s: channel count not readable (%s); Queues = %u", n->name, strerror(-err), queues);
		return;
	}
	/* Queue i of the XDP program's socket map is RX queue i: combined channels, or RX-only ones. */
	have = ch.combined_count ? ch.combined_count : ch.rx_count;
	max = ch.max_combined ? ch.max_combined : ch.max_rx;
	if (queues > have) {
		if (queues <= max)
			snprintf(fix, sizeof(fix), "ethtool -L %s %s %u", n->name, ch.max_combined ? "combined" : "rx", queues);
		else
			snprintf(fix, sizeof(fix), "set Queues = %u (the most %s has)", have, n->name);
		doctor_report(d, DOCTOR_FAIL, "channels", fix, "Queues = %u but %s has %u RX channel(s) (max %u)",
			      queues, n->name, have, max);
	} else if (queues < have) {
		snprintf(fix, sizeof(fix), "ethtool -L %s %s %u, or set Queues = %u", n->name,
			 ch.combined_count ? "combined" : "rx", queues, have);
		doctor_report(d, DOCTOR_WARN, "channels", fix,
			      "Queues = %u but %s has %u RX channels: what RSS puts on the others goes to the kernel, not meshgate",
			      queues, n->name, have);
	} else {
		doctor_report(d, DOCTOR_OK, "channels", NULL, "Queues = %u = %s's RX channels", queues, n->name);
	}
}

static int ethtool_value(const struct nic *n, uint32_t cmd, uint32_t *out)
{
	struct ethtool_value v = { .cmd = cmd };
	int err = ethtool(n, &v);

	*out = v.data;
	return err;
}

static void check_offloads(struct doctor *d, const struct nic *n)
{
	uint32_t flags = 0, gro = 0, txcsum = 0;
	char fix[128];
	bool veth = !strcmp(n->driver, "veth");
	unsigned bad = 0;

	if (!ethtool_value(n, ETHTOOL_GFLAGS, &flags) && (flags & ETH_FLAG_LRO)) {
		snprintf(fix, sizeof(fix), "ethtool -K %s lro off", n->name);
		doctor_report(d, DOCTOR_FAIL, "offload", fix, "%s: LRO is on: merged frames exceed XDP's buffer and many drivers refuse XDP with it",
			      n->name);
		bad++;
	}
	/* GRO runs after a native XDP program but before a generic one; a veth's XDP path gets its
	 * peer's GSO super-packets while GRO is on. Either way frames larger than one page arrive. */
	if (!ethtool_value(n, ETHTOOL_GGRO, &gro) && gro && (veth || !(n->xdp_features & NETDEV_XDP_ACT_BASIC_))) {
		snprintf(fix, sizeof(fix), "ethtool -K %s gro off", n->name);
		doctor_report(d, DOCTOR_WARN, "offload", fix, "%s: GRO is on: %s", n->name,
			      veth ? "the veth hands XDP merged super-packets" :
				     "generic XDP sees merged super-packets");
		bad++;
	}
	/* A veth forwards a packet its peer's stack left CHECKSUM_PARTIAL as is; the worker completes
	 * such checksums on LAN ingress (meshgate_checksum_completed_total), so TX checksum offload
	 * needs no change: it is only named. */
	if (!bad)
		doctor_report(d, DOCTOR_OK, "offload", NULL, "%s: no LRO%s%s", n->name, gro ? ", GRO after native XDP" : ", no GRO",
			      veth && !ethtool_value(n, ETHTOOL_GTXCSUM, &txcsum) && txcsum ?
			      ", TX checksum offload on (partial checksums are completed)" : "");
}

static void check_mtu(struct doctor *d, const struct nic *n, unsigned tunnel_mtu)
{
	struct ifreq ifr = { 0 };
	unsigned mtu;
	char fix[128];

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", n->name);
	if (ioctl(n->fd, SIOCGIFMTU, &ifr)) {
		doctor_report(d, DOCTOR_WARN, "mtu", "ip link show", "%s: MTU not readable (%s)", n->name, strerror(errno));
		return;
	}
	mtu = (unsigned)ifr.ifr_mtu;
	if (mtu > XDP_MAX_MTU) {
		snprintf(fix, sizeof(fix), "ip link set dev %s mtu 1500", n->name);
		doctor_report(d, DOCTOR_FAIL, "mtu", fix, "%s: MTU %u is above XDP's single-buffer limit %u", n->name, mtu,
			      XDP_MAX_MTU);
	} else if (tunnel_mtu + WG_OVERHEAD_V6 > mtu) {
		snprintf(fix, sizeof(fix), "set MTU = %u, or ip link set dev %s mtu %u", mtu - WG_OVERHEAD_V6, n->name,
			 tunnel_mtu + WG_OVERHEAD_V6);
		doctor_report(d, DOCTOR_WARN, "mtu", fix, "%s: MTU %u is too small for tunnel MTU %u + %u: meshgate lowers the tunnel MTU to %u",
			      n->name, mtu, tunnel_mtu, WG_OVERHEAD_V6, mtu - WG_OVERHEAD_V6);
	} else {
		doctor_report(d, DOCTOR_OK, "mtu", NULL, "%s: MTU %u fits XDP (<= %u) and tunnel MTU %u + %u", n->name, mtu,
			      XDP_MAX_MTU, tunnel_mtu, WG_OVERHEAD_V6);
	}
}

/* The IRQs of @n from /proc/interrupts (their action names carry the interface or its PCI
 * address), each with the CPUs of /proc/irq/N/smp_affinity_list. */
static unsigned nic_irqs(const struct nic *n, unsigned irqs[64], char aff[64][64])
{
	char line[4096], bus[64] = "", path[64];
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	unsigned count = 0, irq;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!ethtool(n, &info))
		snprintf(bus, sizeof(bus), "%s", info.bus_info);
	while (f && count < 64 && fgets(line, sizeof(line), f)) {
		FILE *a;

		if (sscanf(line, " %u:", &irq) != 1 || !(strstr(line, n->name) || (bus[0] && strstr(line, bus))))
			continue;
		snprintf(path, sizeof(path), "/proc/irq/%u/smp_affinity_list", irq);
		a = fopen(path, "r");
		if (!a || !fgets(aff[count], 64, a))
			snprintf(aff[count], 64, "?");
		aff[count][strcspn(aff[count], "\n")] = '\0';
		if (a)
			fclose(a);
		irqs[count++] = irq;
	}
	if (f)
		fclose(f);
	return count;
}

/* meshgate's workers are not pinned: the scheduler spreads them. What hurts is every queue's
 * interrupt on one CPU, which serialises the softirq work of all queues there. */
static void check_irqs(struct doctor *d, const struct nic *n, unsigned queues)
{
	unsigned irqs[64], count;
	char aff[64][64], fix[160];
	bool same = true;

	count = nic_irqs(n, irqs, aff);
	if (!count) {
		doctor_report(d, DOCTOR_OK, "irq", NULL, "%s: no device interrupts (%s: a virtual device)", n->name,
			      n->driver);
		return;
	}
	for (unsigned i = 1; i < count; i++)
		same &= !strcmp(aff[i], aff[0]);
	if (queues > 1 && count > 1 && same && !strchr(aff[0], ',') && !strchr(aff[0], '-')) {
		snprintf(fix, sizeof(fix), "echo 1 > /proc/irq/%u/smp_affinity_list (one CPU per queue; or run irqbalance)",
			 irqs[1]);
		doctor_report(d, DOCTOR_WARN, "irq", fix, "%s: all %u interrupts on CPU %s while Queues = %u", n->name, count,
			      aff[0], queues);
	} else {
		doctor_report(d, DOCTOR_OK, "irq", NULL, "%s: %u interrupts, first on CPU(s) %s", n->name, count, aff[0]);
	}
}

void doctor_nic_checks(struct doctor *d, const struct mg_config *cfg)
{
	char fix[160];

	if (!cfg->n_devices) {
		snprintf(fix, sizeof(fix), "set Device = <NIC from `ip -br link`> in %.100s", cfg->path);
		doctor_report(d, DOCTOR_FAIL, "device", fix, "no Device in %s", cfg->path);
		return;
	}
	for (size_t i = 0; i < cfg->n_devices; i++) {
		struct nic n = { .name = cfg->devices[i], .ifindex = if_nametoindex(cfg->devices[i]) };

		if (!n.ifindex) {
			snprintf(fix, sizeof(fix), "ip -br link (and set Device in %.100s)", cfg->path);
			doctor_report(d, DOCTOR_FAIL, "device", fix, "Device %s: no such interface here", n.name);
			continue;
		}
		n.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (n.fd < 0) {
			doctor_report(d, DOCTOR_FAIL, "device", "", "socket: %s", strerror(errno));
			return;
		}
		check_driver(d, &n);
		check_channels(d, &n, cfg->queues ? cfg->queues : 1);
		check_offloads(d, &n);
		check_mtu(d, &n, cfg->mtu ? cfg->mtu : 1280);
		check_irqs(d, &n, cfg->queues ? cfg->queues : 1);
		close(n.fd);
	}
}
