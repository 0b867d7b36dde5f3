/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dpdk_probe.h - why the DPDK EAL refused to start, in one line an operator can act on. The EAL
 * reports most host problems as "Permission denied"; this reads the host's state instead:
 * hugepages (/proc/meminfo, /sys/kernel/mm/hugepages), the PCI device's driver and IOMMU group
 * (/sys/bus/pci/devices, /sys/kernel/iommu_groups), who holds its VFIO group (/proc/PID/fd),
 * the kernel interface a vdev sits on (/sys/class/net), and our capabilities (/proc/self/status).
 *
 * Every path is read below a root directory, so a unit test can hand it a fake tree. No DPDK
 * headers: the probe runs after rte_eal_init failed and needs nothing from it but rte_errno.
 */
#ifndef MG_IO_DPDK_PROBE_H
#define MG_IO_DPDK_PROBE_H

#include <stdbool.h>
#include <stddef.h>

enum dpdk_cause {
	DPDK_CAUSE_UNKNOWN,        /* none of the below: the EAL's own error stands */
	DPDK_CAUSE_NO_HUGEPAGES,   /* hugepages wanted (no --no-huge) and none (or too few) free */
	DPDK_CAUSE_NO_DEVICE,      /* no such PCI device / no such kernel interface for the vdev */
	DPDK_CAUSE_NO_VFIO,        /* the PCI device has no driver and vfio-pci is not loaded */
	DPDK_CAUSE_UNBOUND,        /* the PCI device has no driver (vfio-pci is loaded) */
	DPDK_CAUSE_NO_IOMMU,       /* bound to vfio-pci, but no IOMMU groups (and no no-IOMMU mode) */
	DPDK_CAUSE_KERNEL_DRIVER,  /* bound to a kernel network driver: busy */
	DPDK_CAUSE_IN_USE,         /* its VFIO group is open in another process: busy */
	DPDK_CAUSE_PERMISSION,     /* permission denied, for another reason (capabilities) */
};

struct dpdk_probe_in {
	const char *root;          /* "" for the running system; a directory tree in tests */
	const char *args;          /* DPDKArgs as configured */
	const char *device;        /* Device = (PCI address or vdev name) */
	int eal_errno;             /* rte_errno after rte_eal_init failed */
	int self_pid;              /* our pid: our own open files are not "another process" */
};

/* Hugepages the EAL should find free: -m / --socket-mem of args in MiB, else this. */
#define DPDK_PROBE_DEFAULT_MB 512u

/* The first cause that applies, its one-line explanation (with the command that fixes it) in
 * msg. DPDK_CAUSE_UNKNOWN leaves msg empty. */
enum dpdk_cause dpdk_probe_eal(const struct dpdk_probe_in *in, char *msg, size_t len);

/* Is name a PCI address (DDDD:BB:DD.F or BB:DD.F)? */
bool dpdk_probe_is_pci(const char *name);

/* The kernel interface behind the DPDK port: for a vdev, the "iface=" of its --vdev argument in
 * args; for a PCI device, the interface its kernel driver registered (a bifurcated driver such as
 * mlx5 keeps one), if any. 0 with the name in out, or -ENOENT. */
int dpdk_probe_kernel_ifname(const char *root, const char *args, const char *device, char *out, size_t len);

#endif
