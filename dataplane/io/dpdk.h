/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dpdk.h - the DPDK backend of struct io_port (Backend = dpdk): the same worker over
 * rte_eth_rx_burst/rte_eth_tx_burst, with the frames still in the port's own area.
 *
 * Frames and mbufs. Each worker's area becomes the external memory of one mbuf pool
 * (rte_pktmbuf_pool_create_extbuf, pinned external buffers): mbuf i's buffer is frame i. So a
 * received mbuf is a frame offset (buf_addr + data_off - area) and a frame offset is an mbuf
 * (a table by frame index, filled once at open): O(1) both ways, no copy, and the worker keeps
 * handling offsets exactly as it does over an AF_XDP UMEM. Each mbuf's buffer starts
 * io_rx_offset() - RTE_PKTMBUF_HEADROOM bytes into its frame, so with DPDK's default headroom a
 * received packet lands at io_rx_offset(): where AF_XDP puts it plus the frame's colour (every IP
 * header 4-byte aligned, neighbouring frames' packets not equal modulo 4 KiB). The pool's free
 * list plays the AF_XDP fill ring: refill gives it the worker's spare frames, reclaim takes a
 * reserve back for packets the worker builds itself; transmitted mbufs return to it when the PMD
 * is done with them (the completion ring's role).
 *
 * Exception path. DPDK owns the NIC, so the kernel sees the LAN through a TAP port (net_tap)
 * named "<Name>-lan" (or the net_tap/virtio_user port given in DPDKArgs) with the NIC's MAC:
 * frames that the XDP program would pass to the kernel (ARP, ND, the router's own traffic,
 * anything not for meshgate: bpf/steer_decide.h, run by dpdk_steer.c) are sent to the
 * TAP, and what the kernel sends on the TAP goes out of the NIC. The router's LAN address,
 * routes and neighbours live on the TAP interface, and the netlink mirror watches it.
 *
 * Threads: dpdk_eal_init/dpdk_start/dpdk_stop/dpdk_eal_cleanup run on the control thread before
 * the workers start or after they stopped; a port is used only by its worker. Worker q also
 * uses queue q of the TAP.
 */
#ifndef MG_IO_DPDK_H
#define MG_IO_DPDK_H

#include <stddef.h>
#include <stdint.h>
#include "io/port.h"
#include "../bpf/steer_maps.h"

struct mg_device;

/* EAL from the DPDKArgs string (split on blanks; --in-memory, or --no-shconf with --no-huge,
 * added unless a file prefix or either is given, so several instances can run side by side), then the NIC port named
 * `device` (a PCI address or vdev name, as rte_eth_dev_get_port_by_name knows it) and the
 * exception TAP (created as tap_name unless DPDKArgs gave one; its kernel name is written to
 * tap_name). 0, or -1 with a message in err. */
int dpdk_eal_init(const char *args, const char *device, char *tap_name, size_t tap_name_len,
		  char *err, size_t errlen);
/* The worker's port: area, pool over it, frame <-> mbuf table. dev is read by the steering. */
int dpdk_port_open(struct io_port *p, uint32_t queue, struct mg_device *dev);
/* Configures and starts the NIC (one rx/tx queue pair per opened port) and the TAP; after every
 * dpdk_port_open, before the workers run. 0 or -errno (message on stderr). */
int dpdk_start(void);
/* Stops both devices; every frame is back in a pool afterwards. After the workers stopped. */
void dpdk_stop(void);
void dpdk_eal_cleanup(void);
/* The steering verdicts of every queue so far, summed (indices as the XDP program's steer_stats:
 * steer_maps.h). Control thread, while the workers run (plain reads of worker-written u64s, as
 * the per-worker counters); -ENODEV when no DPDK port is open. */
int dpdk_steer_stats(uint64_t out[STEER_NSTATS]);

#endif
