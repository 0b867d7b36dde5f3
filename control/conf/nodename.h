/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * nodename.h - a tailnet node's name (tailcfg.Node.Name: "lap.tail.example." or
 * "laptop.example.ts.net."), as the netmap, the StateDir copy of it, the UAPI get reply and
 * `meshgate status` carry it. One rule for all of them, so a name that passed one never breaks
 * another: it travels as the value of a UAPI "key=value" line and inside JSON strings unescaped.
 */
#ifndef MG_CONF_NODENAME_H
#define MG_CONF_NODENAME_H

#include <stdbool.h>
#include <stddef.h>

/* A DNS name of at most 253 characters plus the root's trailing dot. */
#define NODENAME_MAX 254

/*
 * True if @s is 1..NODENAME_MAX characters of letters, digits, '-', '_' and '.', with no empty
 * label ("a..b", a leading dot). Everything else (spaces, '=', quotes, control characters,
 * non-ASCII) is refused, so a valid name can never split or end a UAPI line or a JSON string.
 */
bool nodename_valid(const char *s);
/*
 * The short name `tailscale status` shows: @full up to its first dot ("lap.tail.example." ->
 * "lap"). @out gets "" when @full is empty. Truncated to @len - 1 characters.
 */
void nodename_short(char *out, size_t len, const char *full);

#endif
