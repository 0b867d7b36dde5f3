/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sockmark.h - FwMark on the kernel sockets meshgate opens, so that policy routing can exclude
 * them as it excludes WireGuard's (`ip rule add not fwmark M table T`): the DERP and Headscale
 * TCP connections and the metrics listener (accepted connections inherit its mark).
 *
 * What it does not cover: WireGuard's own UDP (handshakes, data, keepalives, disco, STUN) leaves
 * through AF_XDP or DPDK on the LAN device, never through the kernel's routing, so no rule can
 * catch it and there is no socket to mark; glibc's resolver (getaddrinfo_a for the LoginServer
 * and DERP names) opens its own unmarked sockets; the UAPI (AF_UNIX) and netlink sockets are
 * never routed.
 *
 * The mark is process-wide: set by control whenever FwMark is applied (start, SIGHUP, wg set),
 * read by whoever opens a socket. A changed mark applies to sockets opened from then on: DERP
 * and Headscale at their next connection, the metrics listener at the next start.
 */
#ifndef MG_CONF_SOCKMARK_H
#define MG_CONF_SOCKMARK_H

#include <stdint.h>

void sockmark_set(uint32_t mark);          /* 0 = off */
uint32_t sockmark_get(void);
/* SO_MARK = the current mark on @fd (nothing when off): 0 or -errno (-EPERM without
 * CAP_NET_ADMIN). A caller that cannot mark does not use the socket: unmarked, it could loop
 * through the tunnel the mark exists to avoid. */
int sockmark_apply(int fd);

#endif
