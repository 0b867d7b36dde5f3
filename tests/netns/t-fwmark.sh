#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Interface keys that used to be parsed and ignored: FwMark marks meshgate's own kernel sockets
# (here the metrics listener, and a scrape's accepted connection), CPUs pins worker i to the
# i-th CPU listed (the control thread stays where it was), and Device refuses a list.
#
#   mg-lap ==wg==> mg-rtr meshgate [FwMark = 0x1f, CPUs = C] --> mg-host
#                  ss -tlne: the metrics listener carries fwmark:0x1f
#                  /proc/PID/task/TID/status of mg-worker0: Cpus_allowed_list C
# (C = the highest CPU this shell may run on.)
#
. "$(dirname "$0")/lib.sh"
meshgate_only || { echo "SKIP: t-fwmark: meshgate only (its sockets and threads)"; exit 77; }
t_begin
lab_reset_laptop_session
mine=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/self/status)
cpu=${mine##*[-,]}
t_start_router_or_die --set "FwMark = 0x1f" --set "CPUs = $cpu"
pid=$(cat "$MG_LAB_DIR/meshgate.pid")

check "laptop -> host ping with FwMark and CPUs set" ping_ok lap $HOST4

# FwMark on the metrics listener; a scrape (curl) shows the accepted side carries it too.
listener=$(rtr ss -tlne "sport = :${METRICS_ADDR##*:}")
echo "# $listener" | tail -n 1
check "the metrics listener carries FwMark (ss: fwmark:0x1f)" grep -q "fwmark:0x1f" <<<"$listener"
check "a scrape still works" test -n "$(lab_metric meshgate_nat_flows)"

# CPUs: the worker thread on that CPU only, the process's main thread not pinned by it.
worker_cpus="" main_cpus=""
for t in /proc/$pid/task/*; do
	if [ "$(cat "$t/comm")" = mg-worker0 ]; then
		worker_cpus=$(awk '/^Cpus_allowed_list/ { print $2 }' "$t/status")
	fi
done
main_cpus=$(awk '/^Cpus_allowed_list/ { print $2 }' /proc/$pid/status)
echo "# worker 0 Cpus_allowed_list $worker_cpus, main thread $main_cpus"
expect_eq "worker 0 runs on CPU $cpu only (Cpus_allowed_list)" "$worker_cpus" "$cpu"
expect_eq "the main thread keeps the process's CPUs" "$main_cpus" "$mine"
check "the log says where the worker runs" grep -q "worker 0 pinned to CPU $cpu" "$MG_LAB_DIR/meshgate.log"
t_router_stop

# Device with two entries: refused with FILE:LINE, not the first one silently used.
sed 's/^\(\s*\)Device = .*/\1Device = eth0, eth1/' "$MG_LAB_DIR/meshgate.conf" >"$MG_LAB_DIR/twodev.conf"
out=$("$MESHGATE" check -c "$MG_LAB_DIR/twodev.conf" 2>&1); rc=$?
echo "# $out" | head -n 3
check "meshgate check refuses Device = eth0, eth1" test "$rc" -ne 0
check "the refusal names FILE:LINE: Device" grep -q "twodev.conf:[0-9]*: Device: one device only" <<<"$out"

# A CPU outside the process's affinity: a clear startup failure, not a silent fallback.
if [ "$(nproc --all)" -le 7 ]; then
	if t_router_start --set "CPUs = 7"; then
		fail "CPUs = 7 on a machine without CPU 7: meshgate started"
		t_router_stop
	else
		check "CPUs = 7 on a machine without CPU 7 fails to start, naming the CPU" \
			grep -q "worker 0 on CPU 7 (CPUs)" "$MG_LAB_DIR/meshgate.log"
		check_fails "and leaves no XDP program on eth0" lab_rtr_has_xdp
		rm -f "$MG_LAB_DIR/meshgate.pid"
	fi
fi
t_end
