// SPDX-License-Identifier: GPL-2.0-only
/* atomicfile.c - write-to-temporary, fsync, rename, fsync the directory. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "atomicfile.h"

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n, len -= (size_t)n;
	}
	return 0;
}

int atomicfile_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char *d = strdup(path), *b = strdup(path), tmp[4096];
	int fd, dfd, ret = -ENOMEM;

	if (!d || !b)
		goto out;
	ret = -ENAMETOOLONG;
	if (snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dirname(d), basename(b)) >= (int)sizeof(tmp))
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	ret = write_all(fd, data, len);
	if (!ret && (fchmod(fd, mode) || fsync(fd)))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret) {
		unlink(tmp);
		goto out;
	}
	dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	free(d);
	free(b);
	return ret;
}
