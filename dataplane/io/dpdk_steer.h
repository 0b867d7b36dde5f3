/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dpdk_steer.h - which received frames are meshgate's when DPDK owns the NIC. The decision is
 * bpf/steer_decide.h, the same code the XDP program runs; here it reads its facts from the device
 * instead of BPF maps (our addresses from the netlink snapshot of the exception interface, the
 * listen port, SNAT on/off, the allowed IPs as the tunnel routes). Everything else belongs to the
 * kernel.
 */
#ifndef MG_IO_DPDK_STEER_H
#define MG_IO_DPDK_STEER_H

#include <stdbool.h>
#include <stdint.h>
#include "../bpf/steer_maps.h"

struct mg_device;
struct nl_snapshot;

/* Worker thread (QSBR reader, online). frame = Ethernet frame of len bytes. */
enum steer_verdict dpdk_steer_verdict(struct mg_device *dev, const struct nl_snapshot *nl,
				      const uint8_t *frame, uint32_t len);

/* Where a frame goes, as the XDP program sends it: a worker verdict to the worker, the first
 * fragment of a datagram to the listen port nowhere (XDP_DROP), the rest to the kernel (the TAP). */
enum dpdk_steer_action {
	DPDK_STEER_WORKER,
	DPDK_STEER_KERNEL,
	DPDK_STEER_DROP,
};

static inline enum dpdk_steer_action dpdk_steer_action_of(enum steer_verdict v)
{
	if (v == STEER_WG || v == STEER_ROUTE || v == STEER_NAT)
		return DPDK_STEER_WORKER;
	return v == STEER_FRAG_FIRST ? DPDK_STEER_DROP : DPDK_STEER_KERNEL;
}

/* The verdict, counted in stats[verdict] (the XDP program's steer_stats, per DPDK queue), and
 * what to do with the frame. */
static inline enum dpdk_steer_action dpdk_steer_frame(struct mg_device *dev, const struct nl_snapshot *nl,
						      const uint8_t *frame, uint32_t len,
						      uint64_t stats[STEER_NSTATS])
{
	enum steer_verdict v = dpdk_steer_verdict(dev, nl, frame, len);

	stats[v]++;
	return dpdk_steer_action_of(v);
}

#endif
