/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nic_channels.h - makes the NIC's receive queues match the AF_XDP workers. RSS spreads received
 * frames over every RX queue; a frame for meshgate on a queue without a worker's socket goes to
 * the kernel, which has no listener for it (the XDP program counts it, STEER_ST_NOSOCK). So
 * either the queue count equals Queues, or meshgate sets it (ETHTOOL_SCHANNELS, what
 * `ethtool -L` does) and puts the old setting back at exit, or it refuses to start.
 * Control thread only.
 */
#ifndef MG_IO_NIC_CHANNELS_H
#define MG_IO_NIC_CHANNELS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/ethtool.h>

struct nic_channels {
	char ifname[64];
	bool changed;                   /* saved holds the setting to restore */
	struct ethtool_channels saved;
};

/*
 * 0 when ifname has exactly queues RX queues (after changing its channels if set is true);
 * otherwise -ERANGE with a message in err naming both counts and the ethtool command that fixes
 * it, or -errno when the change itself failed. A device without channel settings (the ioctl is
 * not supported) has one RX queue per its sysfs entries.
 */
int nic_channels_fit(struct nic_channels *nc, const char *ifname, unsigned queues, bool set,
		     char *err, size_t errlen);
/* Puts back what nic_channels_fit changed; a no-op otherwise. */
void nic_channels_restore(struct nic_channels *nc);

#endif
