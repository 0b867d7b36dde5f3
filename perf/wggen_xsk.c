// SPDX-License-Identifier: GPL-2.0-only
/*
 * wggen_xsk.c - TX-only AF_XDP socket for wggen (see wggen_xsk.h).
 *
 * Frame ownership: a frame is in the pool, reserved (between wgx_reserve and wgx_submit), or
 * with the kernel (tx ring until the completion ring hands it back). The pool is a stack.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_xdp.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <xdp/xsk.h>

#include "wggen_xsk.h"

#define NUM_FRAMES 4096
#define FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE /* 4096: room for a 9000-byte MTU is not needed */
#define RING_SIZE 2048
#define HDRS_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))
#define KICKS_MAX 16

struct wgx {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill, tx;
	struct xsk_ring_cons comp;
	void *area;
	int fd;
	struct wgx_flow flow;
	uint64_t pool[NUM_FRAMES];
	uint32_t npool, inflight;
	uint32_t tx_idx;        /* first descriptor of the reserved run */
	uint64_t reserved[64];  /* frames of the reserved run */
};

uint32_t wgx_max_payload(void)
{
	return FRAME_SIZE - HDRS_LEN;
}

static int umem_create(struct wgx *x)
{
	struct xsk_umem_config cfg = {
		.fill_size = RING_SIZE, .comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE, .frame_headroom = 0,
	};
	size_t size = (size_t)NUM_FRAMES * FRAME_SIZE;

	x->area = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -errno;
	}
	return xsk_umem__create(&x->umem, x->area, size, &x->fill, &x->comp, &cfg);
}

static int socket_create(struct wgx *x, const char *ifname, uint32_t queue, uint16_t bind_flags)
{
	struct xsk_socket_config cfg = {
		.rx_size = 0, .tx_size = RING_SIZE,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};

	return xsk_socket__create(&x->xsk, ifname, queue, x->umem, NULL, &x->tx, &cfg);
}

int wgx_open(struct wgx **out, const char *ifname, uint32_t queue, const struct wgx_flow *flow,
	     const char **mode)
{
	struct wgx *x = calloc(1, sizeof(*x));
	int ret;

	if (!x)
		return -ENOMEM;
	x->flow = *flow;
	ret = umem_create(x);
	if (ret)
		goto err_umem;
	*mode = "zerocopy";
	ret = socket_create(x, ifname, queue, XDP_ZEROCOPY);
	if (ret) {
		*mode = "copy";
		ret = socket_create(x, ifname, queue, XDP_COPY);
	}
	if (ret)
		goto err_sock;
	x->fd = xsk_socket__fd(x->xsk);
	for (uint32_t i = 0; i < NUM_FRAMES; i++)
		x->pool[x->npool++] = (uint64_t)i * FRAME_SIZE;
	*out = x;
	return 0;
err_sock:
	xsk_umem__delete(x->umem);
err_umem:
	if (x->area)
		munmap(x->area, (size_t)NUM_FRAMES * FRAME_SIZE);
	free(x);
	return ret;
}

void wgx_close(struct wgx *x)
{
	if (!x)
		return;
	xsk_socket__delete(x->xsk);
	xsk_umem__delete(x->umem);
	munmap(x->area, (size_t)NUM_FRAMES * FRAME_SIZE);
	free(x);
}

static void reclaim(struct wgx *x)
{
	uint32_t idx, n = xsk_ring_cons__peek(&x->comp, RING_SIZE, &idx);

	for (uint32_t i = 0; i < n; i++)
		x->pool[x->npool++] = *xsk_ring_cons__comp_addr(&x->comp, idx + i);
	if (n) {
		xsk_ring_cons__release(&x->comp, n);
		x->inflight -= n;
	}
}

/* In copy mode the kernel sends only inside sendto(), a small batch per call; kick until it
 * took everything or says "later". */
static void kick(struct wgx *x)
{
	for (unsigned i = 0; i < KICKS_MAX; i++) {
		if (!xsk_ring_prod__needs_wakeup(&x->tx))
			return;
		if (xsk_prod_nb_free(&x->tx, RING_SIZE) == RING_SIZE)
			return;
		if (sendto(x->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0 && errno != EINTR)
			return;
	}
}

unsigned wgx_reserve(struct wgx *x, unsigned n, uint8_t *msgs[])
{
	uint32_t room;

	if (n > 64)
		n = 64;
	reclaim(x);
	room = xsk_prod_nb_free(&x->tx, n);
	/* short of frames or ring space: what is queued moves only when we kick (copy mode) */
	if ((x->npool < n || room < n) && x->inflight) {
		kick(x);
		reclaim(x);
		room = xsk_prod_nb_free(&x->tx, n);
	}
	if (n > x->npool)
		n = x->npool;
	if (n > room)
		n = room;
	if (!n || xsk_ring_prod__reserve(&x->tx, n, &x->tx_idx) != n)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		x->reserved[i] = x->pool[--x->npool];
		msgs[i] = (uint8_t *)xsk_umem__get_data(x->area, x->reserved[i]) + HDRS_LEN;
	}
	return n;
}

static uint16_t ip_checksum(const void *hdr, unsigned len)
{
	const uint16_t *p = hdr;
	uint32_t sum = 0;

	for (unsigned i = 0; i < len / 2; i++)
		sum += p[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* One header for the whole run: same flow and length, IP ID 0 with DF set (RFC 6864 4.1: an
 * atomic datagram may carry any ID), UDP checksum 0 (RFC 768: none computed). */
static void write_headers(const struct wgx *x, uint8_t *frame, uint32_t msg_len)
{
	struct ethhdr *eth = (void *)frame;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);

	memcpy(eth->h_dest, x->flow.dst_mac, 6);
	memcpy(eth->h_source, x->flow.src_mac, 6);
	eth->h_proto = htons(ETH_P_IP);
	*ip = (struct iphdr){
		.version = 4, .ihl = 5, .ttl = 64, .protocol = IPPROTO_UDP,
		.tot_len = htons((uint16_t)(sizeof(*ip) + sizeof(*udp) + msg_len)),
		.frag_off = htons(IP_DF), .saddr = x->flow.src_ip, .daddr = x->flow.dst_ip,
	};
	ip->check = ip_checksum(ip, sizeof(*ip));
	*udp = (struct udphdr){
		.source = x->flow.src_port, .dest = x->flow.dst_port,
		.len = htons((uint16_t)(sizeof(*udp) + msg_len)),
	};
}

void wgx_submit(struct wgx *x, unsigned k, uint32_t msg_len)
{
	uint8_t hdr[HDRS_LEN];

	if (!k)
		return;
	write_headers(x, hdr, msg_len);
	for (unsigned i = 0; i < k; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, x->tx_idx + i);

		memcpy(xsk_umem__get_data(x->area, x->reserved[i]), hdr, HDRS_LEN);
		d->addr = x->reserved[i];
		d->len = (uint32_t)HDRS_LEN + msg_len;
	}
	xsk_ring_prod__submit(&x->tx, k);
	x->inflight += k;
	kick(x);
}
