/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * status.h - `meshgate status`: the device, its peers and the daemon's health, as a table or JSON.
 * An entry point for main.c, called with the arguments from the subcommand word on, i.e.
 * `meshgate status --json`
 *   -> status_main(2, { "status", "--json", NULL }).
 * Exit status: 0 ok, 1 failure (daemon not running, no reply...), 2 usage, 3 several daemons
 * running and none picked (-i NAME).
 */
#ifndef MG_CONTROL_CLI_STATUS_H
#define MG_CONTROL_CLI_STATUS_H

int status_main(int argc, char **argv);

#endif
