/* SPDX-License-Identifier: GPL-2.0-only */
/* hswant_file.h - the wanted peer table (hswant.h) kept on disk across restarts. */
#ifndef MG_HSWANT_FILE_H
#define MG_HSWANT_FILE_H

#include "hswant.h"

/*
 * The last applied peer table and our addresses in @dir/@name (JSON {"self":[...],"peers":[...]},
 * 0600, atomic rename), so a restart during a control outage still serves. Load also
 * takes the older form (a bare peers array) and gives 0 with an empty table if the file is absent.
 */
int hs_want_save(const struct hs_want *w, const char *dir, const char *name);
int hs_want_load(struct hs_want *w, const char *dir, const char *name);

#endif
