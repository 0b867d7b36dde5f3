// SPDX-License-Identifier: GPL-2.0-only
/*
 * xsk.c - the AF_XDP backend: socket and UMEM setup over the port's frame area, ring servicing.
 * The XDP program is ours (bpf/xdp_steer.bpf.c, attached by xsk_prog.c), so libxdp is told
 * not to load its default one; the socket is entered in our XSKMAP by queue index.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>
#include "io/xsk.h"
#include "mg.h"

struct xsk_be {
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	uint32_t tx_inflight;          /* submitted to tx, not yet completed */
};

static int umem_create(struct io_port *p, struct xsk_be *x)
{
	struct xsk_umem_config ucfg = {
		.fill_size = XSK_RING_SIZE,
		.comp_size = XSK_RING_SIZE,
		.frame_size = XSK_FRAME_SIZE,
		/* 2 bytes after the kernel's 256: IO_RX_HEADROOM (IP headers 4-byte aligned). */
		.frame_headroom = XSK_RX_ALIGN_PAD,
	};

	return xsk_umem__create(&x->umem, p->area, (size_t)XSK_NUM_FRAMES * XSK_FRAME_SIZE,
				&x->fill, &x->comp, &ucfg);
}

static int socket_create(struct io_port *p, struct xsk_be *x, const char *ifname, uint16_t bind_flags)
{
	struct xsk_socket_config scfg = {
		.rx_size = XSK_RING_SIZE,
		.tx_size = XSK_RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};

	return xsk_socket__create(&x->xsk, ifname, p->queue, x->umem, &x->rx, &x->tx, &scfg);
}

/*
 * Keep the fill ring as full as the pool allows, but hold back a reserve so the worker can
 * always build control-originated packets (handshake replies) even when the NIC floods us.
 */
#define POOL_RESERVE 256u

static void xsk_refill(struct io_port *p)
{
	struct xsk_be *x = p->be;
	uint32_t idx, n, want;

	if (p->npool <= POOL_RESERVE)
		return;
	/* reserve() is all or nothing: ask for what fits. */
	want = xsk_prod_nb_free(&x->fill, p->npool - POOL_RESERVE);
	if (want > p->npool - POOL_RESERVE)
		want = p->npool - POOL_RESERVE;
	n = want ? xsk_ring_prod__reserve(&x->fill, want, &idx) : 0;
	for (uint32_t i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = io_frame_get(p);
	if (n)
		xsk_ring_prod__submit(&x->fill, n);
	if (xsk_ring_prod__needs_wakeup(&x->fill)) {
		p->fill_kicks++;
		recvfrom(p->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	}
}

static void xsk_reclaim(struct io_port *p)
{
	struct xsk_be *x = p->be;
	uint32_t idx, n;

	n = xsk_ring_cons__peek(&x->comp, XSK_RING_SIZE, &idx);
	for (uint32_t i = 0; i < n; i++)
		io_frame_put(p, *xsk_ring_cons__comp_addr(&x->comp, idx + i));
	if (n) {
		xsk_ring_cons__release(&x->comp, n);
		x->tx_inflight -= n;
	}
}

static unsigned xsk_rx(struct io_port *p, struct io_desc *d, unsigned max)
{
	struct xsk_be *x = p->be;
	uint32_t idx, n = xsk_ring_cons__peek(&x->rx, max, &idx);

	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *xd = xsk_ring_cons__rx_desc(&x->rx, idx + i);

		d[i].addr = xd->addr;
		d[i].len = xd->len;
	}
	if (n)
		xsk_ring_cons__release(&x->rx, n);
	return n;
}

static unsigned xsk_tx(struct io_port *p, const struct io_desc *d, unsigned cnt)
{
	struct xsk_be *x = p->be;
	uint32_t idx, n = xsk_prod_nb_free(&x->tx, cnt);

	if (n > cnt)
		n = cnt;
	n = n ? xsk_ring_prod__reserve(&x->tx, n, &idx) : 0;
	for (uint32_t i = 0; i < n; i++) {
		struct xdp_desc *xd = xsk_ring_prod__tx_desc(&x->tx, idx + i);

		xd->addr = d[i].addr;
		xd->len = d[i].len;
		xd->options = 0;
	}
	if (n) {
		xsk_ring_prod__submit(&x->tx, n);
		x->tx_inflight += n;
	}
	return n;
}

/*
 * In copy mode the kernel transmits only during sendto(), and at most a small batch per call
 * (TX_BATCH_SIZE in net/xdp/xsk.c), so one kick per loop lets the TX ring fill under load. Kick
 * until the kernel has taken everything we submitted or says "later" (EAGAIN/EBUSY/ENOBUFS).
 */
#define KICKS_MAX 16

static void xsk_kick(struct io_port *p)
{
	struct xsk_be *x = p->be;

	for (unsigned i = 0; i < KICKS_MAX; i++) {
		if (!x->tx_inflight || !xsk_ring_prod__needs_wakeup(&x->tx))
			return;
		if (xsk_prod_nb_free(&x->tx, XSK_RING_SIZE) == XSK_RING_SIZE)
			return;          /* the kernel consumed every descriptor */
		p->tx_kicks++;
		if (sendto(p->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EINTR)
			return;
	}
}

static void xsk_idle(struct io_port *p, int timeout_ms)
{
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	poll(&pfd, 1, timeout_ms);
}

static int xsk_stats(const struct io_port *p, uint64_t out[6])
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
static uint32_t xsk_unaccounted(struct io_port *p)
{
	struct xsk_be *x = p->be;
	uint32_t fill = XSK_RING_SIZE - xsk_prod_nb_free(&x->fill, XSK_RING_SIZE);
	uint32_t rx = xsk_cons_nb_avail(&x->rx, XSK_RING_SIZE);

	return XSK_NUM_FRAMES - p->npool - fill - rx - x->tx_inflight;
}

static void xsk_close(struct io_port *p)
{
	struct xsk_be *x = p->be;

	if (x) {
		if (x->xsk)
			xsk_socket__delete(x->xsk);
		if (x->umem)
			xsk_umem__delete(x->umem);
		free(x);
	}
	io_port_free(p);
}

static const struct io_ops xsk_ops = {
	.name = "xdp",
	.rx = xsk_rx,
	.tx = xsk_tx,
	.reclaim = xsk_reclaim,
	.refill = xsk_refill,
	.kick = xsk_kick,
	.idle = xsk_idle,
	.stats = xsk_stats,
	.unaccounted = xsk_unaccounted,
	.close = xsk_close,
};

int xsk_port_open(struct io_port *p, const char *ifname, uint32_t queue, int xsks_map_fd)
{
	struct xsk_be *x;
	int ret = io_port_alloc(p, queue);

	if (ret)
		return ret;
	p->ops = &xsk_ops;
	p->be = x = calloc(1, sizeof(*x));
	if (!x) {
		ret = -ENOMEM;
		goto err;
	}
	ret = umem_create(p, x);
	if (ret)
		goto err;
	/* Zero-copy where the driver has it; veth and most virtual NICs only copy. */
	ret = socket_create(p, x, ifname, XDP_ZEROCOPY);
	p->zerocopy = !ret;
	if (ret)
		ret = socket_create(p, x, ifname, XDP_COPY);
	if (ret)
		goto err;
	p->mode = p->zerocopy ? "zerocopy" : "copy";
	p->fd = xsk_socket__fd(x->xsk);
	ret = xsk_socket__update_xskmap(x->xsk, xsks_map_fd);
	if (ret)
		goto err;
	xsk_refill(p);
	return 0;
err:
	xsk_close(p);
	return ret;
}
