/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * wggen_xsk.h - wggen's AF_XDP transmit path: a TX-only XDP socket on one queue of the
 * sender's interface, with the outer Ethernet/IPv4/UDP headers of one flow written by us.
 *
 * TX only: no XDP program is loaded and no rx ring exists, so everything the interface
 * receives (the router's replies included) still goes to the kernel stack and wggen's UDP
 * socket. Copy mode is asked for when the driver has no zero-copy (veth).
 */
#ifndef MG_PERF_WGGEN_XSK_H
#define MG_PERF_WGGEN_XSK_H

#include <stdint.h>

struct wgx;

/* Outer headers, addresses and ports in network byte order. */
struct wgx_flow {
	uint8_t src_mac[6], dst_mac[6];
	uint32_t src_ip, dst_ip;
	uint16_t src_port, dst_port;
};

/* 0 or -errno; *mode says "zerocopy" or "copy". */
int wgx_open(struct wgx **out, const char *ifname, uint32_t queue, const struct wgx_flow *flow,
	     const char **mode);
void wgx_close(struct wgx *x);

/* Up to n free TX frames (fewer when the ring or the pool is short: the caller offers only
 * what it got). msgs[i] is where message i (the UDP payload) goes, with room for max_len
 * bytes. The frames stay reserved until wgx_submit(). */
unsigned wgx_reserve(struct wgx *x, unsigned n, uint8_t *msgs[]);

/* Sends the k frames of the last wgx_reserve(), each carrying a msg_len-byte payload, and
 * wakes the kernel when it asks; finished frames come back to the pool on later calls. */
void wgx_submit(struct wgx *x, unsigned k, uint32_t msg_len);

/* Bytes of payload a frame holds. */
uint32_t wgx_max_payload(void);

#endif
