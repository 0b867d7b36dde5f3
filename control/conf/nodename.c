// SPDX-License-Identifier: GPL-2.0-only
/* nodename.c - see nodename.h. */
#include <stdio.h>
#include <string.h>

#include "nodename.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

bool nodename_valid(const char *s)
{
	size_t n = 0, label = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		if (n == NODENAME_MAX)
			return false;
		if (s[n] == '.') {
			if (!label)
				return false;
			label = 0;
		} else if (name_char(s[n])) {
			label++;
		} else {
			return false;
		}
	}
	return n > 0;
}

void nodename_short(char *out, size_t len, const char *full)
{
	if (!len)
		return;
	snprintf(out, len, "%.*s", (int)strcspn(full, "."), full);
}
