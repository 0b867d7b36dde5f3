/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * xsk_prog.h - the XDP steering program on one interface: attach/detach through libxdp (so it
 * coexists with other XDP programs) and the map updates that tell it what meshgate must see.
 * Control-thread only.
 */
#ifndef MG_XSK_PROG_H
#define MG_XSK_PROG_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "io/nic_channels.h"
#include "../bpf/steer_maps.h"

struct xdp_program;

struct steer_prog {
	struct xdp_program *prog;
	int ifindex;
	int mode;                  /* enum xdp_attach_mode actually used */
	int xsks_fd, cfg_fd, local_fd, routes4_fd, routes6_fd, stats_fd;
	struct nic_channels chan;  /* the RX queue setting to restore at exit (main.c) */
};

int steer_prog_attach(struct steer_prog *sp, int ifindex, const char *obj_path);
void steer_prog_detach(struct steer_prog *sp);
int steer_prog_set_port(struct steer_prog *sp, uint16_t port);
/* Steer replies to the NAT port range (and ICMP echo replies with such an identifier) to us. */
int steer_prog_set_nat(struct steer_prog *sp, bool on);
int steer_prog_local(struct steer_prog *sp, int family, const uint8_t *addr, bool add);
/* Makes the local-address map hold exactly keys[0..n): adds the new ones, deletes the rest. */
int steer_prog_local_set(struct steer_prog *sp, const struct steer_local *keys, size_t n);
/* steer_prog_local_set with ifname's current addresses and IPv4 subnet broadcasts (getifaddrs):
 * called at start and after every change the netlink mirror sees, so a removed address stops
 * being steered. */
int steer_prog_local_sync(struct steer_prog *sp, const char *ifname);
int steer_prog_route(struct steer_prog *sp, int family, const uint8_t *addr, uint8_t cidr, bool add);
/* Sum of the per-CPU steering counters, indexed by enum steer_verdict, then STEER_ST_NOSOCK
 * (bpf/steer_maps.h). */
int steer_prog_stats(struct steer_prog *sp, uint64_t out[STEER_NSTATS]);

#endif
