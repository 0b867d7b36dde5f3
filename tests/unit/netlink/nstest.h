/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nstest.h - helpers for the root-only netlink tests: throw-away network namespaces named
 * mgnl-<tag>-<pid>, shell commands with failure reporting, and a CHECK macro.
 */
#ifndef MG_TEST_NSTEST_H
#define MG_TEST_NSTEST_H

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static char ns_names[3][32];
static int ns_count;

#define CHECK(cond, ...) do {                                              \
	if (!(cond)) {                                                     \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);       \
		fprintf(stderr, __VA_ARGS__);                              \
		fprintf(stderr, "\n");                                     \
		failures++;                                                \
	}                                                                  \
} while (0)

/* Runs a shell command; returns its exit status. */
static int sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		fprintf(stderr, "command failed (%d): %s\n", st, cmd);
	return st;
}

/* Captures a command's stdout (first 4 KiB). */
static const char *sh_out(const char *fmt, ...)
{
	static char out[4096];
	char cmd[1024];
	va_list ap;
	FILE *f;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	out[0] = 0;
	f = popen(cmd, "r");
	if (!f)
		return out;
	n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = 0;
	pclose(f);
	return out;
}

static void ns_cleanup(void)
{
	int i;

	for (i = 0; i < ns_count; i++) {
		char cmd[160];

		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns_names[i]);
		if (system(cmd)) {
			/* already gone */
		}
	}
	ns_count = 0;
}

static void ns_on_signal(int sig)
{
	ns_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Deletes mgnl-* namespaces left by an earlier run that crashed (its pid is gone); the mgnl-
 * prefix belongs to these tests only. */
static void ns_reap_stale(void)
{
	FILE *f = popen("ip netns list 2>/dev/null", "r");
	char line[256], tag[32];
	int pid;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "mgnl-%31[a-z]-%d", tag, &pid) == 2 && pid > 0 &&
		    kill(pid, 0) && errno == ESRCH)
			sh("ip netns del mgnl-%s-%d", tag, pid);
	}
	pclose(f);
}

/* Exits 77 (skip) when this machine cannot run the test: not root, or no `ip netns`. */
static void ns_require(void)
{
	if (geteuid() != 0) {
		printf("SKIP: needs root (network namespaces)\n");
		exit(77);
	}
	if (system("ip netns list >/dev/null 2>&1")) {
		printf("SKIP: `ip netns` unavailable (iproute2 missing)\n");
		exit(77);
	}
	ns_reap_stale();
	atexit(ns_cleanup);
	signal(SIGINT, ns_on_signal);
	signal(SIGTERM, ns_on_signal);
}

/* Creates namespace mgnl-<tag>-<pid>; returns its name. Exits 77 if creation is refused. */
static const char *ns_create(const char *tag)
{
	char *name = ns_names[ns_count];

	snprintf(name, sizeof(ns_names[0]), "mgnl-%s-%d", tag, (int)getpid());
	if (sh("ip netns add %s", name)) {
		printf("SKIP: cannot create network namespaces here\n");
		exit(77);
	}
	ns_count++;
	sh("ip -n %s link set lo up", name);
	return name;
}

/* Moves the calling thread into the namespace (sockets opened afterwards live there). */
static int ns_enter(const char *name)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = setns(fd, CLONE_NEWNET);
	close(fd);
	return ret;
}

#endif
