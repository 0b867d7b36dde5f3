// SPDX-License-Identifier: GPL-2.0-only
/*
 * discover.c - the running meshgate daemons, by their UAPI sockets: connect, ask the kernel who
 * listens (SO_PEERCRED), and read that process's name and command line from /proc. Nothing is
 * sent on the socket: the daemon sees a connection that closes without a request.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "discover.h"
#include "cli.h"
#include "uapi.h"

/* The pid listening on @path; 0 when nothing accepts (stale socket) or the kernel does not say;
 * -1 when we may not connect (the sockets are root's, mode 0700). */
static pid_t listener(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ucred cred = { 0 };
	socklen_t len = sizeof(cred);
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return 0;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		cred.pid = errno == EACCES || errno == EPERM ? -1 : 0;
	else if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		cred.pid = 0;
	close(fd);
	return cred.pid;
}

static bool is_meshgate(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return !strcmp(comm, "meshgate");
}

/* "meshgate run -c FILE": FILE, made absolute with the daemon's working directory. */
static void config_of(pid_t pid, char *out, size_t len)
{
	char path[64], args[8192], cwd[PATH_MAX];
	size_t n;
	ssize_t c;
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return;
	n = fread(args, 1, sizeof(args) - 1, f);
	fclose(f);
	args[n] = '\0';
	for (size_t i = 0; i < n; i += strlen(args + i) + 1) {
		const char *file = args + i + 3;

		if (strcmp(args + i, "-c") || i + 3 >= n || !*file)
			continue;
		if (file[0] == '/') {
			snprintf(out, len, "%s", file);
			return;
		}
		snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
		c = readlink(path, cwd, sizeof(cwd) - 1);
		if (c > 0 && (size_t)c + 1 + strlen(file) < len) {
			cwd[c] = '\0';
			strcpy(out, cwd);
			strcat(out, "/");
			strcat(out, file);
		}
		return;
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct cli_daemon *)a)->name, ((const struct cli_daemon *)b)->name);
}

int cli_discover(const char *dir, struct cli_daemon *out, size_t max, size_t *others, size_t *denied)
{
	DIR *d = opendir(dir ? dir : UAPI_SOCKET_DIR);
	struct dirent *e;
	size_t n = 0, o = 0, den = 0;

	if (others)
		*others = 0;
	if (denied)
		*denied = 0;
	if (!d)
		return -errno;
	while ((e = readdir(d)) && n < max) {
		size_t l = strlen(e->d_name);
		char path[PATH_MAX];
		pid_t pid;

		if (l <= 5 || l - 5 >= sizeof(out->name) || strcmp(e->d_name + l - 5, ".sock"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir ? dir : UAPI_SOCKET_DIR, e->d_name);
		pid = listener(path);
		den += pid < 0;
		if (pid <= 0)
			continue;
		if (!is_meshgate(pid)) {
			o++;
			continue;
		}
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].name, e->d_name, l - 5);
		out[n].pid = pid;
		config_of(pid, out[n].config, sizeof(out[n].config));
		n++;
	}
	closedir(d);
	qsort(out, n, sizeof(*out), by_name);
	if (others)
		*others = o;
	if (denied)
		*denied = den;
	return (int)n;
}

/* The daemon's own config for its metrics address and StateDir; its NAME whatever the file says.
 * A config we may not read leaves the defaults (with a note when /metrics is then guessed). */
static void target_of(struct cli_target *t, const struct cli_daemon *d)
{
	if (!d->config[0] || access(d->config, R_OK) || cli_target_load(t, d->config))
		cli_target_load(t, NULL);
	snprintf(t->name, sizeof(t->name), "%s", d->name);
}

int cli_target_find(struct cli_target *t, const char *config, const char *name, bool none_ok)
{
	struct cli_daemon d[DISCOVER_MAX];
	size_t denied;
	int n;

	if (config)
		return cli_target_load(t, config) ? CLI_EXIT_NOT_RUNNING : 0;
	n = cli_discover(NULL, d, DISCOVER_MAX, NULL, &denied);
	if (n < 0)
		n = 0;                           /* no socket directory: nothing runs */
	if (name) {
		for (int i = 0; i < n; i++) {
			if (strcmp(d[i].name, name))
				continue;
			target_of(t, &d[i]);
			return 0;
		}
		fprintf(stderr, "meshgate %s is not running (no meshgate serves %s/%s.sock%s).\n", name,
			UAPI_SOCKET_DIR, name, denied ? "; some sockets refused us: run as root" : "");
		return CLI_EXIT_NOT_RUNNING;
	}
	if (n == 1) {
		target_of(t, &d[0]);
		return 0;
	}
	if (!n) {
		cli_target_load(t, NULL);
		if (none_ok && !denied)
			return 0;
		if (denied)
			fprintf(stderr, "meshgate: %zu UAPI socket%s in %s refused the connection: permission denied "
				"(run as root)\n", denied, denied == 1 ? "" : "s", UAPI_SOCKET_DIR);
		else
			fprintf(stderr, "meshgate is not running (no meshgate UAPI socket in %s).\n", UAPI_SOCKET_DIR);
		return CLI_EXIT_NOT_RUNNING;
	}
	fprintf(stderr, "meshgate: %d daemons are running; pick one with -i NAME:\n", n);
	for (int i = 0; i < n; i++)
		fprintf(stderr, "  %-15s pid %d%s%s\n", d[i].name, (int)d[i].pid, d[i].config[0] ? ", -c " : "",
			d[i].config);
	return CLI_EXIT_SEVERAL;
}
