#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The worker's idle policy (config Poll): adaptive (the default) gives the core back when
# the LAN is quiet and still forwards at once when traffic comes; busy keeps polling. Measured as
# the router process's CPU time (utime + stime from /proc/PID/stat) over a quiet interval for the
# adaptive policy (another load on the machine can only lower it), and for busy by what does not
# depend on the machine's load: the worker thread never sleeps (its voluntary context switches
# stay put; preemption by other work counts as involuntary) while its idle loop keeps turning.
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

# vol_switches: the worker thread's voluntary context switches so far (it slept or blocked).
vol_switches() {
	local t
	for t in /proc/$MG_PID/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = mg-worker0 ] || continue
		awk '/^voluntary_ctxt_switches/ { print $2 }' "$t/status"
		return
	done
	echo 0
}
idle_loops() { lab_metric meshgate_worker_idle_loops_total; }

t_start_router_or_die
check "adaptive: tunnel up (laptop -> host)" ping_ok lap $HOST4 5
sleep 1
v0=$(vol_switches)
pct=$(cpu_pct 4)
v1=$(vol_switches)
echo "# adaptive, quiet LAN: $pct% of a core, $((v1 - v0)) sleeps of the worker"
check "adaptive: the worker sleeps while the LAN is quiet ($((v1 - v0)) voluntary switches in 4 s)" test $((v1 - v0)) -gt 100
check "adaptive (default): a quiet router uses under 15% of a core ($pct%)" test "$pct" -lt 15
check "adaptive: the first packet after the quiet spell is forwarded" ping_ok lap $HOST4 3
t_router_stop

# A fresh router has no session: the laptop forgets its own (as in the other restart tests).
lab_reset_laptop_session
t_start_router_or_die --poll busy
check "busy: tunnel up (laptop -> host)" ping_ok lap $HOST4 5
sleep 1
v0=$(vol_switches) l0=$(idle_loops)
pct=$(cpu_pct 4)
v1=$(vol_switches) l1=$(idle_loops)
echo "# busy, quiet LAN: $pct% of a core, $((v1 - v0)) sleeps, $((l1 - l0)) idle loops of the worker"
check "busy: the worker never sleeps on a quiet link ($((v1 - v0)) voluntary switches in 4 s)" test $((v1 - v0)) -le 10
check "busy: ... and keeps polling it ($((l1 - l0)) idle loops in 4 s)" test $((l1 - l0)) -gt 100000
t_router_stop
t_end
