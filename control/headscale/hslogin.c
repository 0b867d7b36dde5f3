// SPDX-License-Identifier: GPL-2.0-only
/*
 * hslogin.c - the pre-auth key at login time and StateDir/registered (see hslogin.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "hskey.h"
#include "hslogin.h"

int hs_login_read_authkey(const char *path, char *out, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *s;
	ssize_t n;

	out[0] = '\0';
	if (fd < 0)
		return -errno;
	n = read(fd, out, len - 1);
	close(fd);
	if (n < 0) {
		out[0] = '\0';
		return -errno;
	}
	out[n] = '\0';
	s = out + strspn(out, " \t\r\n");
	s[strcspn(s, " \t\r\n")] = '\0';
	memmove(out, s, strlen(s) + 1);
	sodium_memzero(out + strlen(out), len - strlen(out));      /* whatever else the file held */
	return 0;
}

/* "nodekey:<hex>\n<server>\n" */
static int format(char *buf, size_t len, const char *server, const uint8_t node_pub[32])
{
	char nk[HSKEY_TEXT_MAX];

	hskey_format(nk, "nodekey:", node_pub);
	return snprintf(buf, len, "%s\n%s\n", nk, server);
}

bool hs_login_is_registered(const char *dir, const char *server, const uint8_t node_pub[32])
{
	char path[4200], want[1200], got[1200];
	int fd, n;
	ssize_t r;

	if (!dir || !*dir)
		return false;
	n = format(want, sizeof(want), server, node_pub);
	if (n < 0 || (size_t)n >= sizeof(want))
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir, HS_LOGIN_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	r = read(fd, got, sizeof(got) - 1);
	close(fd);
	/* Public data (a public key and a URL): a plain compare is fine. */
	return r == n && !memcmp(got, want, (size_t)n);
}

int hs_login_store(const char *dir, const char *server, const uint8_t node_pub[32])
{
	char path[4200], tmp[4210], text[1200];
	int fd, n, ret = 0;

	if (!dir || !*dir)
		return 0;
	n = format(text, sizeof(text), server, node_pub);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -ENAMETOOLONG;
	snprintf(path, sizeof(path), "%s/%s", dir, HS_LOGIN_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)n) != n || fsync(fd))
		ret = errno ? -errno : -EIO;
	close(fd);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int hs_login_forget(const char *dir)
{
	char path[4200];

	if (!dir || !*dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, HS_LOGIN_FILE);
	return unlink(path) && errno != ENOENT ? -errno : 0;
}
