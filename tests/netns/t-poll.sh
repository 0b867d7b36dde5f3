#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The worker's idle policy (config Poll): adaptive (the default) gives the core back when
# the LAN is quiet and still forwards at once when traffic comes; busy keeps polling. Measured as
# the router process's CPU time (utime + stime from /proc/PID/stat) over a quiet interval.
. "$(dirname "$0")/lib.sh"
if ! meshgate_only; then skip "the Poll policy (meshgate's worker)"; exit 0; fi
t_begin

# cpu_pct SECONDS: the router's CPU use over SECONDS, in percent of one core.
cpu_pct() {
	local hz t0 t1
	hz=$(getconf CLK_TCK)
	t0=$(awk '{ print $14 + $15 }' /proc/$MG_PID/stat)
	sleep "$1"
	t1=$(awk '{ print $14 + $15 }' /proc/$MG_PID/stat)
	echo $(( (t1 - t0) * 100 / hz / $1 ))
}

t_start_router_or_die
check "adaptive: tunnel up (laptop -> host)" ping_ok lap $HOST4 5
sleep 1
pct=$(cpu_pct 4)
echo "# adaptive, quiet LAN: $pct% of a core"
check "adaptive (default): a quiet router uses under 15% of a core ($pct%)" test "$pct" -lt 15
check "adaptive: the first packet after the quiet spell is forwarded" ping_ok lap $HOST4 3
t_router_stop

# A fresh router has no session: the laptop forgets its own (as in the other restart tests).
lab_reset_laptop_session
t_start_router_or_die --poll busy
check "busy: tunnel up (laptop -> host)" ping_ok lap $HOST4 5
sleep 1
pct=$(cpu_pct 4)
echo "# busy, quiet LAN: $pct% of a core"
check "busy: the worker keeps polling a quiet link (over 50% of a core: $pct%)" test "$pct" -gt 50
t_router_stop
t_end
