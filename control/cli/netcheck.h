/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netcheck.h - `meshgate netcheck`: what `tailscale netcheck` reports (UDP, the public address,
 * whether the NAT maps per destination, IPv4/IPv6, the latency to every DERP region and the
 * nearest), measured against the STUN and DERP servers of the tailnet's DERP map.
 * Called from main.c with the arguments from the subcommand word on.
 * Exit status: 0 report made and some region answered; 1 report made but no region answered
 * (no network, or UDP and TCP blocked); 2 usage; 3 no DERP map (none saved in StateDir, none
 * given with --derp-map, or unreadable; or no StateDir known: several daemons running without
 * -i, or their sockets refuse a user who is not root); 4 no socket could be opened.
 */
#ifndef MG_CLI_NETCHECK_H
#define MG_CLI_NETCHECK_H

#define NC_EXIT_UNREACHABLE 1
#define NC_EXIT_USAGE       2
#define NC_EXIT_NO_MAP      3
#define NC_EXIT_NO_SOCKET   4

int netcheck_main(int argc, char **argv);

#endif
