// SPDX-License-Identifier: GPL-2.0-only
/*
 * main.c - process entry. Sequences init and teardown, nothing else:
 *   config -> crypto backend -> device tables -> kernel mirror -> TUN -> XDP program ->
 *   AF_XDP workers -> peers from the config -> control loop (until SIGINT/SIGTERM) -> unwind.
 */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <libgen.h>
#include <signal.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sodium.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <xdp/libxdp.h>
#include "ctldev.h"
#include "mg_config.h"
#include "config.h"
#include "hsglue.h"
#include "crypto/aead.h"
#include "privdrop.h"
#include "netlink/nlmirror.h"
#include "control.h"
#include "takeover.h"
#include "apply.h"
#include "cli/metrics_write.h"
#include "cli/ping.h"
#include "cli/status.h"
#include "cli/doctor.h"
#include "cli/netcheck.h"
#include "wireguard/messages.h"

#ifndef MG_BPF_OBJ_BUILD
#define MG_BPF_OBJ_BUILD ""
#endif
#ifndef MG_BPF_OBJ_INSTALL
#define MG_BPF_OBJ_INSTALL ""
#endif

static const char *bpf_object_path(void)
{
	const char *env = getenv("MESHGATE_BPF_OBJ");

	if (env && *env)
		return env;
	if (!access(MG_BPF_OBJ_BUILD, R_OK))
		return MG_BPF_OBJ_BUILD;
	return MG_BPF_OBJ_INSTALL;
}

static int usage(void)
{
	fprintf(stderr, "usage: meshgate run -c FILE\n"
			"       meshgate check -c FILE\n"
			"       meshgate doctor [-c FILE] [--json]\n"
			"       meshgate status [--json] [-c FILE | -i NAME]\n"
			"       meshgate netcheck [-c FILE | -i NAME] [--derp-map FILE] [--json]\n"
			"       meshgate ping [-c FILE] PEER-OR-IP\n"
			"       meshgate metrics write|print [-c FILE] [PATH]\n"
			"       meshgate --version\n");
	return 2;
}

/* Our addresses on the NIC, for the XDP program's "is it for us" test; re-run on netlink changes,
 * which also removes the addresses that are gone. */
static void steer_local_sync(void *ctx)
{
	struct mg_ctl *dev = ctx;

	if (dev->steer.prog && steer_prog_local_sync(&dev->steer, dev->dp.ifname))
		fprintf(stderr, "meshgate: updating the XDP program's addresses of %s failed\n", dev->dp.ifname);
}

static int device_init(struct mg_ctl *dev, struct mg_config *cfg, const char *ifname)
{
	memset(dev, 0, sizeof(*dev));
	snprintf(dev->dp.name, sizeof(dev->dp.name), "%s", cfg->name);
	snprintf(dev->dp.ifname, sizeof(dev->dp.ifname), "%s", ifname);
	dev->dp.ifindex = if_nametoindex(dev->dp.ifname);
	if (!dev->dp.ifindex)
		return -ENODEV;
	dev->dp.mtu = cfg->mtu;
	/* An exit node forwards everything from peers (0.0.0.0/0, ::/0) to the LAN's gateway.
	 * SIGHUP publishes a new set (control.c reload). */
	dev->dp.routes = mg_routeset_new(cfg->advertise_routes, cfg->n_routes, cfg->advertise_exit_node);
	if (!dev->dp.routes)
		return -ENOMEM;
	dev->dp.tun_fd = -1;
	dev->dp.snat = cfg->snat;
	dev->dp.poll_spin_ns = cfg->poll_spin_us == MG_POLL_BUSY ? UINT64_MAX : cfg->poll_spin_us * 1000ull;
	dev->dp.rekey_after_time_ns = cfg->test_rekey_after_time_s ?
		cfg->test_rekey_after_time_s * NSEC_PER_SEC : REKEY_AFTER_TIME_NS;
	allowedips_init(&dev->dp.allowedips);
	index_table_init(&dev->dp.index);
	CDS_INIT_LIST_HEAD(&dev->peers);
	cookie_checker_init(&dev->cookie, dev->identity.static_public);
	if (ratelimiter_init(&dev->ratelimiter, RATELIMITER_DEFAULT_MAX_ENTRIES))
		return -ENOMEM;
	dev->dp.epfd = epoll_create1(EPOLL_CLOEXEC);
	dev->dp.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dev->dp.epfd < 0 || dev->dp.wake_fd < 0)
		return -errno;
	return 0;
}

static void device_uninit(struct mg_ctl *dev)
{
	dev_remove_all_peers(dev);
	dev_set_filter(dev, NULL);
	free(mg_rcu_xchg_pointer(&dev->dp.addrs, NULL));     /* workers have stopped */
	free(mg_rcu_xchg_pointer(&dev->dp.routes, NULL));   /* workers have stopped */
	free(dev->routes_installed.v);
	mg_rcu_barrier();
	allowedips_uninit(&dev->dp.allowedips);
	ratelimiter_uninit(&dev->ratelimiter);
	if (dev->dp.wake_fd >= 0)
		close(dev->dp.wake_fd);
	if (dev->dp.epfd >= 0)
		close(dev->dp.epfd);
	sodium_memzero(&dev->identity, sizeof(dev->identity));
}

/*
 * Outer packets must fit the NIC: tunnel MTU + outer IPv6 (40) + UDP (8) + WireGuard header and
 * tag (32). A larger MTU setting is lowered, loudly, rather than sending frames the link drops.
 */
#define WG_OVERHEAD_V6 (40 + 8 + 32)

static void mtu_check(struct mg_ctl *dev)
{
	uint32_t link = nl_snapshot_mtu(nlmirror_current(dev->dp.nl));

	if (link && dev->dp.mtu + WG_OVERHEAD_V6 > link) {
		fprintf(stderr, "meshgate: MTU %u does not fit %s (MTU %u) with WireGuard's overhead; using %u\n",
			dev->dp.mtu, dev->dp.ifname, link, link - WG_OVERHEAD_V6);
		dev->dp.mtu = link - WG_OVERHEAD_V6;
	}
}

/*
 * The SNAT port range must never be handed to the router's own sockets: reserve it in this network
 * namespace (net.ipv4.ip_local_reserved_ports, which also covers IPv6), keeping what was there.
 */
static void nat_reserve_ports(void)
{
	const char *path = "/proc/sys/net/ipv4/ip_local_reserved_ports";
	char cur[4096] = "", want[4200];
	FILE *f = fopen(path, "r");

	if (f) {
		if (!fgets(cur, sizeof(cur), f))
			cur[0] = '\0';
		fclose(f);
	}
	cur[strcspn(cur, "\n")] = '\0';
	snprintf(want, sizeof(want), "%s%s%u-%u", cur, cur[0] ? "," : "", NAT_PORT_MIN, NAT_PORT_MAX);
	f = fopen(path, "w");
	if (f) {
		bool ok = fputs(want, f) >= 0;

		if (!fclose(f) && ok)
			return;
	}
	fprintf(stderr, "meshgate: could not reserve ports %u-%u for SNAT in %s: %s\n",
		NAT_PORT_MIN, NAT_PORT_MAX, path, strerror(errno));
}

static int tun_init(struct mg_ctl *dev, const struct mg_ipprefix *cfg_addresses, size_t n_cfg_addresses)
{
	dev->dp.tun_fd = tun_open(dev->dp.name, dev->dp.mtu);
	if (dev->dp.tun_fd < 0)
		return dev->dp.tun_fd;
	return dev_set_addresses(dev, cfg_addresses, n_cfg_addresses);
}

static void ensure_bpffs(void)
{
	struct stat st;

	if (stat("/sys/fs/bpf", &st) == 0 && !mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL))
		fprintf(stderr, "meshgate: mounted bpffs at /sys/fs/bpf\n");
}

static int steer_init(struct mg_ctl *dev, const struct mg_config *cfg)
{
	const char *obj = bpf_object_path();
	struct nic_channels chan;
	char err[512];
	int ret;

	/* Every RX queue needs a worker's socket: what RSS puts on another queue would be lost. */
	ret = nic_channels_fit(&chan, dev->dp.ifname, cfg->queues, cfg->set_channels, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "meshgate: %s: %s\n", cfg->path, err);
		return ret;
	}
	ensure_bpffs();
	ret = steer_prog_attach(&dev->steer, dev->dp.ifindex, obj);
	if (ret) {
		fprintf(stderr, "meshgate: attaching XDP program %s to %s: %s\n", obj, dev->dp.ifname, strerror(-ret));
		nic_channels_restore(&chan);
		return ret;
	}
	dev->steer.chan = chan;
	fprintf(stderr, "meshgate: XDP program attached to %s in %s mode\n", dev->dp.ifname,
		dev->steer.mode == 1 ? "native" : "generic (skb)");
	steer_prog_set_port(&dev->steer, atomic_load(&dev->dp.listen_port));
	steer_prog_set_nat(&dev->steer, dev->dp.snat);
	steer_local_sync(dev);
	nlmirror_set_notify(dev->dp.nl, steer_local_sync, dev);
	return 0;
}

/* One port per queue on the configured backend, then (DPDK) the devices, then the threads. */
/*
 * Detach over rtnetlink, naming our own program (XDP_FLAGS_REPLACE: never someone else's): that
 * needs CAP_NET_ADMIN only. libxdp's detach first looks the attached program up by id, which
 * needs CAP_SYS_ADMIN, gone after privdrop; it then finds nothing left and just frees.
 */
static void steer_uninit(struct mg_ctl *dev)
{
	if (dev->steer.prog) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = xdp_program__fd(dev->steer.prog));

		bpf_xdp_detach(dev->dp.ifindex, dev->steer.mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE :
			       XDP_FLAGS_DRV_MODE, &o);
	}
	steer_prog_detach(&dev->steer);
	nic_channels_restore(&dev->steer.chan);
}

static int workers_init(struct mg_ctl *dev, const struct mg_config *cfg)
{
	unsigned queues = cfg->queues;
	int ret;

	/* calloc would align the array to 16 bytes only: struct worker is laid out in whole cache
	 * lines (its counters, the rings' indices) so that workers share none of them. */
	dev->dp.workers = aligned_alloc(MG_CACHELINE, queues * sizeof(*dev->dp.workers));
	if (!dev->dp.workers)
		return -ENOMEM;
	memset(dev->dp.workers, 0, queues * sizeof(*dev->dp.workers));
	for (unsigned q = 0; q < queues; q++) {
		struct worker *w = &dev->dp.workers[q];

		w->dev = &dev->dp;
		w->id = q;
		/* CPUs: worker q on the q-th CPU of the list (wrapping); without it, wherever the
		 * scheduler puts it. */
		w->cpu = cfg->n_cpus ? cfg->cpus[q % cfg->n_cpus] : -1;
		dev->dp.nworkers = q + 1;
#ifdef MG_HAVE_DPDK
		if (cfg->backend == MG_BACKEND_DPDK) {
			ret = dpdk_port_open(&w->port, q, &dev->dp);
			if (ret) {
				fprintf(stderr, "meshgate: DPDK frame pool for queue %u: %s\n", q, strerror(-ret));
				return ret;
			}
			continue;
		}
#endif
		ret = xsk_port_open(&w->port, dev->dp.ifname, q, dev->steer.xsks_fd);
		if (ret) {
			fprintf(stderr, "meshgate: AF_XDP socket on %s queue %u: %s\n", dev->dp.ifname, q, strerror(-ret));
			return ret;
		}
		fprintf(stderr, "meshgate: %s queue %u: AF_XDP in %s mode\n", dev->dp.ifname, q, w->port.mode);
	}
#ifdef MG_HAVE_DPDK
	if (cfg->backend == MG_BACKEND_DPDK) {
		ret = dpdk_start();
		if (ret)
			return ret;
		fprintf(stderr, "meshgate: DPDK port %s, %u queue%s, exception path through %s\n", cfg->devices[0],
			queues, queues == 1 ? "" : "s", dev->dp.ifname);
	}
#endif
	for (unsigned q = 0; q < queues; q++) {
		ret = worker_start(&dev->dp.workers[q]);
		if (ret && dev->dp.workers[q].cpu >= 0) {
			fprintf(stderr, "meshgate: worker %u on CPU %d (CPUs): %s%s\n", q, dev->dp.workers[q].cpu,
				strerror(-ret), ret == -EINVAL ? " (offline, or outside this process's affinity)" : "");
			return ret;
		}
		if (ret)
			return ret;
		if (dev->dp.workers[q].cpu >= 0)
			fprintf(stderr, "meshgate: worker %u pinned to CPU %d\n", q, dev->dp.workers[q].cpu);
	}
	return 0;
}

static void workers_uninit(struct mg_ctl *dev)
{
	for (unsigned q = 0; q < dev->dp.nworkers; q++)
		worker_stop(&dev->dp.workers[q]);
#ifdef MG_HAVE_DPDK
	dpdk_stop();     /* the PMDs give back every frame they hold */
#endif
	for (unsigned q = 0; q < dev->dp.nworkers; q++) {
		struct worker *w = &dev->dp.workers[q];
		uint64_t st[6] = { 0 };

		if (!w->port.ops)
			continue;
		w->port.ops->reclaim(&w->port);
		if (!io_port_stats(&w->port, st))
			fprintf(stderr, "meshgate: queue %u: xsk rx_dropped %lu rx_invalid %lu tx_invalid %lu "
				"rx_ring_full %lu fill_empty %lu tx_empty %lu\n", q, st[0], st[1], st[2], st[3], st[4], st[5]);
		fprintf(stderr, "meshgate: queue %u: rx %lu tx %lu, %s mode, frames unaccounted %u\n", q,
			w->ctr.rx_packets, w->ctr.tx_packets, w->port.mode, w->port.ops->unaccounted(&w->port));
		assert(w->port.ops->unaccounted(&w->port) == 0);   /* every frame came back */
		io_port_close(&w->port);
	}
	free(dev->dp.workers);
	dev->dp.workers = NULL;
	dev->dp.nworkers = 0;
}

/*
 * Backend = dpdk: EAL and the NIC port before anything looks at interfaces, because the kernel
 * interface meshgate mirrors is then the exception TAP that this creates ("<Name>-lan").
 */
static int backend_init(const struct mg_config *cfg, char ifname[64], struct takeover *to)
{
	/* A DPDK run that could not give the NIC its configuration back (SIGKILL, crash) left a state
	 * file; restored whichever backend starts now (one switched to xdp needs the NIC's address). */
	int ret = takeover_recover(cfg->state_dir);

	if (ret == -EBUSY)
		return ret;
	snprintf(ifname, 64, "%s", cfg->devices[0]);
	if (cfg->backend != MG_BACKEND_DPDK)
		return 0;
#ifdef MG_HAVE_DPDK
	char err[1024], nic[IF_NAMESIZE];

	snprintf(ifname, 64, "%.11s-lan", cfg->name);
	if (dpdk_eal_init(cfg->dpdk_args, cfg->devices[0], ifname, 64, err, sizeof(err))) {
		fprintf(stderr, "meshgate: %s: %s\n", cfg->path, err);
		return -EINVAL;
	}
	/* The kernel now reaches the LAN through the TAP: the NIC's addresses, routes and neighbours
	 * go there (a NIC on vfio-pci has no kernel interface left, and nothing to move). */
	if (dpdk_probe_kernel_ifname("", cfg->dpdk_args, cfg->devices[0], nic, sizeof(nic))) {
		fprintf(stderr, "meshgate: DPDK port %s has no kernel interface: configure %s's address and routes "
			"yourself\n", cfg->devices[0], ifname);
		return 0;
	}
	ret = takeover_start(to, cfg->state_dir, nic, ifname);
	if (ret)
		dpdk_eal_cleanup();
	return ret;
#else
	(void)to;
	fprintf(stderr, "meshgate: %s: Backend = dpdk: this meshgate was built without DPDK (meson -Ddpdk=enabled)\n",
		cfg->path);
	return -ENOTSUP;
#endif
}

static int cmd_run(struct mg_config *cfg)
{
	struct mg_ctl *dev = calloc(1, sizeof(*dev));
	struct takeover takeover = { 0 };
	struct privdrop pd;
	char ifname[64];
	int ret;

	if (!dev)
		return 1;
	ret = privdrop_init(&pd, cfg->user);
	if (ret) {
		fprintf(stderr, "meshgate: %s: User = %s: %s\n", cfg->path, cfg->user,
			ret == -ESRCH ? "no such user" : strerror(-ret));
		goto out_free;
	}
	ret = aead_init(cfg->crypto);
	if (ret) {
		fprintf(stderr, "meshgate: %s: Crypto = %s: %s\n", cfg->path, cfg->crypto, aead_strerror(cfg->crypto, ret));
		goto out_free;
	}
	mg_rcu_register_thread();
	ret = backend_init(cfg, ifname, &takeover);
	if (ret)
		goto out_backend;
	ret = device_init(dev, cfg, ifname);
	if (ret) {
		fprintf(stderr, "meshgate: %s: Device = %s: %s\n", cfg->path, ifname, strerror(-ret));
		goto out_dev;
	}
	atomic_store(&dev->dp.listen_port, cfg->wg.listen_port > 0 ? cfg->wg.listen_port : 41641);
	ret = nlmirror_init(&dev->dp.nl, dev->dp.ifindex, dev->dp.epfd);
	if (ret) {
		fprintf(stderr, "meshgate: netlink mirror of %s: %s\n", dev->dp.ifname, strerror(-ret));
		goto out_dev;
	}
	mtu_check(dev);
	ret = tun_init(dev, cfg->addresses, cfg->n_addresses);
	if (ret) {
		fprintf(stderr, "meshgate: TUN device %s: %s\n", dev->dp.name, strerror(-ret));
		goto out_nl;
	}
	/* DPDK owns the NIC: no XDP program, io/dpdk_steer.c decides instead. */
	ret = cfg->backend == MG_BACKEND_XDP ? steer_init(dev, cfg) : 0;
	if (ret)
		goto out_tun;
	ret = nat_init(&dev->dp.nat, cfg->queues);
	if (ret)
		goto out_tun;
	ret = flowtrack_init(&dev->dp.flows, cfg->queues);
	if (ret)
		goto out_workers;
	nat_set_lan_flows(&dev->dp.nat, &dev->dp.flows);
	if (dev->dp.snat)
		nat_reserve_ports();
	ret = workers_init(dev, cfg);
	if (ret)
		goto out_workers;
	/* Joined to Headscale: the WireGuard identity is the node key kept in StateDir. */
	if (cfg->login_server[0] && !cfg->wg.has_private_key) {
		ret = hsglue_node_private_key(cfg, cfg->wg.private_key);
		if (ret) {
			fprintf(stderr, "meshgate: node key in %s: %s\n", cfg->state_dir, strerror(-ret));
			goto out_workers;
		}
		cfg->wg.has_private_key = true;
	}
	/* Before the first peer: what the tailnet may reach until a policy arrives (apply.c). */
	ret = dev_filter_init(dev, cfg);
	if (ret)
		goto out_workers;
	ret = dev_apply(dev, &cfg->wg, mg_now());
	if (ret) {
		fprintf(stderr, "meshgate: applying %s: %s\n", cfg->path, strerror(-ret));
		goto out_workers;
	}
	/* Every privileged setup step is behind us: drop to User = and the runtime capabilities. */
	ret = privdrop_apply(&pd);
	if (ret) {
		fprintf(stderr, "meshgate: dropping privileges: %s\n", strerror(-ret));
		goto out_workers;
	}
	ret = control_run(dev, cfg);
out_workers:
	workers_uninit(dev);
	flowtrack_uninit(&dev->dp.flows);
	nat_uninit(&dev->dp.nat);
	steer_uninit(dev);
out_tun:
	if (dev->dp.tun_fd >= 0)
		tun_close(dev->dp.tun_fd, dev->dp.name);
out_nl:
	nlmirror_uninit(dev->dp.nl);
out_dev:
	device_uninit(dev);
#ifdef MG_HAVE_DPDK
	if (cfg->backend == MG_BACKEND_DPDK)
		dpdk_eal_cleanup();
#endif
out_backend:
	/* The TAP is gone with the EAL: the NIC gets its configuration back. */
	takeover_finish(&takeover);
	mg_rcu_unregister_thread();
out_free:
	free(dev);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct mg_config cfg;
	sigset_t mask;
	const char *path = NULL;
	char err[1024];
	int ret;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("meshgate %s\n", MG_VERSION);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "status"))
		return status_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "ping"))
		return ping_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "metrics"))
		return metrics_write_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "netcheck"))
		return netcheck_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "doctor"))
		return doctor_main(argc - 1, argv + 1);
	if (argc != 4 || strcmp(argv[2], "-c"))
		return usage();
	path = argv[3];
	if (sodium_init() < 0)
		return 1;
	/* Signals are read by the control loop (signalfd); block them before any thread exists. */
	control_block_signals(&mask);
	/* BPF maps and UMEM are charged to locked memory; the default 8 MiB is too small. */
	setrlimit(RLIMIT_MEMLOCK, &(struct rlimit){ RLIM_INFINITY, RLIM_INFINITY });
	if (config_load(&cfg, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (cfg.filter_file[0] && dev_load_filter_file(NULL, cfg.filter_file, err, sizeof(err))) {
		fprintf(stderr, "%s: FilterFile: %s\n", path, err);
		config_free(&cfg);
		return 1;
	}
	if (!strcmp(argv[1], "check")) {
		printf("%s: ok\n", path);
		ret = 0;
	} else if (!strcmp(argv[1], "run")) {
		if (!cfg.n_devices) {
			fprintf(stderr, "%s: Device: no NIC given ([Interface] Device = eth0)\n", path);
			ret = 1;
		} else {
			ret = cmd_run(&cfg);
		}
	} else {
		ret = usage();
	}
	config_free(&cfg);
	return ret;
}
