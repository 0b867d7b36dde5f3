// SPDX-License-Identifier: GPL-2.0-only
/* nic_channels.c - the NIC's RX queue count against Queues: check, set through SIOCETHTOOL, restore. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include "io/nic_channels.h"

static int ethtool_channels(const char *ifname, struct ethtool_channels *ch, __u32 cmd)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ch->cmd = cmd;
	ifr.ifr_data = (void *)ch;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		ret = -errno;
	close(fd);
	return ret;
}

/* Drivers without channel settings: the RX queues the kernel registered (rx-N in sysfs). */
static unsigned sysfs_rx_queues(const char *ifname)
{
	char path[128];
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 1;
	while ((e = readdir(d)))
		n += !strncmp(e->d_name, "rx-", 3);
	closedir(d);
	return n ? n : 1;
}

/* Combined channels where the driver has them (most NICs), else separate RX channels (veth). */
static void want(struct ethtool_channels *ch, unsigned queues)
{
	if (ch->max_combined) {
		ch->combined_count = queues;
		ch->rx_count = 0;
	} else {
		ch->rx_count = queues;
	}
}

static int set_channels(struct nic_channels *nc, const struct ethtool_channels *cur, unsigned queues)
{
	struct ethtool_channels ch = *cur;
	int ret;

	want(&ch, queues);
	ret = ethtool_channels(nc->ifname, &ch, ETHTOOL_SCHANNELS);
	if (ret)
		return ret;
	nc->saved = *cur;
	nc->changed = true;
	fprintf(stderr, "meshgate: %s: set %u RX queue%s for Queues = %u (was %u; restored at exit)\n",
		nc->ifname, queues, queues == 1 ? "" : "s", queues, cur->rx_count + cur->combined_count);
	return 0;
}

int nic_channels_fit(struct nic_channels *nc, const char *ifname, unsigned queues, bool set,
		     char *err, size_t errlen)
{
	struct ethtool_channels ch = { 0 };
	unsigned have;
	int ret;

	memset(nc, 0, sizeof(*nc));
	snprintf(nc->ifname, sizeof(nc->ifname), "%s", ifname);
	ret = ethtool_channels(ifname, &ch, ETHTOOL_GCHANNELS);
	have = ret ? sysfs_rx_queues(ifname) : ch.rx_count + ch.combined_count;
	if (have == queues)
		return 0;
	if (set && !ret) {
		ret = set_channels(nc, &ch, queues);
		if (!ret)
			return 0;
		snprintf(err, errlen, "%s has %u RX queues and Queues = %u; setting %u channels failed: %s",
			 ifname, have, queues, queues, strerror(-ret));
		return ret;
	}
	snprintf(err, errlen, "%s has %u RX queue%s but Queues = %u: frames that RSS puts on a queue "
		 "without a worker would be lost. Fix: `ethtool -L %s %s %u`, or Queues = %u, or "
		 "SetChannels = true to let meshgate set (and restore) the channel count",
		 ifname, have, have == 1 ? "" : "s", queues, ifname,
		 !ret && !ch.max_combined ? "rx" : "combined", queues, have);
	return -ERANGE;
}

void nic_channels_restore(struct nic_channels *nc)
{
	struct ethtool_channels ch = nc->saved;
	int ret;

	if (!nc->changed)
		return;
	nc->changed = false;
	ret = ethtool_channels(nc->ifname, &ch, ETHTOOL_SCHANNELS);
	if (ret)
		fprintf(stderr, "meshgate: %s: restoring %u RX queues: %s\n", nc->ifname,
			nc->saved.rx_count + nc->saved.combined_count, strerror(-ret));
}
