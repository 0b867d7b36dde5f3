/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * derp_dial.h - a DERP connection from IDLE to the HTTP upgrade (derp_dial.c): resolve, TCP,
 * TLS, GET /derp. Above derp_conn.h, whose primitives it uses; derp.c drives it.
 */
#ifndef MG_DERP_DIAL_H
#define MG_DERP_DIAL_H

#include <stdint.h>
#include "derp_conn.h"

/* IDLE -> RESOLVE/TCP (start), RESOLVE -> TCP (poll), TLS -> HTTP (step). */
void derp_dial_start(struct derp_conn *c, uint64_t now);
void derp_dial_resolve_poll(struct derp_conn *c, uint64_t now);
void derp_dial_tls_step(struct derp_conn *c, uint64_t now);

#endif
