/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hskey.h - Tailscale key text forms and the persistent keys in StateDir.
 * Text form: lowercase type prefix + 64 hex digits of the raw 32 bytes, e.g.
 * "nodekey:<hex>"; parsing accepts either hex case. Private keys on disk are "privkey:<hex>".
 */
#ifndef MG_HSKEY_H
#define MG_HSKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HSKEY_LEN 32
/* Longest prefix is "discokey:" (9) + 64 hex + NUL. */
#define HSKEY_TEXT_MAX 80

/* Writes "<prefix><64 hex>" and a NUL into @out (HSKEY_TEXT_MAX bytes). */
void hskey_format(char out[HSKEY_TEXT_MAX], const char *prefix, const uint8_t key[HSKEY_LEN]);
/* 0, or -EINVAL (@key zeroed) unless @text is exactly @prefix followed by 64 hex digits. */
int hskey_parse(uint8_t key[HSKEY_LEN], const char *prefix, const char *text);
/* X25519 public key of @priv (clamping is part of X25519). */
void hskey_public(uint8_t pub[HSKEY_LEN], const uint8_t priv[HSKEY_LEN]);
/* A fresh clamped X25519 private key. */
void hskey_generate(uint8_t priv[HSKEY_LEN]);
bool hskey_is_zero(const uint8_t key[HSKEY_LEN]);

/*
 * Loads "privkey:<hex>" from @dir/@name, or creates it (mode 0600, O_EXCL, fsync'd) when absent.
 * A file readable or writable by group/others is refused (-EPERM), as tailscaled's state
 * would be. 0 or -errno; @err (may be NULL) names the file and the cause.
 */
int hskey_load_or_create(uint8_t priv[HSKEY_LEN], const char *dir, const char *name, char *err, size_t errlen);
/* Replaces @dir/@name atomically (temp file + rename) with @priv; 0 or -errno. */
int hskey_store(const uint8_t priv[HSKEY_LEN], const char *dir, const char *name);

#endif
