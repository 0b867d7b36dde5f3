/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * handshake.h - WireGuard handshake messages on the control thread (handshake.c), and the
 * control thread's UDP send from the WireGuard port through a worker's TX queue.
 */
#ifndef MG_HANDSHAKE_H
#define MG_HANDSHAKE_H

#include <stdbool.h>
#include <stdint.h>
#include "ctldev.h"

void hs_receive(struct mg_ctl *dev, const struct punt_msg *m, uint64_t now);
void hs_send_initiation(struct mg_ctl *dev, struct peer *p, uint64_t now, bool is_retry);
void hs_send_keepalive(struct mg_ctl *dev, struct peer *p, uint64_t now);
/* Queues @msg to worker 0's TX as a UDP datagram from the listen port; false (counted as the
 * handshake drop "not_sent") when the queue is full or @len too long. */
bool ctl_send_udp(struct mg_ctl *dev, const struct mg_endpoint *dst, const void *msg, uint16_t len);

#endif
