// SPDX-License-Identifier: GPL-2.0-only
/*
 * dpdk.c - the DPDK backend (see dpdk.h for the frame <-> mbuf design and the exception path).
 *
 * Frame accounting: a frame is in the worker's pool, in the mbuf pool's free list, or held by a
 * PMD (an rx descriptor, or a transmitted mbuf not yet freed). After dpdk_stop the PMDs hold
 * nothing, so pool + mbuf pool = every frame.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include "io/dpdk.h"
#include "io/dpdk_probe.h"
#include "io/dpdk_steer.h"
#include "device.h"
#include "netlink/nlmirror.h"

#define NB_RXD 1024u
#define NB_TXD 1024u
#define MAX_PORTS 64u
#define EXC_BURST 32u
/* Frames the worker keeps for packets it builds itself (AF_XDP: the fill ring's reserve). */
#define POOL_RESERVE 256u
_Static_assert(IO_RX_HEADROOM > RTE_PKTMBUF_HEADROOM, "mbuf buffer inside the frame");

/* Where an mbuf's buffer starts in its frame: DPDK's default headroom then puts the packet at
 * io_rx_offset() (AF_XDP's offset plus the frame's colour). */
static inline uint32_t buf_shift(uint64_t base)
{
	return io_rx_offset(base) - RTE_PKTMBUF_HEADROOM;
}

struct dpdk_be {
	struct rte_mempool *mp;
	struct rte_mbuf **mbuf;          /* by frame index */
	struct mg_device *dev;
	struct rte_mbuf *burst[IO_NUM_FRAMES < 256 ? IO_NUM_FRAMES : 256];
	uint64_t exc_to_kernel, exc_from_kernel, exc_dropped;
	uint64_t steer[STEER_NSTATS];    /* verdicts of this queue's frames (written by its worker) */
};

static struct {
	uint16_t nic, tap;
	unsigned nports;
	struct io_port *ports[MAX_PORTS];
	bool started;
} g;

static inline struct dpdk_be *be(const struct io_port *p)
{
	return p->be;
}

static inline uint64_t mbuf_addr(const struct io_port *p, const struct rte_mbuf *m)
{
	return (uint64_t)((uint8_t *)m->buf_addr + m->data_off - p->area);
}

/* ---- the worker's side ------------------------------------------------------------------------ */

/* Kernel-bound frames from the NIC to the TAP, and what the kernel sends on the TAP to the NIC:
 * worker q uses queue q of both (net_tap wants as many rx as tx queues, and the kernel spreads
 * its TAP output over them). */
static void exception_out(struct io_port *p, struct rte_mbuf **m, unsigned n)
{
	unsigned sent = n ? rte_eth_tx_burst(g.tap, (uint16_t)p->queue, m, (uint16_t)n) : 0;

	be(p)->exc_to_kernel += sent;
	be(p)->exc_dropped += n - sent;
	for (unsigned i = sent; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

static void exception_in(struct io_port *p)
{
	struct rte_mbuf *m[EXC_BURST];
	unsigned n = rte_eth_rx_burst(g.tap, (uint16_t)p->queue, m, EXC_BURST), sent;

	if (!n)
		return;
	sent = rte_eth_tx_burst(g.nic, (uint16_t)p->queue, m, (uint16_t)n);
	be(p)->exc_from_kernel += sent;
	be(p)->exc_dropped += n - sent;
	for (unsigned i = sent; i < n; i++)
		rte_pktmbuf_free(m[i]);
}

static unsigned dpdk_rx(struct io_port *p, struct io_desc *d, unsigned max)
{
	struct dpdk_be *b = be(p);
	struct rte_mbuf **m = b->burst, *exc[256];
	const struct nl_snapshot *nl = nlmirror_current(b->dev->nl);
	unsigned n, k = 0, e = 0;

	exception_in(p);
	if (max > ARRAY_SIZE(b->burst))
		max = ARRAY_SIZE(b->burst);
	n = rte_eth_rx_burst(g.nic, (uint16_t)p->queue, m, (uint16_t)max);
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *frame = rte_pktmbuf_mtod(m[i], const uint8_t *);
		enum dpdk_steer_action a = m[i]->nb_segs != 1 ? DPDK_STEER_KERNEL :
			dpdk_steer_frame(b->dev, nl, frame, m[i]->data_len, b->steer);

		if (a == DPDK_STEER_WORKER)
			d[k++] = (struct io_desc){ .addr = mbuf_addr(p, m[i]), .len = m[i]->data_len };
		else if (a == DPDK_STEER_KERNEL)
			exc[e++] = m[i];
		else
			rte_pktmbuf_free(m[i]);      /* a first outer fragment to the listen port */
	}
	exception_out(p, exc, e);
	return k;
}

static unsigned dpdk_tx(struct io_port *p, const struct io_desc *d, unsigned cnt)
{
	struct dpdk_be *b = be(p);
	struct rte_mbuf **m = b->burst;
	unsigned sent = 0;

	while (sent < cnt) {
		unsigned n = cnt - sent < ARRAY_SIZE(b->burst) ? cnt - sent : ARRAY_SIZE(b->burst), done;

		for (unsigned i = 0; i < n; i++) {
			uint64_t addr = d[sent + i].addr, base = io_frame_base(addr);
			struct rte_mbuf *mb = b->mbuf[base / IO_FRAME_SIZE];

			/* The frame may have been built by the worker (control packets) or received with
			 * other offsets: describe it afresh, one segment. */
			mb->data_off = (uint16_t)(addr - base - buf_shift(base));
			mb->data_len = (uint16_t)d[sent + i].len;
			mb->pkt_len = d[sent + i].len;
			mb->nb_segs = 1;
			mb->next = NULL;
			mb->ol_flags &= RTE_MBUF_F_EXTERNAL;   /* keep "pinned external buffer" */
			m[i] = mb;
		}
		done = rte_eth_tx_burst(g.nic, (uint16_t)p->queue, m, (uint16_t)n);
		sent += done;
		if (done < n)
			break;
	}
	return sent;
}

/* Spare frames to the mbuf pool (where the PMD takes rx buffers from). */
static void dpdk_refill(struct io_port *p)
{
	struct dpdk_be *b = be(p);
	struct rte_mbuf **m = b->burst;

	while (p->npool > POOL_RESERVE) {
		unsigned n = p->npool - POOL_RESERVE;

		if (n > ARRAY_SIZE(b->burst))
			n = ARRAY_SIZE(b->burst);
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *mb = b->mbuf[io_frame_get(p) / IO_FRAME_SIZE];

			/* rte_mbuf_raw_free's contract: one reference, one segment. */
			mb->next = NULL;
			mb->nb_segs = 1;
			rte_mbuf_refcnt_set(mb, 1);
			m[i] = mb;
		}
		rte_mempool_put_bulk(b->mp, (void *const *)m, n);
	}
}

/* Keep half the reserve in the worker's pool: take frames back from the mbuf pool. */
static void dpdk_reclaim(struct io_port *p)
{
	struct dpdk_be *b = be(p);
	struct rte_mbuf **m = b->burst;
	unsigned n;

	if (p->npool >= POOL_RESERVE / 2)
		return;
	n = POOL_RESERVE - p->npool;
	if (rte_mempool_get_bulk(b->mp, (void **)m, n))
		return;
	for (unsigned i = 0; i < n; i++)
		io_frame_put(p, mbuf_addr(p, m[i]));
}

static void dpdk_nop(struct io_port *p)
{
	(void)p;
}

/* No interrupt mode here: a short sleep (the worker calls this only after its Poll spin time without work). */
static void dpdk_idle(struct io_port *p, int timeout_ms)
{
	(void)p;
	nanosleep(&(struct timespec){ .tv_nsec = (long)timeout_ms * 1000000L }, NULL);
}

static uint32_t dpdk_unaccounted(struct io_port *p)
{
	return IO_NUM_FRAMES - p->npool - rte_mempool_avail_count(be(p)->mp);
}

static void dpdk_close(struct io_port *p)
{
	struct dpdk_be *b = be(p);

	if (b) {
		fprintf(stderr, "meshgate: dpdk queue %u: exception path %lu to the kernel, %lu from it, %lu dropped\n",
			p->queue, b->exc_to_kernel, b->exc_from_kernel, b->exc_dropped);
		if (p->queue < MAX_PORTS)
			g.ports[p->queue] = NULL;
		rte_mempool_free(b->mp);
		free(b->mbuf);
		free(b);
	}
	if (p->area)
		rte_extmem_unregister(p->area, (size_t)IO_NUM_FRAMES * IO_FRAME_SIZE);
	io_port_free(p);
}

static const struct io_ops dpdk_ops = {
	.name = "dpdk",
	.rx = dpdk_rx,
	.tx = dpdk_tx,
	.reclaim = dpdk_reclaim,
	.refill = dpdk_refill,
	.kick = dpdk_nop,
	.idle = dpdk_idle,
	.unaccounted = dpdk_unaccounted,
	.close = dpdk_close,
};

/* ---- setup (control thread) ------------------------------------------------------------------ */

/* The pool over the area; every mbuf's buffer moved buf_shift() into its frame; the index table. */
static int pool_create(struct io_port *p, struct dpdk_be *b)
{
	size_t len = (size_t)IO_NUM_FRAMES * IO_FRAME_SIZE;
	rte_iova_t iova = rte_eal_iova_mode() == RTE_IOVA_VA ? (rte_iova_t)(uintptr_t)p->area : RTE_BAD_IOVA;
	struct rte_pktmbuf_extmem ext = { .buf_ptr = p->area, .buf_iova = iova, .buf_len = len,
					  .elt_size = IO_FRAME_SIZE };
	struct rte_mbuf **all;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t port;

	/* Registered so PMDs may DMA into it; a real NIC also needs the mapping for its IOMMU. */
	if (rte_extmem_register(p->area, len, NULL, 0, 4096) && rte_errno != EEXIST)
		return -rte_errno;
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;

		if (iova != RTE_BAD_IOVA && !rte_eth_dev_info_get(port, &info) && info.device)
			rte_dev_dma_map(info.device, p->area, iova, len);   /* -ENOTSUP on vdevs: fine */
	}
	snprintf(name, sizeof(name), "mg_frames_%u", p->queue);
	/* No per-lcore cache: our threads are not EAL lcores, and the pool is this worker's alone. */
	b->mp = rte_pktmbuf_pool_create_extbuf(name, IO_NUM_FRAMES, 0, 0, IO_FRAME_SIZE, (int)rte_socket_id(), &ext, 1);
	if (!b->mp)
		return -rte_errno;
	b->mbuf = calloc(IO_NUM_FRAMES, sizeof(*b->mbuf));
	all = calloc(IO_NUM_FRAMES, sizeof(*all));
	if (!b->mbuf || !all || rte_mempool_get_bulk(b->mp, (void **)all, IO_NUM_FRAMES)) {
		free(all);
		return -ENOMEM;
	}
	io_pool_clear(p);
	for (unsigned i = 0; i < IO_NUM_FRAMES; i++) {
		struct rte_mbuf *m = all[i];
		uint64_t base = (uint64_t)((uint8_t *)m->buf_addr - p->area);
		uint32_t shift = buf_shift(base);

		m->buf_addr = (uint8_t *)m->buf_addr + shift;
		if (m->buf_iova != RTE_BAD_IOVA)
			m->buf_iova += shift;
		m->buf_len = (uint16_t)(IO_FRAME_SIZE - shift);
		m->data_off = RTE_PKTMBUF_HEADROOM;
		b->mbuf[base / IO_FRAME_SIZE] = m;
		io_frame_put(p, base);
	}
	free(all);
	return 0;
}

int dpdk_port_open(struct io_port *p, uint32_t queue, struct mg_device *dev)
{
	struct dpdk_be *b;
	int ret;

	if (queue >= MAX_PORTS)
		return -EINVAL;
	ret = io_port_alloc(p, queue);
	if (ret)
		return ret;
	p->ops = &dpdk_ops;
	p->mode = "dpdk";
	p->zerocopy = true;               /* the PMD reads and writes our frames */
	p->be = b = calloc(1, sizeof(*b));
	if (!b) {
		dpdk_close(p);
		return -ENOMEM;
	}
	b->dev = dev;
	ret = pool_create(p, b);
	if (ret) {
		dpdk_close(p);
		return ret;
	}
	dpdk_refill(p);
	g.ports[queue] = p;
	if (queue + 1 > g.nports)
		g.nports = queue + 1;
	return 0;
}

static int port_setup(uint16_t port, unsigned nrx, unsigned ntx, const char *what)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	int ret = rte_eth_dev_info_get(port, &info);

	if (ret)
		return ret;
	if (nrx > 1 && info.flow_type_rss_offloads) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP | RTE_ETH_RSS_TCP) &
						   info.flow_type_rss_offloads;
	}
	ret = rte_eth_dev_configure(port, (uint16_t)nrx, (uint16_t)ntx, &conf);
	if (ret) {
		fprintf(stderr, "meshgate: dpdk: configuring the %s port (%u rx, %u tx queues): %s\n", what, nrx, ntx,
			rte_strerror(-ret));
		return ret;
	}
	for (unsigned q = 0; q < ntx; q++) {
		ret = rte_eth_tx_queue_setup(port, (uint16_t)q, NB_TXD, (unsigned)rte_eth_dev_socket_id(port), NULL);
		if (ret) {
			fprintf(stderr, "meshgate: dpdk: %s tx queue %u: %s\n", what, q, rte_strerror(-ret));
			return ret;
		}
	}
	for (unsigned q = 0; q < nrx; q++) {
		ret = rte_eth_rx_queue_setup(port, (uint16_t)q, NB_RXD, (unsigned)rte_eth_dev_socket_id(port), NULL,
					     be(g.ports[q])->mp);
		if (ret) {
			fprintf(stderr, "meshgate: dpdk: %s rx queue %u: %s\n", what, q, rte_strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int dpdk_start(void)
{
	int ret;

	for (unsigned q = 0; q < g.nports; q++)
		if (!g.ports[q])
			return -EINVAL;
	ret = port_setup(g.nic, g.nports, g.nports, "NIC");
	if (!ret)
		ret = port_setup(g.tap, g.nports, g.nports, "exception (TAP)");
	if (!ret)
		ret = rte_eth_dev_start(g.tap);
	if (!ret)
		ret = rte_eth_dev_start(g.nic);
	if (ret) {
		fprintf(stderr, "meshgate: dpdk: starting the ports: %s\n", rte_strerror(-ret));
		return ret;
	}
	g.started = true;
	/* Frames for the router's MAC only would do, but vdevs over a kernel interface (af_packet,
	 * af_xdp) see what that interface sees; promiscuous keeps real NICs alike. */
	rte_eth_promiscuous_enable(g.nic);
	return 0;
}

void dpdk_stop(void)
{
	if (!g.started)
		return;
	rte_eth_dev_stop(g.nic);
	rte_eth_dev_stop(g.tap);
	/* Releasing the queues hands every rx buffer and unfinished tx mbuf back to its pool. */
	rte_eth_dev_close(g.nic);
	rte_eth_dev_close(g.tap);
	g.started = false;
}

int dpdk_steer_stats(uint64_t out[STEER_NSTATS])
{
	memset(out, 0, STEER_NSTATS * sizeof(*out));
	if (!g.nports)
		return -ENODEV;
	for (unsigned q = 0; q < g.nports; q++)
		for (unsigned k = 0; g.ports[q] && k < STEER_NSTATS; k++)
			out[k] += be(g.ports[q])->steer[k];
	return 0;
}

void dpdk_eal_cleanup(void)
{
	rte_eal_cleanup();
}

/* ---- EAL ------------------------------------------------------------------------------------- */

#define MAX_ARGS 64

static int split_args(char *buf, char **argv, int max)
{
	int argc = 0;

	for (char *tok = strtok(buf, " \t"); tok && argc < max; tok = strtok(NULL, " \t"))
		argv[argc++] = tok;
	return argc;
}

static bool is_exception_driver(const char *drv)
{
	return drv && (!strcmp(drv, "net_tap") || !strcmp(drv, "net_virtio_user"));
}

int dpdk_eal_init(const char *args, const char *device, char *tap_name, size_t tap_name_len,
		  char *err, size_t errlen)
{
	char *buf = strdup(args ? args : ""), *argv[MAX_ARGS + 4];
	struct rte_ether_addr mac;
	bool have_prefix = false, have_tap = false, no_huge = false;
	int argc = 0, n, ret;
	uint16_t port;

	if (!buf)
		return snprintf(err, errlen, "out of memory"), -1;
	argv[argc++] = "meshgate";
	n = split_args(buf, argv + argc, MAX_ARGS);
	for (int i = argc; i < argc + n; i++) {
		if (!strncmp(argv[i], "--file-prefix", 13) || !strcmp(argv[i], "--in-memory") ||
		    !strcmp(argv[i], "--no-shconf"))
			have_prefix = true;
		no_huge |= !strcmp(argv[i], "--no-huge");
		if (strstr(argv[i], "net_tap") || strstr(argv[i], "virtio_user"))
			have_tap = true;
	}
	argc += n;
	/* No shared runtime files: several instances (and labs) side by side. --no-huge implies
	 * legacy memory, which --in-memory refuses; --no-shconf is its part that matters here. */
	if (!have_prefix)
		argv[argc++] = no_huge ? "--no-shconf" : "--in-memory";
	argv[argc] = NULL;
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		struct dpdk_probe_in in = { .root = "", .args = args ? args : "", .device = device,
					    .eal_errno = rte_errno, .self_pid = getpid() };
		char why[768];

		/* The EAL says "Permission denied" for most host problems: name the real one. */
		if (dpdk_probe_eal(&in, why, sizeof(why)) == DPDK_CAUSE_UNKNOWN)
			snprintf(why, sizeof(why), "%s", rte_strerror(rte_errno));
		snprintf(err, errlen, "DPDK EAL init (DPDKArgs = %s): %s", in.args, why);
		free(buf);
		return -1;
	}
	free(buf);       /* EAL keeps no pointers into argv after init */
	/* Operators size nr_hugepages for this; say which memory the pools came from. */
	fprintf(stderr, "meshgate: DPDK memory: %s\n",
		rte_eal_has_hugepages() ? "hugepages" : "ordinary pages (--no-huge)");
	if (rte_eth_dev_get_port_by_name(device, &g.nic)) {
		char names[512] = "";
		size_t off = 0;

		RTE_ETH_FOREACH_DEV(port) {
			char nm[RTE_ETH_NAME_MAX_LEN];

			if (!rte_eth_dev_get_name_by_port(port, nm) && off < sizeof(names))
				off += (size_t)snprintf(names + off, sizeof(names) - off, " %s", nm);
		}
		snprintf(err, errlen, "Device = %s is not a DPDK port (ports:%s)", device, off ? names : " none");
		return -1;
	}
	if (rte_eth_macaddr_get(g.nic, &mac)) {
		snprintf(err, errlen, "%s: no MAC address", device);
		return -1;
	}
	if (!have_tap) {
		char devargs[128];

		snprintf(devargs, sizeof(devargs), "net_tap_meshgate,iface=%s,mac=" RTE_ETHER_ADDR_PRT_FMT,
			 tap_name, RTE_ETHER_ADDR_BYTES(&mac));
		if (rte_dev_probe(devargs)) {
			snprintf(err, errlen, "creating the exception TAP %s: %s", tap_name, rte_strerror(rte_errno));
			return -1;
		}
	}
	/* The exception port: the TAP (or virtio_user) that is not the NIC. */
	g.tap = UINT16_MAX;
	RTE_ETH_FOREACH_DEV(port) {
		struct rte_eth_dev_info info;

		if (port != g.nic && !rte_eth_dev_info_get(port, &info) && is_exception_driver(info.driver_name)) {
			g.tap = port;
			break;
		}
	}
	if (g.tap == UINT16_MAX) {
		snprintf(err, errlen, "no exception port (net_tap or virtio_user) among the DPDK ports");
		return -1;
	}
	if (have_tap) {
		struct rte_eth_dev_info info;

		/* A TAP given in DPDKArgs: its kernel name is its "iface" (net_tap names the netdev
		 * after the port when none is given); the NIC's MAC so replies come back to us. */
		rte_eth_dev_info_get(g.tap, &info);
		rte_eth_dev_default_mac_addr_set(g.tap, &mac);
		if (info.if_index && tap_name_len >= IF_NAMESIZE)
			if_indextoname(info.if_index, tap_name);
	}
	return 0;
}
