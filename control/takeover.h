/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * takeover.h - Backend = dpdk: while meshgate owns the NIC, the kernel reaches the LAN through
 * the exception TAP, so the NIC's addresses, routes and neighbour entries move to the TAP when
 * meshgate takes the port and back to the NIC when it lets go (netlink/nlmove.h does the moving).
 *
 * What moved is written to a state file in StateDir (dpdk-takeover.json) before anything moves,
 * atomically (a temporary file, fsync, rename). A clean exit gives everything back and removes
 * the file; after a crash or SIGKILL the TAP is gone with the process and the NIC is bare, so the
 * next start reads the file and restores the NIC first, naming what it restored.
 *
 * The file holds the mover's pid (a live meshgate of that pid still owns the TAP: nothing is
 * touched) and the kernel's boot id (after a reboot the system configured the NIC itself: the file
 * is dropped). Control thread, before the workers start and after they stopped.
 */
#ifndef MG_TAKEOVER_H
#define MG_TAKEOVER_H

#include <stdbool.h>
#include <net/if.h>
#include "netlink/nlmove.h"

#define TAKEOVER_FILE "dpdk-takeover.json"

struct takeover {
	struct nlmove moved;
	char nic[IF_NAMESIZE], tap[IF_NAMESIZE];
	char path[512];            /* the state file */
	bool active;               /* moved, not yet given back */
};

/* If an earlier run left a state file in state_dir: give its NIC back what it lists. 0, or
 * -EBUSY (its meshgate still runs), or -errno for a file that cannot be read (message on stderr). */
int takeover_recover(const char *state_dir);

/* Moves nic's configuration to tap (MTU and link state too), after writing the state file. A NIC
 * with nothing to move, or no kernel interface, is no error (t stays inactive). 0 or -errno. */
int takeover_start(struct takeover *t, const char *state_dir, const char *nic, const char *tap);

/* Gives the NIC back what moved (the TAP may be gone already) and removes the state file. */
void takeover_finish(struct takeover *t);

/* The state file's text for t, and its parse (exposed for the unit test). */
int takeover_format(const struct takeover *t, int pid, const char *boot_id, char **out);
int takeover_parse(struct takeover *t, const char *text, int *pid, char *boot_id, size_t boot_len);

#endif
