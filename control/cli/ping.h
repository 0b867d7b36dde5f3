/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ping.h - `meshgate ping PEER`: ICMP echo through the tunnel to a peer, with the path it took.
 * An entry point for main.c, called with the arguments from the subcommand word on, i.e.
 * `meshgate ping PEER`
 *   -> ping_main(2, { "ping", "PEER", NULL }).
 * Exit status: 0 ok, 1 failure (daemon not running, no reply...), 2 usage.
 */
#ifndef MG_CONTROL_CLI_PING_H
#define MG_CONTROL_CLI_PING_H

int ping_main(int argc, char **argv);

#endif
