/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * keyfmt.h - WireGuard key text forms: base64 (config files, wg(8) output) and lowercase hex
 * (the UAPI, whose values may not contain '='). Decoding never branches on key bytes.
 */
#ifndef MG_CONF_KEYFMT_H
#define MG_CONF_KEYFMT_H

#include <stdbool.h>
#include <stdint.h>

#define KEYFMT_BASE64_LEN 44    /* 43 data characters + one '=' */
#define KEYFMT_HEX_LEN 64

/* 0 on success, -EINVAL (@out zeroed) unless @in is exactly 44 canonical base64 characters ending in '='. */
int keyfmt_base64_decode(uint8_t out[32], const char *in);
/* Writes 44 characters and a NUL. */
void keyfmt_base64_encode(char out[KEYFMT_BASE64_LEN + 1], const uint8_t k[32]);
/* 0 on success, -EINVAL (@out zeroed) unless @in is exactly 64 hex digits (either case). */
int keyfmt_hex_decode(uint8_t out[32], const char *in);
/* Writes 64 lowercase hex digits and a NUL. */
void keyfmt_hex_encode(char out[KEYFMT_HEX_LEN + 1], const uint8_t k[32]);
/* All-zero test that takes the same time for every key. */
bool keyfmt_is_zero(const uint8_t k[32]);
/* A key file as wg(8) reads it: one base64 key, surrounding whitespace ignored. 0, -errno if
 * it cannot be read, -EINVAL (@out zeroed) if it holds no key. The file's mode is not checked. */
int keyfmt_read_fd(uint8_t out[32], int fd);
int keyfmt_read_file(uint8_t out[32], const char *path);

#endif
