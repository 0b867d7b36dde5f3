/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * discover.h - which meshgate daemons run on this host, found the way `wg show` finds userspace
 * WireGuard interfaces: by the UAPI sockets in /var/run/wireguard (NAME.sock). A socket counts
 * when something accepts a connection on it and the process that listens (SO_PEERCRED) is a
 * meshgate (its /proc/PID/comm); a stale socket or another implementation's (wireguard-go) is
 * passed over. The daemon's `-c FILE` (from /proc/PID/cmdline, relative to its working directory)
 * tells the commands its MetricsListen and StateDir.
 */
#ifndef MG_CLI_DISCOVER_H
#define MG_CLI_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define DISCOVER_MAX 32

struct cli_daemon {
	char name[16];                   /* the interface name: NAME.sock */
	pid_t pid;
	char config[4096];               /* its -c FILE as an absolute path; "" = not known */
};

/* Fills @out (at most @max, sorted by name) from @dir (NULL = UAPI_SOCKET_DIR). Returns how many
 * were found; *@others (may be NULL) counts live sockets of other programs, *@denied (may be
 * NULL) the sockets we may not connect to (not root). -errno when @dir cannot be read (-ENOENT:
 * no such directory, which means none). */
int cli_discover(const char *dir, struct cli_daemon *out, size_t max, size_t *others, size_t *denied);

/*
 * Which daemon a command is about, as `wg show` would pick it:
 *   -c FILE  (@config): that file's Name, MetricsListen and StateDir, running or not;
 *   -i NAME  (@name):   that running meshgate, with the keys of its own -c FILE;
 *   neither:            the only running meshgate; with none running, the defaults if
 *                       @none_ok (netcheck needs only StateDir), else an error; sockets that
 *                       refuse us (not root) are an error either way, named as such.
 * Returns 0, or the command's exit status with one message on stderr: CLI_EXIT_NOT_RUNNING
 * (none running, or not NAME; also a config file that cannot be read) or CLI_EXIT_SEVERAL
 * (several running: each listed with its pid and config, and "pick one with -i NAME").
 */
struct cli_target;
#define CLI_EXIT_NOT_RUNNING 1
#define CLI_EXIT_SEVERAL     3
int cli_target_find(struct cli_target *t, const char *config, const char *name, bool none_ok);

#endif
