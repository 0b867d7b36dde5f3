/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hszstd.h - zstd-compressed MapResponses (MapRequest.Compress = "zstd"; each
 * length-prefixed message is then one zstd frame). Optional: without libzstd at build time
 * hs_zstd_available() is false and maps are requested uncompressed.
 */
#ifndef MG_HSZSTD_H
#define MG_HSZSTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool hs_zstd_available(void);
/* Starts with the zstd frame magic 28 b5 2f fd (a JSON message starts with '{'). */
bool hs_zstd_is_frame(const uint8_t *p, size_t len);
/*
 * Decompresses the frame(s) in @in into a malloc'd, NUL-terminated buffer of at most @max bytes
 * (the frame's content size is optional, so the output grows as it streams). 0, -EMSGSIZE (over
 * @max), -EINVAL (corrupt or truncated), -ENOMEM, -ENOTSUP (built without libzstd).
 */
int hs_zstd_decode(const uint8_t *in, size_t len, size_t max, char **out, size_t *outlen);

#endif
