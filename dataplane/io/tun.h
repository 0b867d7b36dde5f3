/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * tun.h - the TUN device that carries the router's own tailnet addresses to the host stack
 * (like tailscale0): packets for a local tailnet address are written to it, and what the host
 * sends to tailnet prefixes routed through it is read back. Control thread only.
 */
#ifndef MG_TUN_H
#define MG_TUN_H

#include <stdint.h>
#include "addr.h"

/* Creates (or attaches to) TUN device name: IFF_TUN | IFF_NO_PI, non-blocking, non-persistent;
 * sets the MTU and brings it up over rtnetlink. Returns the fd or -errno. */
int tun_open(const char *name, uint32_t mtu);
/* Like `ip addr add` (IPv6 with IFA_F_NODAD, so it is usable at once). 0 or -errno; an address
 * already present counts as success. */
int tun_add_address(const char *name, const struct mg_ipprefix *p);
/* Routes p through the device (main table, scope link). 0 or -errno; EEXIST counts as success. */
/* Like `ip addr del`; an address that is not there is fine. */
int tun_del_address(const char *name, const struct mg_ipprefix *p);
int tun_add_route(const char *name, const struct mg_ipprefix *p);
/* Removes that route. 0 or -errno (-ESRCH when it is not there). */
int tun_del_route(const char *name, const struct mg_ipprefix *p);
/* Closes the fd; the device, its addresses and routes disappear with it. */
void tun_close(int fd, const char *name);

#endif
