// SPDX-License-Identifier: GPL-2.0-only
/*
 * privdrop.c - drop to an unprivileged user and to the capabilities the running router needs.
 *
 * Capabilities are a per-thread attribute in Linux, and by the time setup is over the workers are
 * already running: a capset() in the control thread alone would leave every worker with the full
 * setup set. So the reduction is broadcast: each other thread gets a signal whose handler makes
 * the same raw capset() on itself (what glibc does for setuid(), and libcap's psx for capsets).
 * A uid change from root additionally clears the permitted set of every thread that did not ask
 * to keep it (PR_SET_KEEPCAPS, also per thread); glibc applies setresuid() to all threads.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "privdrop.h"

/* The target state of every thread, filled in before any signal is sent; read-only afterwards. */
static struct __user_cap_data_struct drop_data[_LINUX_CAPABILITY_U32S_3];

static int caps_get_tid(pid_t tid, uint64_t *permitted)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = tid };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	*permitted = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

/*
 * Async-signal-safe: raw syscalls on the calling thread only. The target is intersected with what
 * the thread holds: a worker already emptied by the uid change cannot (and need not) get it back.
 */
static int caps_reduce_self(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
		d[i].permitted &= drop_data[i].permitted;
		d[i].effective = d[i].permitted;
		d[i].inheritable = 0;
	}
	if (syscall(SYS_capset, &h, d))
		return -errno;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

static void on_drop_signal(int sig)
{
	int saved = errno;

	(void)sig;
	caps_reduce_self();    /* checked from outside by threads_clean() */
	errno = saved;
}

/* Every thread of the process holds nothing beyond @target; prints the ones that do if @say. */
static bool threads_clean(uint64_t target, bool say)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	bool clean = d != NULL;

	while (d && (e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);
		uint64_t prm = 0;
		int r;

		if (tid <= 0)
			continue;
		r = caps_get_tid(tid, &prm);
		if (r == -ESRCH)
			continue;              /* exited meanwhile */
		if (r || (prm & ~target)) {
			clean = false;
			if (say)
				fprintf(stderr, "meshgate: privdrop: thread %d still holds capabilities %#llx\n",
					(int)tid, r ? ~0ULL : (unsigned long long)prm);
		}
	}
	if (d)
		closedir(d);
	return clean;
}

/*
 * Every thread but the caller runs on_drop_signal once. A thread that blocks every signal
 * (liburcu's call_rcu and hash-table resize helpers) never runs it; the result is checked from
 * outside with capget(tid), so such a thread passes if it holds nothing beyond the target, which
 * is the case after a uid change from root (glibc's setxid broadcast reaches every thread).
 */
static int broadcast_reduce(uint64_t target)
{
	struct sigaction sa = { .sa_handler = on_drop_signal, .sa_flags = SA_RESTART };
	int sig = SIGRTMIN + 4, ret = 0;
	pid_t self = (pid_t)syscall(SYS_gettid), pid = getpid();
	struct dirent *e;
	DIR *d;

	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL))
		return -errno;
	d = opendir("/proc/self/task");
	if (!d) {
		ret = -errno;
		goto out;
	}
	while ((e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid > 0 && tid != self)
			syscall(SYS_tgkill, pid, tid, sig);
	}
	closedir(d);
	for (int i = 0; i < 2000 && !threads_clean(target, false); i++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	if (!threads_clean(target, true))
		ret = -EPERM;
out:
	/* Not the old action: a thread that had the signal blocked (a helper thread of glibc or
	 * liburcu) keeps it pending and would take the default action, termination, once it
	 * unblocks. Ignoring the signal discards those pending copies; whether every thread is clean
	 * was checked from outside above, so a late delivery has nothing left to do. */
	signal(sig, SIG_IGN);
	return ret;
}

int privdrop_init(struct privdrop *pd, const char *user)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int r;

	memset(pd, 0, sizeof(*pd));
	if (!user[0])
		return 0;
	r = getpwnam_r(user, &pw, buf, sizeof(buf), &res);
	if (r)
		return -r;
	if (!res)
		return -ESRCH;
	pd->set_user = true;
	pd->uid = pw.pw_uid;
	pd->gid = pw.pw_gid;
	snprintf(pd->name, sizeof(pd->name), "%s", user);
	return 0;
}

static int switch_user(const struct privdrop *pd)
{
	if (geteuid() == pd->uid && getegid() == pd->gid)
		return 0;              /* started as that user already (systemd User=) */
	/* Keep the permitted set across the uid change in this thread only; the others lose it. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) ||
	    setgroups(1, &pd->gid) ||
	    setresgid(pd->gid, pd->gid, pd->gid) ||
	    setresuid(pd->uid, pd->uid, pd->uid))
		return -errno;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	fprintf(stderr, "meshgate: running as user %s (uid %u, gid %u)\n", pd->name,
		(unsigned)pd->uid, (unsigned)pd->gid);
	return 0;
}

int privdrop_apply(const struct privdrop *pd)
{
	uint64_t have = 0, keep;
	int ret;

	/* Compatibility: without User =, root stays root (as before this existed). */
	if (!pd->set_user && geteuid() == 0)
		return 0;
	ret = caps_get_tid(0, &have);
	if (ret)
		return ret;
	if (!pd->set_user && !(have & ~PRIVDROP_KEEP_CAPS))
		return 0;
	if (pd->set_user) {
		ret = switch_user(pd);
		if (ret)
			return ret;
	}
	keep = have & PRIVDROP_KEEP_CAPS;
	memset(drop_data, 0, sizeof(drop_data));
	drop_data[0].permitted = drop_data[0].effective = (uint32_t)keep;
	drop_data[1].permitted = drop_data[1].effective = (uint32_t)(keep >> 32);
	ret = caps_reduce_self();
	if (ret)
		return ret;
	ret = broadcast_reduce(keep);
	if (ret)
		return ret;
	fprintf(stderr, "meshgate: capabilities kept: %s\n", keep ? "cap_net_admin" : "none");
	return 0;
}
