/* SPDX-License-Identifier: GPL-2.0-only */
/* atomicfile.h - replace a file so that a reader sees the old one or the whole new one. */
#ifndef MG_ATOMICFILE_H
#define MG_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Writes @len bytes as @path: a temporary file beside it with @mode, fsync, rename over @path,
 * then fsync of the directory (the rename itself on disk). 0 or -errno; on failure the temporary
 * file is removed and @path untouched. */
int atomicfile_write(const char *path, const void *data, size_t len, mode_t mode);

#endif
