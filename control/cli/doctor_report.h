/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * doctor_report.h - the verdicts `meshgate doctor` collects and prints: one line per finding,
 * OK / WARN / FAIL, with the command that fixes it, as text or as one JSON object.
 */
#ifndef MG_CONTROL_CLI_DOCTOR_REPORT_H
#define MG_CONTROL_CLI_DOCTOR_REPORT_H

#include <stdbool.h>

enum doctor_level { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL };

struct doctor;

struct doctor *doctor_new(void);
void doctor_free(struct doctor *d);

/* One verdict: @check is a short fixed name ("channels"), @fix the command that fixes it (NULL
 * or "" for OK), @fmt the finding. A check may report more than once (per route, per NIC). */
void doctor_report(struct doctor *d, enum doctor_level level, const char *check, const char *fix,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Prints every verdict and the counts ("doctor: N OK, N WARN, N FAIL"), or with @json one object
 * {"checks": [{check, status, detail, fix}...], "ok", "warn", "fail"}. True if any FAILed. */
bool doctor_print(const struct doctor *d, bool json);

#endif
