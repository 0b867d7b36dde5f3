/* SPDX-License-Identifier: GPL-2.0-only */
/* text.h - the whitespace rule of the text forms read here: config lines, key files, `-c FILE`. */
#ifndef MG_CONF_TEXT_H
#define MG_CONF_TEXT_H

/* Cuts leading and trailing whitespace (isspace) off @s in place; returns the first kept char. */
char *text_trim(char *s);

#endif
