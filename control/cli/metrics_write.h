/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * metrics_write.h - `meshgate metrics write PATH | metrics print`: the daemon's /metrics into a
 * file (atomic) or onto stdout.
 * An entry point for main.c, called with the arguments from the subcommand word on, i.e.
 * `meshgate metrics print`
 *   -> metrics_write_main(2, { "metrics", "print", NULL }).
 * Exit status: 0 ok, 1 failure (daemon not running, no reply...), 2 usage.
 */
#ifndef MG_CONTROL_CLI_METRICS_WRITE_H
#define MG_CONTROL_CLI_METRICS_WRITE_H

int metrics_write_main(int argc, char **argv);

#endif
