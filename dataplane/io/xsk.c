// SPDX-License-Identifier: GPL-2.0-only
/*
 * xsk.c - AF_XDP socket and UMEM setup, ring servicing and the worker's frame pool.
 * The XDP program is ours (bpf/xdp_steer.bpf.c, attached by xsk_prog.c), so libxdp is told
 * not to load its default one; the socket is entered in our XSKMAP by queue index.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include "io/xsk.h"
#include "mg.h"

static int umem_create(struct xsk_port *p)
{
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_SIZE,
		.comp_size = XSK_RING_SIZE,
		.frame_size = XSK_FRAME_SIZE,
		/* 2 bytes after the kernel's 256: the 14-byte Ethernet header then leaves every IP
		 * header (outer, and inner after the 16-byte WireGuard header) 4-byte aligned. */
		.frame_headroom = XSK_RX_ALIGN_PAD,
	};
	size_t size = (size_t)XSK_NUM_FRAMES * XSK_FRAME_SIZE;

	p->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		return -errno;
	}
	return xsk_umem__create(&p->umem, p->area, size, &p->fill, &p->comp, &ucfg);
}

static int socket_create(struct xsk_port *p, const char *ifname, uint16_t bind_flags)
{
	struct xsk_socket_config scfg = {
		.rx_size = XSK_RING_SIZE,
		.tx_size = XSK_RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};

	return xsk_socket__create(&p->xsk, ifname, p->queue, p->umem, &p->rx, &p->tx, &scfg);
}

int xsk_port_open(struct xsk_port *p, const char *ifname, uint32_t queue, int xsks_map_fd)
{
	int ret;

	memset(p, 0, sizeof(*p));
	p->queue = queue;
	p->pool = calloc(XSK_NUM_FRAMES, sizeof(*p->pool));
	if (!p->pool)
		return -ENOMEM;
	ret = umem_create(p);
	if (ret)
		goto err_umem;
	/* Zero-copy where the driver has it; veth and most virtual NICs only copy. */
	ret = socket_create(p, ifname, XDP_ZEROCOPY);
	p->zerocopy = !ret;
	if (ret)
		ret = socket_create(p, ifname, XDP_COPY);
	if (ret)
		goto err_socket;
	p->fd = xsk_socket__fd(p->xsk);
	ret = xsk_socket__update_xskmap(p->xsk, xsks_map_fd);
	if (ret)
		goto err_map;
	for (uint32_t i = 0; i < XSK_NUM_FRAMES; i++)
		p->pool[p->npool++] = (uint64_t)i * XSK_FRAME_SIZE;
	xsk_port_refill(p);
	return 0;

err_map:
	xsk_socket__delete(p->xsk);
err_socket:
	xsk_umem__delete(p->umem);
err_umem:
	if (p->area)
		munmap(p->area, (size_t)XSK_NUM_FRAMES * XSK_FRAME_SIZE);
	free(p->pool);
	memset(p, 0, sizeof(*p));
	return ret;
}

void xsk_port_close(struct xsk_port *p)
{
	if (!p->pool)
		return;
	if (p->xsk)
		xsk_socket__delete(p->xsk);
	if (p->umem)
		xsk_umem__delete(p->umem);
	if (p->area)
		munmap(p->area, (size_t)XSK_NUM_FRAMES * XSK_FRAME_SIZE);
	free(p->pool);
	memset(p, 0, sizeof(*p));
}

/*
 * Keep the fill ring as full as the pool allows, but hold back a reserve so the worker can
 * always build control-originated packets (handshake replies) even when the NIC floods us.
 */
#define POOL_RESERVE 256u

void xsk_port_refill(struct xsk_port *p)
{
	uint32_t idx, n, want;

	if (p->npool <= POOL_RESERVE)
		return;
	/* reserve() is all or nothing: ask for what fits. */
	want = xsk_prod_nb_free(&p->fill, p->npool - POOL_RESERVE);
	if (want > p->npool - POOL_RESERVE)
		want = p->npool - POOL_RESERVE;
	n = want ? xsk_ring_prod__reserve(&p->fill, want, &idx) : 0;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = p->pool[--p->npool];
	if (n)
		xsk_ring_prod__submit(&p->fill, n);
	if (xsk_ring_prod__needs_wakeup(&p->fill)) {
		p->fill_kicks++;
		recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
}

void xsk_port_reclaim(struct xsk_port *p)
{
	uint32_t idx, n;

	n = xsk_ring_cons__peek(&p->comp, XSK_RING_SIZE, &idx);
	for (uint32_t i = 0; i < n; i++)
		xsk_port_frame_put(p, *xsk_ring_cons__comp_addr(&p->comp, idx + i));
	if (n) {
		xsk_ring_cons__release(&p->comp, n);
		p->tx_inflight -= n;
	}
}

/*
 * In copy mode the kernel transmits only during sendto(), and at most a small batch per call
 * (TX_BATCH_SIZE in net/xdp/xsk.c), so one kick per loop lets the TX ring fill under load. Kick
 * until the kernel has taken everything we submitted or says "later" (EAGAIN/EBUSY/ENOBUFS).
 */
#define KICKS_MAX 16

void xsk_port_kick_tx(struct xsk_port *p)
{
	for (unsigned i = 0; i < KICKS_MAX; i++) {
		if (!p->tx_inflight || !xsk_ring_prod__needs_wakeup(&p->tx))
			return;
		if (xsk_prod_nb_free(&p->tx, XSK_RING_SIZE) == XSK_RING_SIZE)
			return;          /* the kernel consumed every descriptor */
		p->tx_kicks++;
		if (sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EINTR)
			return;
	}
}

int xsk_port_stats(const struct xsk_port *p, uint64_t out[6])
{
	struct xdp_statistics st;
	socklen_t len = sizeof(st);

	if (getsockopt(p->fd, SOL_XDP, XDP_STATISTICS, &st, &len))
		return -errno;
	out[0] = st.rx_dropped;
	out[1] = st.rx_invalid_descs;
	out[2] = st.tx_invalid_descs;
	out[3] = st.rx_ring_full;
	out[4] = st.rx_fill_ring_empty_descs;
	out[5] = st.tx_ring_empty_descs;
	return 0;
}

/*
 * Frames that are neither in the pool nor legitimately with the kernel (fill ring, unread rx
 * ring, unfinished tx). Nonzero at shutdown, after the worker has stopped, is a leak.
 */
uint32_t xsk_port_frames_unaccounted(struct xsk_port *p)
{
	uint32_t fill = XSK_RING_SIZE - xsk_prod_nb_free(&p->fill, XSK_RING_SIZE);
	uint32_t rx = xsk_cons_nb_avail(&p->rx, XSK_RING_SIZE);

	return XSK_NUM_FRAMES - p->npool - fill - rx - p->tx_inflight;
}
