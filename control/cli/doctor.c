// SPDX-License-Identifier: GPL-2.0-only
/*
 * doctor.c - `meshgate doctor`: the command and the checks of the host
 * and of the config against it: kernel and BTF, bpffs, the locked-memory limit, capabilities,
 * CPU flags and the crypto backend, ListenPort, advertised routes, and for Backend = dpdk
 * hugepages and vfio. The NIC's own checks are in doctor_nic.c, the report in doctor_report.c.
 *
 * Every check reads state and leaves it as it was; the only probe that touches anything is the
 * ListenPort bind, which is closed at once.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include "doctor.h"
#include "doctor_nic.h"
#include "doctor_report.h"
#include "addrfmt.h"
#include "mg_config.h"
#include "crypto/aead.h"

#define DOCTOR_DEFAULT_CONF "/etc/meshgate/meshgate.conf"
#define BPF_FS_MAGIC_ 0xcafe4a11
/* AF_XDP charges each queue's UMEM to RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK:
 * 8192 frames of 4 KiB (IO_NUM_FRAMES x IO_FRAME_SIZE in dataplane/io/port.h). */
#define UMEM_BYTES_PER_QUEUE (8192ull * 4096ull)

enum { CAP_NET_ADMIN_ = 12, CAP_NET_RAW_ = 13, CAP_IPC_LOCK_ = 14, CAP_SYS_ADMIN_ = 21,
       CAP_SYS_RESOURCE_ = 24, CAP_BPF_ = 39 };

/* The process's effective capabilities, read once at start. */
static uint64_t cap_eff;

static bool has_cap(int cap) { return cap_eff & (1ull << cap); }

static uint64_t read_cap_eff(void)
{
	char line[256];
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &v) == 1)
			break;
	fclose(f);
	return v;
}

/* ---- the host ------------------------------------------------------------------------------ */

static void check_kernel(struct doctor *d)
{
	struct utsname u;
	unsigned maj = 0, min = 0;

	uname(&u);
	sscanf(u.release, "%u.%u", &maj, &min);
	/* AF_XDP's need_wakeup flag, which every socket here is bound with, came in 5.4. */
	if (maj < 5 || (maj == 5 && min < 4))
		doctor_report(d, DOCTOR_FAIL, "kernel", "apt install -t bookworm-backports linux-image-amd64",
			      "%s: AF_XDP with need_wakeup needs 5.4 or later", u.release);
	else
		doctor_report(d, DOCTOR_OK, "kernel", NULL, "%s", u.release);
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		doctor_report(d, DOCTOR_WARN, "btf", "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (Debian's linux-image-amd64 is)",
			      "/sys/kernel/btf/vmlinux missing: bpftool and BTF-based tracing of the XDP program will not work");
	else
		doctor_report(d, DOCTOR_OK, "btf", NULL, "/sys/kernel/btf/vmlinux");
}

static void check_bpffs(struct doctor *d)
{
	struct statfs s;

	if (!statfs("/sys/fs/bpf", &s) && (unsigned long)s.f_type == BPF_FS_MAGIC_)
		doctor_report(d, DOCTOR_OK, "bpffs", NULL, "/sys/fs/bpf is mounted");
	else if (has_cap(CAP_SYS_ADMIN_))
		doctor_report(d, DOCTOR_WARN, "bpffs", "mount -t bpf bpf /sys/fs/bpf",
			      "/sys/fs/bpf is not a BPF filesystem; meshgate mounts it at start (it has CAP_SYS_ADMIN here)");
	else
		doctor_report(d, DOCTOR_FAIL, "bpffs", "mount -t bpf bpf /sys/fs/bpf",
			      "/sys/fs/bpf is not a BPF filesystem and without CAP_SYS_ADMIN meshgate cannot mount it");
}

static void check_memlock(struct doctor *d, const struct mg_config *cfg)
{
	unsigned long long need = UMEM_BYTES_PER_QUEUE * (cfg->queues ? cfg->queues : 1);
	struct rlimit rl;

	getrlimit(RLIMIT_MEMLOCK, &rl);
	if (rl.rlim_cur == RLIM_INFINITY)
		doctor_report(d, DOCTOR_OK, "memlock", NULL, "unlimited");
	else if (rl.rlim_max == RLIM_INFINITY || has_cap(CAP_SYS_RESOURCE_))
		doctor_report(d, DOCTOR_OK, "memlock", NULL, "%llu KiB; meshgate raises it to unlimited at start",
			      (unsigned long long)rl.rlim_cur / 1024);
	else if (has_cap(CAP_IPC_LOCK_))
		doctor_report(d, DOCTOR_OK, "memlock", NULL, "%llu KiB, but CAP_IPC_LOCK exempts the UMEM",
			      (unsigned long long)rl.rlim_cur / 1024);
	else if (rl.rlim_cur < need)
		doctor_report(d, DOCTOR_FAIL, "memlock", "ulimit -l unlimited (systemd: LimitMEMLOCK=infinity, as the packaged unit)",
			      "%llu KiB locked memory, %u queue(s) of UMEM need %llu KiB, and no CAP_IPC_LOCK or CAP_SYS_RESOURCE",
			      (unsigned long long)rl.rlim_cur / 1024, cfg->queues, need / 1024);
	else
		doctor_report(d, DOCTOR_OK, "memlock", NULL, "%llu KiB, enough for %u queue(s) of UMEM",
			      (unsigned long long)rl.rlim_cur / 1024, cfg->queues);
}

static void check_caps(struct doctor *d)
{
	static const char fix_root[] =
		"run meshgate as root (systemctl start meshgate); in LXC: a privileged container";
	const char *skip = getenv("LIBXDP_SKIP_DISPATCHER");
	bool bpf = has_cap(CAP_BPF_) || has_cap(CAP_SYS_ADMIN_);

	if (!has_cap(CAP_NET_ADMIN_) || !has_cap(CAP_NET_RAW_) || !bpf) {
		doctor_report(d, DOCTOR_FAIL, "caps", fix_root, "missing%s%s%s: setup needs CAP_NET_ADMIN (attach XDP, routes, TUN), "
			      "CAP_NET_RAW (AF_XDP) and CAP_BPF or CAP_SYS_ADMIN (load the program)",
			      has_cap(CAP_NET_ADMIN_) ? "" : " CAP_NET_ADMIN", has_cap(CAP_NET_RAW_) ? "" : " CAP_NET_RAW",
			      bpf ? "" : " CAP_BPF/CAP_SYS_ADMIN");
		return;
	}
	if (!has_cap(CAP_SYS_ADMIN_) && !(skip && !strcmp(skip, "1")))
		doctor_report(d, DOCTOR_WARN, "caps", "export LIBXDP_SKIP_DISPATCHER=1 (the packaged unit sets it)",
			      "no CAP_SYS_ADMIN: libxdp's multi-program dispatcher will fail; attach the program directly");
	else
		doctor_report(d, DOCTOR_OK, "caps", NULL, "CAP_NET_ADMIN CAP_NET_RAW %s%s",
			      has_cap(CAP_BPF_) ? "CAP_BPF" : "CAP_SYS_ADMIN (for CAP_BPF)",
			      has_cap(CAP_SYS_ADMIN_) ? "" : ", dispatcher skipped");
}

/* The backend `Crypto = auto` picks is the first of aead_backend_names the CPU and build run. */
static void check_crypto(struct doctor *d, const struct mg_config *cfg)
{
	const char *want = cfg->crypto[0] ? cfg->crypto : "auto";
	unsigned f = aead_cpu_features();
	char flags[64];
	int err;

	snprintf(flags, sizeof(flags), "%s%s%s", f & AEAD_CPU_AVX2 ? " avx2" : "",
		 f & AEAD_CPU_AVX512F ? " avx512f/vl/bw/dq" : "", f & AEAD_CPU_AVX512IFMA ? " avx512ifma" : "");
	err = aead_init(want);
	if (err) {
		doctor_report(d, DOCTOR_FAIL, "crypto", "Crypto = auto",
			      "Crypto = %s: %s (CPU:%s)", want, aead_strerror(want, err), flags[0] ? flags : " none");
		return;
	}
	if (!(f & AEAD_CPU_AVX2))
		doctor_report(d, DOCTOR_WARN, "crypto", "Proxmox: qm set VMID --cpu host",
			      "Crypto = %s picks %s: the CPU shows no AVX2 (a VM's default CPU type hides it)",
			      want, aead_backend_name());
	else
		doctor_report(d, DOCTOR_OK, "crypto", NULL, "Crypto = %s picks %s (full bursts: %s at %u B, %s at %u B; CPU:%s)",
			      want, aead_backend_name(), aead_auto_choice(0), aead_size_class_bytes(0),
			      aead_auto_choice(AEAD_SIZE_CLASSES - 1), aead_size_class_bytes(AEAD_SIZE_CLASSES - 1),
			      flags);
}

/* ---- the config against the host ----------------------------------------------------------- */

/* The process holding UDP @port, from /proc/net/udp{,6} and the fds of /proc/PID. */
static bool udp_port_owner(uint16_t port, pid_t *pid, char comm[32])
{
	static const char *const tables[] = { "/proc/net/udp", "/proc/net/udp6" };
	unsigned long inode = 0;
	char line[512], link[64], want[64], path[600];

	for (unsigned t = 0; t < 2 && !inode; t++) {
		FILE *f = fopen(tables[t], "r");
		unsigned lport;
		unsigned long ino;

		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x %*s %*s %*s %*s %*s %*s %*s %lu", &lport, &ino) == 2 &&
			    lport == port && ino) {
				inode = ino;
				break;
			}
		if (f)
			fclose(f);
	}
	if (!inode)
		return false;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	DIR *proc = opendir("/proc");
	struct dirent *e;
	bool found = false;

	while (proc && !found && (e = readdir(proc))) {
		DIR *fds;
		struct dirent *fe;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", e->d_name);
		fds = opendir(path);
		while (fds && !found && (fe = readdir(fds))) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%s/fd/%s", e->d_name, fe->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n > 0 && (link[n] = '\0', !strcmp(link, want)))
				found = true;
		}
		if (fds)
			closedir(fds);
		if (found) {
			FILE *c;

			*pid = atoi(e->d_name);
			snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
			c = fopen(path, "r");
			if (!c || !fgets(comm, 32, c))
				snprintf(comm, 32, "?");
			comm[strcspn(comm, "\n")] = '\0';
			if (c)
				fclose(c);
		}
	}
	if (proc)
		closedir(proc);
	return found;
}

/* 0 when both wildcard binds of UDP @port succeed, else the first errno. */
static int udp_port_probe(uint16_t port)
{
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = in6addr_any };
	int one = 1, err = 0, fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a4, sizeof(a4)))
		err = errno;
	if (fd >= 0)
		close(fd);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)) && !err && errno != EADDRNOTAVAIL)
			err = errno;
		close(fd);
	}
	return err;
}

static void check_listen_port(struct doctor *d, const struct mg_config *cfg)
{
	char fix[160], comm[32] = "?";
	pid_t pid = 0;
	int err;

	if (cfg->listen_port < 0) {
		doctor_report(d, DOCTOR_OK, "listenport", NULL, "ListenPort not set: a random free port");
		return;
	}
	err = udp_port_probe((uint16_t)cfg->listen_port);
	if (!err) {
		doctor_report(d, DOCTOR_OK, "listenport", NULL, "UDP %d is free", cfg->listen_port);
		return;
	}
	udp_port_owner((uint16_t)cfg->listen_port, &pid, comm);
	if (pid && !strcmp(comm, "meshgate")) {
		doctor_report(d, DOCTOR_OK, "listenport", NULL, "UDP %d is held by the running meshgate (pid %d)",
			      cfg->listen_port, (int)pid);
		return;
	}
	snprintf(fix, sizeof(fix), "ss -ulpn 'sport = :%d', then stop %s%s or change ListenPort",
		 cfg->listen_port, comm, pid ? "" : " (owner not visible here)");
	doctor_report(d, DOCTOR_FAIL, "listenport", fix, "UDP %d: %s (held by %s, pid %d)", cfg->listen_port,
		      strerror(err), comm, (int)pid);
}

static bool prefix_overlaps(const struct mg_ipprefix *a, const struct mg_ipprefix *b)
{
	unsigned bits = a->cidr < b->cidr ? a->cidr : b->cidr;

	if (a->family != b->family)
		return false;
	for (unsigned i = 0; i < bits; i++)
		if (((a->addr[i / 8] ^ b->addr[i / 8]) >> (7 - i % 8)) & 1)
			return false;
	return true;
}

/* The tailnet's own ranges (Tailscale's CGNAT block and ULA), which peers' addresses come from. */
static void check_routes(struct doctor *d, const struct mg_config *cfg)
{
	struct mg_ipprefix tailnet[2];
	char route[64], fix[256];
	unsigned bad = 0;

	addrfmt_parse_prefix(&tailnet[0], "100.64.0.0/10");
	addrfmt_parse_prefix(&tailnet[1], "fd7a:115c:a1e0::/48");
	for (size_t i = 0; i < cfg->n_routes; i++) {
		const struct mg_ipprefix *r = &cfg->advertise_routes[i];

		for (unsigned t = 0; t < 2; t++) {
			/* A default route overlaps everything by design (exit node). */
			if (!r->cidr || !prefix_overlaps(r, &tailnet[t]))
				continue;
			addrfmt_format_prefix(route, sizeof(route), r);
			snprintf(fix, sizeof(fix), "remove %s from AdvertiseRoutes in %.80s", route, cfg->path);
			doctor_report(d, DOCTOR_FAIL, "routes", fix, "AdvertiseRoutes %s overlaps the tailnet range %s",
				      route, t ? "fd7a:115c:a1e0::/48" : "100.64.0.0/10");
			bad++;
		}
	}
	if (!bad)
		doctor_report(d, DOCTOR_OK, "routes", NULL, "%zu advertised route(s), none inside the tailnet ranges",
			      cfg->n_routes);
}

/* ---- Backend = dpdk ------------------------------------------------------------------------ */

static unsigned long meminfo(const char *key)
{
	char line[128];
	unsigned long v = 0;
	size_t klen = strlen(key);
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtoul(line + klen + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return v;
}

static void check_dpdk_hugepages(struct doctor *d, const struct mg_config *cfg)
{
	unsigned long free_pages = meminfo("HugePages_Free"), size_kb = meminfo("Hugepagesize");
	char fix[160];

	if (strstr(cfg->dpdk_args, "--no-huge")) {
		doctor_report(d, DOCTOR_OK, "hugepages", NULL, "DPDKArgs has --no-huge (a test setup: slower)");
		return;
	}
	/* The mbuf pools and rings take a few hundred MiB; 512 MiB is DPDK's usual reservation. */
	snprintf(fix, sizeof(fix), "echo %lu > /sys/kernel/mm/hugepages/hugepages-%lukB/nr_hugepages",
		 size_kb ? 512ul * 1024 / size_kb : 256ul, size_kb ? size_kb : 2048ul);
	if (free_pages * size_kb < 512ul * 1024)
		doctor_report(d, DOCTOR_FAIL, "hugepages", fix, "%lu free hugepages of %lu KiB: DPDK's EAL needs about 512 MiB",
			      free_pages, size_kb);
	else
		doctor_report(d, DOCTOR_OK, "hugepages", NULL, "%lu free hugepages of %lu KiB", free_pages, size_kb);
}

/* The PCI address after -a/--allow in DPDKArgs, if any. */
static bool dpdk_pci_arg(const char *args, char out[32])
{
	const char *p = strstr(args, "-a ");

	if (!p)
		p = strstr(args, "--allow ");
	if (!p)
		p = strstr(args, "--allow=");
	if (!p)
		return false;
	p += strcspn(p, " =");
	p += strspn(p, " =");
	snprintf(out, 32, "%.*s", (int)strcspn(p, " ,"), p);
	return out[0];
}

static void check_dpdk_vfio(struct doctor *d, const struct mg_config *cfg)
{
	char pci[32], path[128], drv[128] = "", fix[160];
	DIR *groups = opendir("/sys/kernel/iommu_groups");
	struct dirent *e;
	unsigned n_groups = 0;
	ssize_t n;

	while (groups && (e = readdir(groups)))
		n_groups += e->d_name[0] != '.';
	if (groups)
		closedir(groups);
	if (!dpdk_pci_arg(cfg->dpdk_args, pci)) {
		doctor_report(d, DOCTOR_OK, "vfio", NULL, "DPDKArgs names no PCI device (-a): a virtual device needs no vfio");
		return;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", pci);
	n = readlink(path, drv, sizeof(drv) - 1);
	drv[n > 0 ? n : 0] = '\0';
	snprintf(fix, sizeof(fix), "modprobe vfio-pci && dpdk-devbind.py -b vfio-pci %s", pci);
	if (access("/sys/bus/pci/devices", F_OK) || (snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", pci),
						      access(path, F_OK)))
		doctor_report(d, DOCTOR_FAIL, "vfio", "lspci -D (and set -a to the NIC's address)",
			      "DPDKArgs -a %s: no such PCI device", pci);
	else if (!strstr(drv, "vfio-pci"))
		doctor_report(d, DOCTOR_FAIL, "vfio", fix, "%s is bound to %s, not vfio-pci", pci,
			      drv[0] ? strrchr(drv, '/') + 1 : "no driver");
	else if (!n_groups)
		doctor_report(d, DOCTOR_WARN, "vfio", "add intel_iommu=on iommu=pt (or amd_iommu=on) to the kernel command line",
			      "%s is on vfio-pci but the IOMMU is off (no IOMMU groups)", pci);
	else
		doctor_report(d, DOCTOR_OK, "vfio", NULL, "%s on vfio-pci, %u IOMMU groups", pci, n_groups);
}

static void check_dpdk(struct doctor *d, const struct mg_config *cfg)
{
#ifdef MG_HAVE_DPDK
	check_dpdk_hugepages(d, cfg);
	check_dpdk_vfio(d, cfg);
#else
	(void)check_dpdk_hugepages;
	(void)check_dpdk_vfio;
	doctor_report(d, DOCTOR_FAIL, "dpdk", "apt install libdpdk-dev && meson setup build -Ddpdk=enabled",
		      "Backend = dpdk, but this meshgate was built without DPDK (%s)", cfg->path);
#endif
}

/* ---- the command --------------------------------------------------------------------------- */

static int doctor_usage(void)
{
	fprintf(stderr, "usage: meshgate doctor [-c FILE] [--json]\n");
	return 2;
}

int doctor_main(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 } };
	const char *path = DOCTOR_DEFAULT_CONF;
	struct mg_config cfg;
	struct doctor *d;
	bool json = false;
	char err[1024];
	int c, ret;

	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		if (c == 'c')
			path = optarg;
		else if (c == 'j')
			json = true;
		else
			return doctor_usage();
	}
	if (optind != argc)
		return doctor_usage();
	if (config_load(&cfg, path, err, sizeof(err))) {
		fprintf(stderr, "meshgate doctor: %s\n", err);
		return 1;
	}
	d = doctor_new();
	if (!d) {
		config_free(&cfg);
		return 1;
	}
	cap_eff = read_cap_eff();
	check_kernel(d);
	check_bpffs(d);
	check_memlock(d, &cfg);
	check_caps(d);
	check_crypto(d, &cfg);
	if (cfg.backend == MG_BACKEND_DPDK)
		check_dpdk(d, &cfg);
	else
		doctor_nic_checks(d, &cfg);
	check_listen_port(d, &cfg);
	check_routes(d, &cfg);
	ret = doctor_print(d, json) ? 1 : 0;
	doctor_free(d);
	config_free(&cfg);
	return ret;
}
