/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * doctor.h - `meshgate doctor [-c FILE] [--json]`: will this host run meshgate well? Each check
 * inspects one thing (the kernel, a limit, a capability, the configured NIC, the config against
 * the host) and reports OK, WARN or FAIL with the command that fixes it. It only reads: nothing
 * is attached, changed, or bound for longer than the ListenPort probe.
 *
 * Called from main.c with the arguments from the subcommand word on. Without -c it reads
 * /etc/meshgate/meshgate.conf. Exit status: 0 when nothing FAILs (OK and WARN only), 1 when a
 * check FAILs or the config cannot be read, 2 usage.
 */
#ifndef MG_CONTROL_CLI_DOCTOR_H
#define MG_CONTROL_CLI_DOCTOR_H

int doctor_main(int argc, char **argv);

#endif
