/* SPDX-License-Identifier: GPL-2.0-only */
/* hswant_file.h - the wanted peer table (hswant.h) kept on disk across restarts. */
#ifndef MG_HSWANT_FILE_H
#define MG_HSWANT_FILE_H

#include <jansson.h>
#include "hswant.h"

/*
 * The last applied peer table, our addresses and the packet filter in force (the PacketFilter
 * rules as Headscale sent them; NULL = none received yet) in @dir/@name (JSON
 * {"self":[...],"peers":[...],"filter":[...]}, 0600, atomic rename), so a restart during a
 * control outage still serves, and only what the last policy allowed. Load also takes the older
 * forms (a bare peers array; no "filter": *filter = NULL) and gives 0 with an empty table and no
 * filter if the file is absent. *filter is a new reference for the caller.
 */
int hs_want_save(const struct hs_want *w, const json_t *filter, const char *dir, const char *name);
int hs_want_load(struct hs_want *w, json_t **filter, const char *dir, const char *name);

#endif
