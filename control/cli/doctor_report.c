// SPDX-License-Identifier: GPL-2.0-only
/*
 * doctor_report.c - the verdicts of `meshgate doctor`, kept in order and printed at the end, so
 * the JSON form is one object. A fixed array: doctor makes a few dozen findings.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include "doctor_report.h"

#define DOCTOR_MAX 96

struct doctor_item {
	enum doctor_level level;
	char check[16];
	char detail[256];
	char fix[256];
};

struct doctor {
	struct doctor_item items[DOCTOR_MAX];
	unsigned n, counts[3];
};

static const char *const level_names[] = { "OK", "WARN", "FAIL" };

void doctor_report(struct doctor *d, enum doctor_level level, const char *check, const char *fix,
		   const char *fmt, ...)
{
	struct doctor_item *it;
	va_list ap;

	d->counts[level]++;
	if (d->n == DOCTOR_MAX)
		return;
	it = &d->items[d->n++];
	it->level = level;
	snprintf(it->check, sizeof(it->check), "%s", check);
	snprintf(it->fix, sizeof(it->fix), "%s", fix ? fix : "");
	va_start(ap, fmt);
	vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
	va_end(ap);
}


static void print_text(const struct doctor *d)
{
	for (unsigned i = 0; i < d->n; i++) {
		const struct doctor_item *it = &d->items[i];

		printf("%-4s  %-10s  %s\n", level_names[it->level], it->check, it->detail);
		if (it->fix[0] && it->level != DOCTOR_OK)
			printf("      %-10s  fix: %s\n", "", it->fix);
	}
	printf("doctor: %u OK, %u WARN, %u FAIL\n", d->counts[DOCTOR_OK], d->counts[DOCTOR_WARN],
	       d->counts[DOCTOR_FAIL]);
}

static void print_json(const struct doctor *d)
{
	json_t *checks = json_array(), *root;
	char *s;

	for (unsigned i = 0; i < d->n; i++) {
		const struct doctor_item *it = &d->items[i];

		json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:s}", "check", it->check,
							"status", level_names[it->level], "detail", it->detail,
							"fix", it->fix));
	}
	root = json_pack("{s:o, s:i, s:i, s:i}", "checks", checks, "ok", d->counts[DOCTOR_OK],
			 "warn", d->counts[DOCTOR_WARN], "fail", d->counts[DOCTOR_FAIL]);
	s = json_dumps(root, JSON_INDENT(2));
	if (s)
		puts(s);
	free(s);
	json_decref(root);
}

struct doctor *doctor_new(void) { return calloc(1, sizeof(struct doctor)); }
void doctor_free(struct doctor *d) { free(d); }

bool doctor_print(const struct doctor *d, bool json)
{
	if (json)
		print_json(d);
	else
		print_text(d);
	return d->counts[DOCTOR_FAIL] > 0;
}
