/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * privdrop.h - least privilege after setup: become an unprivileged user (config `User =`) and
 * keep only the capabilities the running router still uses, in every thread of the process.
 */
#ifndef MG_PRIVDROP_H
#define MG_PRIVDROP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Capabilities kept for the life of the process (each found by running the lab without it):
 *   CAP_NET_ADMIN  routes for peers' allowed IPs and the TUN device's addresses when peers or the
 *                  netmap change (rtnetlink), and detaching the XDP program at exit.
 * Setup-only, dropped: CAP_BPF (load the program, create maps; updating a map through an fd we
 * hold needs none), CAP_NET_RAW (socket(AF_XDP)), CAP_IPC_LOCK (UMEM pinning), CAP_SYS_ADMIN.
 */
#define PRIVDROP_KEEP_CAPS ((uint64_t)1 << 12)   /* CAP_NET_ADMIN */

/* Who to become, resolved before any thread exists (NSS lookups are not for a running router). */
struct privdrop {
	bool set_user;          /* User = was given */
	uid_t uid;
	gid_t gid;
	char name[64];
};

/* Resolves @user ("" = keep the uid). 0, or -ESRCH (no such user) or another -errno. */
int privdrop_init(struct privdrop *pd, const char *user);

/*
 * Called once, after every privileged setup step and before the control loop. With a user,
 * switch uid, gid and groups to it; then, in every thread, reduce the permitted and effective
 * sets to PRIVDROP_KEEP_CAPS (what the process still holds of it), empty the inheritable and
 * ambient sets, and forbid regaining privileges (no_new_privs). Without a user, root stays root
 * (compatibility), and a non-root process started with capabilities (systemd's
 * AmbientCapabilities=) is reduced the same way. Returns 0 or -errno; on error the process must
 * exit: its privileges are undefined.
 */
int privdrop_apply(const struct privdrop *pd);

#endif
