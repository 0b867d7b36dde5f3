/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * doctor_nic.h - `meshgate doctor`'s checks of the configured Device for Backend = xdp: driver,
 * XDP modes and zero-copy, RX channels against Queues, offloads, MTU, interrupts.
 */
#ifndef MG_CONTROL_CLI_DOCTOR_NIC_H
#define MG_CONTROL_CLI_DOCTOR_NIC_H

#include "config.h"
#include "doctor_report.h"

/* One set of verdicts per Device of @cfg, read in the caller's network namespace. */
void doctor_nic_checks(struct doctor *d, const struct mg_config *cfg);

#endif
