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

static inline bool dpdk_steer_to_worker(struct mg_device *dev, const struct nl_snapshot *nl,
					const uint8_t *frame, uint32_t len)
{
	enum steer_verdict v = dpdk_steer_verdict(dev, nl, frame, len);

	/* The fragment verdicts go to the kernel, as they did before they had a name. */
	return v == STEER_WG || v == STEER_ROUTE || v == STEER_NAT;
}

#endif
