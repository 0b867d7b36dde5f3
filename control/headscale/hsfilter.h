/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hsfilter.h - MapResponse.PacketFilter (tailcfg.FilterRule JSON) compiled into the
 * dataplane's struct filter. Forms: single IP, "*", CIDR, inclusive range "a-b" (split into
 * prefixes); "cap:" sources and CapGrant rules grant no packets and are skipped.
 */
#ifndef MG_HSFILTER_H
#define MG_HSFILTER_H

#include <jansson.h>
struct filter;

/* rules: a JSON array of FilterRule. NULL on a malformed filter (the caller keeps the old one). */
struct filter *hs_filter_compile(const json_t *rules, char *err, size_t errlen);

#endif
