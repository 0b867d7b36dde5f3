// SPDX-License-Identifier: GPL-2.0-only
/*
 * dpdk_probe.c - the host facts behind an EAL failure (dpdk_probe.h). Each probe reads a few
 * files below in->root and either names its cause or passes to the next, in the order the EAL
 * trips over them: hugepages, then the device (present, driver, IOMMU, held by someone else),
 * then plain permission.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/dpdk_probe.h"

#define PATH_LEN 512

static void path_of(char *out, const char *root, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(out, PATH_LEN, "%s", root ? root : "");

	va_start(ap, fmt);
	vsnprintf(out + n, PATH_LEN - (size_t)n, fmt, ap);
	va_end(ap);
}

/* The first line of a small file, newline cut; -errno. */
static int read_line(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "re");
	int ret = 0;

	if (!f)
		return -errno;
	if (!fgets(out, (int)len, f))
		ret = -EIO;
	else
		out[strcspn(out, "\n")] = 0;
	fclose(f);
	return ret;
}

static long long read_num(const char *path, long long dflt)
{
	char buf[64];

	return read_line(path, buf, sizeof(buf)) ? dflt : strtoll(buf, NULL, 0);
}

/* The last component of a symbolic link's target ("" if path is no link). */
static void link_base(const char *path, char *out, size_t len)
{
	char target[PATH_LEN];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *slash;

	out[0] = 0;
	if (n <= 0)
		return;
	target[n] = 0;
	slash = strrchr(target, '/');
	slash = slash ? slash + 1 : target;
	n = (ssize_t)strnlen(slash, len - 1);
	memcpy(out, slash, (size_t)n);
	out[n] = 0;
}

/* The first directory entry of dir that is not "." or ".."; false if none (or no dir). */
static bool first_entry(const char *dir, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(out, len, "%s", e->d_name);
			found = true;
		}
	closedir(d);
	return found;
}

/* ---- DPDKArgs ---------------------------------------------------------------------------------- */

/* The value of option opt in args ("opt V", "opt=V" or, for a short option, "optV"); false if absent. */
static bool arg_value(const char *args, const char *opt, char *out, size_t len)
{
	size_t ol = strlen(opt);
	const char *p = args ? args : "";

	for (;;) {
		size_t tl;

		p += strspn(p, " \t");
		if (!*p)
			return false;
		tl = strcspn(p, " \t");
		if (tl == ol && !strncmp(p, opt, ol)) {                 /* "opt V" */
			const char *v = p + tl + strspn(p + tl, " \t");

			snprintf(out, len, "%.*s", (int)strcspn(v, " \t"), v);
			return *v;
		}
		if (tl > ol && !strncmp(p, opt, ol) && (p[ol] == '=' || opt[1] != '-')) {
			const char *v = p + ol + (p[ol] == '=');

			snprintf(out, len, "%.*s", (int)(tl - (size_t)(v - p)), v);
			return true;
		}
		p += tl;
	}
}

static bool has_flag(const char *args, const char *flag)
{
	size_t fl = strlen(flag);

	for (const char *p = args ? strstr(args, flag) : NULL; p; p = strstr(p + 1, flag))
		if ((p == args || p[-1] == ' ' || p[-1] == '\t') && (!p[fl] || p[fl] == ' ' || p[fl] == '\t'))
			return true;
	return false;
}

/* Memory the EAL is told to take up front (-m MB, or --socket-mem a,b,...); 0 if neither. */
static unsigned long wanted_mb(const char *args)
{
	char v[128];
	unsigned long mb = 0;

	if (arg_value(args, "--socket-mem", v, sizeof(v))) {
		for (char *p = v; *p; p += *p == ',')
			mb += strtoul(p, &p, 10);
		return mb;
	}
	return arg_value(args, "-m", v, sizeof(v)) ? strtoul(v, NULL, 10) : 0;
}

/* The --vdev argument whose name is device ("net_af_packet0,iface=eth0,..."), into out. */
static bool vdev_arg(const char *args, const char *device, char *out, size_t len)
{
	size_t dl = strlen(device);
	const char *p = args;

	while (p && (p = strstr(p, "--vdev"))) {
		p += 6;
		p += strspn(p, " \t=");
		if (!strncmp(p, device, dl) && (p[dl] == ',' || p[dl] == ' ' || !p[dl])) {
			snprintf(out, len, "%.*s", (int)strcspn(p, " \t"), p);
			return true;
		}
	}
	return false;
}

bool dpdk_probe_is_pci(const char *name)
{
	unsigned dom, bus, dev, fn;
	char end;

	return sscanf(name, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &end) == 4 ||
	       sscanf(name, "%x:%x.%x%c", &bus, &dev, &fn, &end) == 3;
}

/* sysfs spells PCI addresses with the domain. */
static void pci_full(const char *name, char *out, size_t len)
{
	unsigned a, b, c;
	char end;

	if (sscanf(name, "%x:%x.%x%c", &a, &b, &c, &end) == 3 && !strchr(strchr(name, ':') + 1, ':'))
		snprintf(out, len, "0000:%s", name);
	else
		snprintf(out, len, "%s", name);
}

int dpdk_probe_kernel_ifname(const char *root, const char *args, const char *device, char *out, size_t len)
{
	char v[256], path[PATH_LEN], pci[64];

	if (vdev_arg(args, device, v, sizeof(v))) {
		char *p = strstr(v, ",iface=");

		if (!p)
			return -ENOENT;
		snprintf(out, len, "%.*s", (int)strcspn(p + 7, ","), p + 7);
		return out[0] ? 0 : -ENOENT;
	}
	if (!dpdk_probe_is_pci(device))
		return -ENOENT;
	pci_full(device, pci, sizeof(pci));
	path_of(path, root, "/sys/bus/pci/devices/%s/net", pci);
	return first_entry(path, out, len) ? 0 : -ENOENT;
}

/* ---- the probes -------------------------------------------------------------------------------- */

struct huge {
	unsigned long long free_kb, total_pages, free_pages, page_kb;
	bool from_sysfs;
};

/* Every hugepage size in /sys/kernel/mm/hugepages; /proc/meminfo (the default size) without it. */
static void huge_read(const char *root, struct huge *h)
{
	char path[PATH_LEN], line[128];
	struct dirent *e;
	DIR *d;
	FILE *f;

	memset(h, 0, sizeof(*h));
	path_of(path, root, "/proc/meminfo");
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f)) {
			sscanf(line, "HugePages_Total: %llu", &h->total_pages);
			sscanf(line, "HugePages_Free: %llu", &h->free_pages);
			sscanf(line, "Hugepagesize: %llu", &h->page_kb);
		}
		fclose(f);
	}
	h->free_kb = h->free_pages * h->page_kb;
	path_of(path, root, "/sys/kernel/mm/hugepages");
	if (!(d = opendir(path)))
		return;
	h->free_kb = 0;
	h->from_sysfs = true;
	while ((e = readdir(d))) {
		unsigned long long kb;

		if (sscanf(e->d_name, "hugepages-%llukB", &kb) != 1)
			continue;
		path_of(path, root, "/sys/kernel/mm/hugepages/%s/free_hugepages", e->d_name);
		h->free_kb += (unsigned long long)read_num(path, 0) * kb;
	}
	closedir(d);
}

static bool probe_hugepages(const struct dpdk_probe_in *in, char *msg, size_t len)
{
	unsigned long mb = wanted_mb(in->args);
	unsigned long need = mb ? mb : DPDK_PROBE_DEFAULT_MB;
	unsigned long long page_kb, pages;
	struct huge h;

	if (has_flag(in->args, "--no-huge"))
		return false;
	huge_read(in->root, &h);
	if (h.free_kb && (!mb || h.free_kb >= (unsigned long long)mb * 1024))
		return false;
	page_kb = h.page_kb ? h.page_kb : 2048;
	pages = ((unsigned long long)need * 1024 + page_kb - 1) / page_kb;
	pages += h.total_pages - (h.free_pages < h.total_pages ? h.free_pages : h.total_pages);
	snprintf(msg, len, "%s hugepages (HugePages_Free %llu of %llu in /proc/meminfo, %llu MiB free in all "
		 "sizes; %s %lu MiB): reserve them with `sysctl -w vm.nr_hugepages=%llu` (or `echo %llu > "
		 "/proc/sys/vm/nr_hugepages`; for every boot: vm.nr_hugepages = %llu in /etc/sysctl.d/)%s",
		 h.free_kb ? "too few free" : "no free", h.free_pages, h.total_pages, h.free_kb / 1024,
		 mb ? "DPDKArgs ask for" : "meshgate wants about", need, pages, pages, pages,
		 dpdk_probe_is_pci(in->device) ? "" :
		 ", or add --no-huge to DPDKArgs (enough for a vdev port such as net_af_packet or net_af_xdp)");
	return true;
}

static bool probe_vdev(const struct dpdk_probe_in *in, char *msg, size_t len)
{
	char ifname[64], path[PATH_LEN];

	if (dpdk_probe_is_pci(in->device) ||
	    dpdk_probe_kernel_ifname(in->root, in->args, in->device, ifname, sizeof(ifname)))
		return false;
	path_of(path, in->root, "/sys/class/net/%s", ifname);
	if (!access(path, F_OK))
		return false;
	snprintf(msg, len, "no kernel interface %s for the vdev %s (its iface= in DPDKArgs; `ip link` lists them)",
		 ifname, in->device);
	return true;
}

/* A process other than us with /dev/vfio/group open: its pid, and its name in comm. */
static int vfio_holder(const struct dpdk_probe_in *in, const char *group, char *comm, size_t len)
{
	char path[PATH_LEN], want[64], target[PATH_LEN];
	struct dirent *pe, *fe;
	int pid = 0;
	DIR *d, *fd;

	snprintf(want, sizeof(want), "/dev/vfio/%s", group);
	path_of(path, in->root, "/proc");
	if (!(d = opendir(path)))
		return 0;
	while (!pid && (pe = readdir(d))) {
		if (!isdigit((unsigned char)pe->d_name[0]) || atoi(pe->d_name) == in->self_pid)
			continue;
		path_of(path, in->root, "/proc/%s/fd", pe->d_name);
		if (!(fd = opendir(path)))
			continue;
		while (!pid && (fe = readdir(fd))) {
			ssize_t n;

			path_of(path, in->root, "/proc/%s/fd/%s", pe->d_name, fe->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n > 0 && (target[n] = 0, !strcmp(target, want)))
				pid = atoi(pe->d_name);
		}
		closedir(fd);
		if (pid) {
			path_of(path, in->root, "/proc/%s/comm", pe->d_name);
			if (read_line(path, comm, len))
				snprintf(comm, len, "?");
		}
	}
	closedir(d);
	return pid;
}

static enum dpdk_cause probe_pci(const struct dpdk_probe_in *in, char *msg, size_t len)
{
	char pci[64], path[PATH_LEN], drv[64], ifname[64], group[32], dev[48], comm[64], y[8] = "";
	int pid;

	if (!dpdk_probe_is_pci(in->device) || has_flag(in->args, "--no-pci"))
		return DPDK_CAUSE_UNKNOWN;
	pci_full(in->device, pci, sizeof(pci));
	path_of(path, in->root, "/sys/bus/pci/devices/%s", pci);
	if (access(path, F_OK)) {
		snprintf(msg, len, "no PCI device %s (Device =; `lspci -D` lists them)", pci);
		return DPDK_CAUSE_NO_DEVICE;
	}
	path_of(path, in->root, "/sys/bus/pci/devices/%s/driver", pci);
	link_base(path, drv, sizeof(drv));
	if (!drv[0]) {
		path_of(path, in->root, "/sys/bus/pci/drivers/vfio-pci");
		if (access(path, F_OK)) {
			snprintf(msg, len, "vfio-pci is not loaded and %s has no driver: `modprobe vfio-pci`, then "
				 "`dpdk-devbind.py --bind=vfio-pci %s`", pci, pci);
			return DPDK_CAUSE_NO_VFIO;
		}
		snprintf(msg, len, "%s is bound to no driver: `dpdk-devbind.py --bind=vfio-pci %s`", pci, pci);
		return DPDK_CAUSE_UNBOUND;
	}
	if (strcmp(drv, "vfio-pci") && strcmp(drv, "uio_pci_generic") && strcmp(drv, "igb_uio") &&
	    strncmp(drv, "mlx", 3)) {
		path_of(path, in->root, "/sys/bus/pci/devices/%s/net", pci);
		if (!first_entry(path, ifname, sizeof(ifname)))
			snprintf(ifname, sizeof(ifname), "none");
		path_of(path, in->root, "/sys/bus/pci/drivers/vfio-pci");
		snprintf(msg, len, "device busy: %s is bound to the kernel driver %s (interface %s): %s"
			 "`dpdk-devbind.py --bind=vfio-pci %s` (the interface leaves the kernel)", pci, drv, ifname,
			 access(path, F_OK) ? "`modprobe vfio-pci`, then " : "", pci);
		return DPDK_CAUSE_KERNEL_DRIVER;
	}
	if (strcmp(drv, "vfio-pci"))
		return DPDK_CAUSE_UNKNOWN;
	path_of(path, in->root, "/sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
	read_line(path, y, sizeof(y));
	path_of(path, in->root, "/sys/kernel/iommu_groups");
	if (!first_entry(path, group, sizeof(group)) && y[0] != 'Y' && y[0] != '1') {
		snprintf(msg, len, "no IOMMU: %s is on vfio-pci but /sys/kernel/iommu_groups is empty: turn the "
			 "IOMMU on (VT-d/AMD-Vi in the firmware, intel_iommu=on or amd_iommu=on on the kernel "
			 "command line), or without one `echo 1 > /sys/module/vfio/parameters/"
			 "enable_unsafe_noiommu_mode`", pci);
		return DPDK_CAUSE_NO_IOMMU;
	}
	path_of(path, in->root, "/sys/bus/pci/devices/%s/iommu_group", pci);
	link_base(path, group, sizeof(group));
	if (!group[0])
		return DPDK_CAUSE_UNKNOWN;
	/* Without an IOMMU, vfio names the group's device node noiommu-N. */
	snprintf(dev, sizeof(dev), "%s%s", y[0] == 'Y' || y[0] == '1' ? "noiommu-" : "", group);
	pid = vfio_holder(in, dev, comm, sizeof(comm));
	if (!pid)
		return DPDK_CAUSE_UNKNOWN;
	snprintf(msg, len, "device busy: %s's VFIO group /dev/vfio/%s is open in process %d (%s): another "
		 "DPDK application or a VM owns the NIC", pci, dev, pid, comm);
	return DPDK_CAUSE_IN_USE;
}

static bool probe_permission(const struct dpdk_probe_in *in, char *msg, size_t len)
{
	static const struct { int bit; const char *name; } need[] = {
		{ 12, "cap_net_admin" }, { 13, "cap_net_raw" }, { 14, "cap_ipc_lock" }, { 21, "cap_sys_admin" },
	};
	char path[PATH_LEN], line[128], missing[128] = "";
	unsigned long long eff = 0;
	size_t off = 0;
	FILE *f;

	if (in->eal_errno != EACCES && in->eal_errno != EPERM)
		return false;
	path_of(path, in->root, "/proc/self/status");
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f))
			sscanf(line, "CapEff: %llx", &eff);
		fclose(f);
	}
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!(eff >> need[i].bit & 1) && off < sizeof(missing))
			off += (size_t)snprintf(missing + off, sizeof(missing) - off, "%s%s", off ? ", " : "",
						need[i].name);
	if (off)
		snprintf(msg, len, "permission denied: meshgate lacks %s (start it as root; User = drops "
			 "privileges after setup)", missing);
	else
		snprintf(msg, len, "permission denied, though hugepages, the device and our capabilities look "
			 "right: the EAL's own messages above name the file");
	return true;
}

enum dpdk_cause dpdk_probe_eal(const struct dpdk_probe_in *in, char *msg, size_t len)
{
	enum dpdk_cause cause;

	msg[0] = 0;
	if (probe_hugepages(in, msg, len))
		return DPDK_CAUSE_NO_HUGEPAGES;
	if (probe_vdev(in, msg, len))
		return DPDK_CAUSE_NO_DEVICE;
	cause = probe_pci(in, msg, len);
	if (cause != DPDK_CAUSE_UNKNOWN)
		return cause;
	if (probe_permission(in, msg, len))
		return DPDK_CAUSE_PERMISSION;
	return DPDK_CAUSE_UNKNOWN;
}
