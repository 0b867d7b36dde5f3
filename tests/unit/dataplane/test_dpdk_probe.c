// SPDX-License-Identifier: GPL-2.0-only
/*
 * test_dpdk_probe.c - every cause dpdk_probe_eal() names, each from a fake /proc and /sys tree
 * built in a temporary directory: hugepages (none, too few for -m, enough, --no-huge), the vdev's
 * kernel interface, the PCI device (absent, no driver with and without vfio-pci, a kernel driver,
 * vfio-pci without IOMMU groups, its VFIO group held by another process), capabilities; and the
 * kernel interface behind a port (vdev iface=, a PCI device's net/ entry).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/dpdk_probe.h"
#include "../conf/check.h"

static char root[256];

static void put(const char *rel, const char *fmt, ...)
{
	char path[512], *slash;
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (slash = strchr(path + strlen(root) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		*slash = 0;
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void dir(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s/x", root, rel);
	put(path + strlen(root), "");
	unlink(path);
}

static void link_to(const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s%s", root, rel);
	put(rel, "");
	unlink(path);
	if (symlink(target, path)) {
		perror(path);
		exit(1);
	}
}

static void fresh_tree(void)
{
	char cmd[300];

	if (root[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd))
			exit(1);
	}
	snprintf(root, sizeof(root), "/tmp/mg-probe-XXXXXX");
	if (!mkdtemp(root))
		exit(1);
	/* A healthy host: 2 MiB pages, 300 free of 300, root with every capability, eth0 present. */
	put("/proc/meminfo", "MemTotal: 4000000 kB\nHugePages_Total:     300\nHugePages_Free:      300\n"
	    "Hugepagesize:       2048 kB\n");
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "300\n");
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "300\n");
	put("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "0\n");
	put("/proc/self/status", "Name:\tmeshgate\nCapEff:\t000001ffffffffff\n");
	dir("/sys/class/net/eth0");
	dir("/sys/bus/pci/drivers/vfio-pci");
	dir("/sys/kernel/iommu_groups/7");
}

static enum dpdk_cause probe(const char *args, const char *device, int eal_errno, char *msg, size_t len)
{
	struct dpdk_probe_in in = { .root = root, .args = args, .device = device, .eal_errno = eal_errno,
				    .self_pid = 4242 };
	enum dpdk_cause c = dpdk_probe_eal(&in, msg, len);

	printf("  [%d] %s\n", c, msg[0] ? msg : "(no cause)");
	CHECK(!strchr(msg, '\n'));                       /* one line */
	return c;
}

#define HAS(msg, s) do { if (!strstr(msg, s)) { \
	fprintf(stderr, "%s:%d: message lacks \"%s\"\n", __FILE__, __LINE__, s); check_failures++; } } while (0)

#define VDEV "--no-pci --vdev net_af_packet0,iface=eth0,qpairs=2"
#define PCI "0000:01:00.0"

static void hugepages(void)
{
	char m[1024];

	fresh_tree();
	put("/proc/meminfo", "HugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n");
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "0\n");
	CHECK_INT(probe(VDEV, "net_af_packet0", EACCES, m, sizeof(m)), DPDK_CAUSE_NO_HUGEPAGES);
	HAS(m, "no free hugepages");
	HAS(m, "sysctl -w vm.nr_hugepages=256");            /* 512 MiB of 2 MiB pages */
	HAS(m, "echo 256 > /proc/sys/vm/nr_hugepages");
	HAS(m, "--no-huge");                                /* a vdev: --no-huge is an answer */
	/* -m 1024: 512 pages; a PCI NIC: --no-huge is not offered. */
	CHECK_INT(probe("-m 1024", PCI, EACCES, m, sizeof(m)), DPDK_CAUSE_NO_HUGEPAGES);
	HAS(m, "vm.nr_hugepages=512");
	CHECK(!strstr(m, "--no-huge"));
	/* --no-huge: hugepages are not the cause; the vdev's interface and root are fine. */
	CHECK_INT(probe("--no-huge " VDEV, "net_af_packet0", EINVAL, m, sizeof(m)), DPDK_CAUSE_UNKNOWN);
	CHECK_STR(m, "");
	/* 100 of 300 in use, 200 free = 400 MiB; -m 512 wants 256 pages: reserve 100 in use + 256. */
	put("/proc/meminfo", "HugePages_Total:     300\nHugePages_Free:      200\nHugepagesize:       2048 kB\n");
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "200\n");
	CHECK_INT(probe("-m 512 " VDEV, "net_af_packet0", EACCES, m, sizeof(m)), DPDK_CAUSE_NO_HUGEPAGES);
	HAS(m, "too few free hugepages");
	HAS(m, "vm.nr_hugepages=356");
	CHECK_INT(probe("--socket-mem=256,64 " VDEV, "net_af_packet0", EACCES, m, sizeof(m)), DPDK_CAUSE_PERMISSION);
	CHECK_INT(probe("-m400 " VDEV, "net_af_packet0", EINVAL, m, sizeof(m)), DPDK_CAUSE_UNKNOWN);
	/* Free pages of another size count (sysfs knows every size; meminfo only the default). */
	put("/proc/meminfo", "HugePages_Total:       0\nHugePages_Free:        0\nHugepagesize:       2048 kB\n");
	put("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "0\n");
	put("/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "1\n");
	CHECK_INT(probe(VDEV, "net_af_packet0", EINVAL, m, sizeof(m)), DPDK_CAUSE_UNKNOWN);
}

static void devices(void)
{
	char m[1024];

	fresh_tree();
	/* The vdev's interface is gone. */
	CHECK_INT(probe("--vdev=net_af_xdp0,iface=eth9", "net_af_xdp0", EACCES, m, sizeof(m)), DPDK_CAUSE_NO_DEVICE);
	HAS(m, "no kernel interface eth9");
	/* No such PCI device; short form accepted. */
	CHECK_INT(probe("", "01:00.0", ENODEV, m, sizeof(m)), DPDK_CAUSE_NO_DEVICE);
	HAS(m, "no PCI device 0000:01:00.0");
	/* Present, bound to ixgbe with its interface. */
	dir("/sys/bus/pci/devices/" PCI);
	dir("/sys/bus/pci/drivers/ixgbe");
	link_to("/sys/bus/pci/devices/" PCI "/driver", "../../../bus/pci/drivers/ixgbe");
	dir("/sys/bus/pci/devices/" PCI "/net/enp1s0f0");
	CHECK_INT(probe("", PCI, EBUSY, m, sizeof(m)), DPDK_CAUSE_KERNEL_DRIVER);
	HAS(m, "device busy");
	HAS(m, "kernel driver ixgbe (interface enp1s0f0)");
	HAS(m, "dpdk-devbind.py --bind=vfio-pci 0000:01:00.0");
	/* --no-pci: the EAL never looked at it. */
	CHECK_INT(probe("--no-pci", PCI, EINVAL, m, sizeof(m)), DPDK_CAUSE_UNKNOWN);
	/* No driver, vfio-pci loaded / not loaded. */
	unlink(strcat(strcpy(m, root), "/sys/bus/pci/devices/" PCI "/driver"));
	CHECK_INT(probe("", PCI, ENODEV, m, sizeof(m)), DPDK_CAUSE_UNBOUND);
	HAS(m, "bound to no driver");
	rmdir(strcat(strcpy(m, root), "/sys/bus/pci/drivers/vfio-pci"));
	CHECK_INT(probe("", PCI, ENODEV, m, sizeof(m)), DPDK_CAUSE_NO_VFIO);
	HAS(m, "vfio-pci is not loaded");
	HAS(m, "modprobe vfio-pci");
	/* On vfio-pci, no IOMMU groups at all. */
	dir("/sys/bus/pci/drivers/vfio-pci");
	link_to("/sys/bus/pci/devices/" PCI "/driver", "../../../bus/pci/drivers/vfio-pci");
	rmdir(strcat(strcpy(m, root), "/sys/kernel/iommu_groups/7"));
	CHECK_INT(probe("", PCI, EACCES, m, sizeof(m)), DPDK_CAUSE_NO_IOMMU);
	HAS(m, "no IOMMU");
	HAS(m, "intel_iommu=on");
	/* ... which vfio's no-IOMMU mode makes acceptable. */
	put("/sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
	CHECK_INT(probe("", PCI, EINVAL, m, sizeof(m)), DPDK_CAUSE_UNKNOWN);
	unlink(strcat(strcpy(m, root), "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"));
	/* With an IOMMU group 7, open in process 321 (testpmd); our own pid's open files do not count. */
	dir("/sys/kernel/iommu_groups/7");
	link_to("/sys/bus/pci/devices/" PCI "/iommu_group", "../../../kernel/iommu_groups/7");
	link_to("/proc/4242/fd/9", "/dev/vfio/7");
	CHECK_INT(probe("", PCI, EINVAL, m, sizeof(m)), DPDK_CAUSE_UNKNOWN);
	link_to("/proc/321/fd/3", "/dev/null");
	link_to("/proc/321/fd/17", "/dev/vfio/7");
	put("/proc/321/comm", "dpdk-testpmd\n");
	CHECK_INT(probe("", PCI, EBUSY, m, sizeof(m)), DPDK_CAUSE_IN_USE);
	HAS(m, "device busy");
	HAS(m, "/dev/vfio/7 is open in process 321 (dpdk-testpmd)");
}

static void permission(void)
{
	char m[1024];

	fresh_tree();
	put("/proc/self/status", "Name:\tmeshgate\nCapEff:\t0000000000001000\n");   /* cap_net_admin only */
	CHECK_INT(probe(VDEV, "net_af_packet0", EACCES, m, sizeof(m)), DPDK_CAUSE_PERMISSION);
	HAS(m, "permission denied");
	HAS(m, "cap_net_raw, cap_ipc_lock, cap_sys_admin");
	CHECK(!strstr(m, "cap_net_admin"));
	/* Every capability: still permission denied, but no cause the probe knows. */
	put("/proc/self/status", "CapEff:\t000001ffffffffff\n");
	CHECK_INT(probe(VDEV, "net_af_packet0", EPERM, m, sizeof(m)), DPDK_CAUSE_PERMISSION);
	HAS(m, "EAL's own messages");
	/* Another error: nothing to add. */
	CHECK_INT(probe(VDEV, "net_af_packet0", EEXIST, m, sizeof(m)), DPDK_CAUSE_UNKNOWN);
}

static void kernel_ifname(void)
{
	char out[64];

	fresh_tree();
	CHECK_INT(dpdk_probe_kernel_ifname(root, "--no-huge --vdev net_af_packet0,iface=eth0,qpairs=2",
					   "net_af_packet0", out, sizeof(out)), 0);
	CHECK_STR(out, "eth0");
	CHECK_INT(dpdk_probe_kernel_ifname(root, "--vdev=net_af_xdp1,start_queue=0,iface=lan1",
					   "net_af_xdp1", out, sizeof(out)), 0);
	CHECK_STR(out, "lan1");
	CHECK_INT(dpdk_probe_kernel_ifname(root, "--vdev net_af_packet0,iface=eth0", "net_af_packet", out,
					   sizeof(out)), -ENOENT);             /* another port's name */
	CHECK_INT(dpdk_probe_kernel_ifname(root, "--vdev net_tap0", "net_tap0", out, sizeof(out)), -ENOENT);
	CHECK_INT(dpdk_probe_kernel_ifname(root, "", PCI, out, sizeof(out)), -ENOENT);   /* on vfio-pci */
	dir("/sys/bus/pci/devices/" PCI "/net/enp1s0f1np1");                         /* mlx5 keeps it */
	CHECK_INT(dpdk_probe_kernel_ifname(root, "", PCI, out, sizeof(out)), 0);
	CHECK_STR(out, "enp1s0f1np1");
	CHECK(dpdk_probe_is_pci("0000:01:00.0") && dpdk_probe_is_pci("3b:00.1"));
	CHECK(!dpdk_probe_is_pci("net_af_packet0") && !dpdk_probe_is_pci("eth0"));
}

int main(void)
{
	char cmd[300];

	hugepages();
	devices();
	permission();
	kernel_ifname();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		return 1;
	return check_done("test_dpdk_probe");
}
