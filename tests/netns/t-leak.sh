#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Leaks and memory errors over a whole life: meshgate runs under valgrind memcheck
# through start, traffic, 1,000 peer changes with `wg set` (500 peers added in batches of 50,
# then removed) and SIGTERM. valgrind must find no definitely lost block and no invalid read,
# write or free; meshgate must still forward afterwards and stop cleanly.
#
#   mg-lap (wireguard-go) ==ping==> mg-gw (DNAT) ==> mg-rtr [valgrind meshgate] ==> mg-host
#                                                        ^ wg set meshgate0 peer ... (UAPI)
#
# Suppressions: valgrind-bpf.supp, only uninitialised-value reports inside libbpf/libxdp (valgrind
# does not model what bpf(2) writes back; the file says why). With those, the whole report must
# be clean: ERROR SUMMARY 0, so an uninitialised value in meshgate's own code fails the test too.
# Busy-polling workers are slow under valgrind, so pings get a long deadline.
# A meshgate built with ASan (tests/sanitize.sh asan --netns) cannot run under valgrind; then the
# same life runs without it and LeakSanitizer is the judge: a leak or bad access makes meshgate
# exit non-zero at SIGTERM, and its report in the log fails the test.
. "$(dirname "$0")/lib.sh"
N_PEERS=500 BATCH=50
VG_LOG="$MG_LAB_DIR/valgrind.log"

meshgate_only || { echo "SKIP: $T_NAME: a valgrind run of meshgate (MG_ROUTER=$MG_ROUTER)"; exit 77; }
SANITIZED=0 UNDER=valgrind
ldd "$MESHGATE" 2>/dev/null | grep -qE 'lib(a|t)san' && SANITIZED=1
[ $SANITIZED = 1 ] && UNDER=a-sanitizer
[ $SANITIZED = 1 ] || command -v valgrind >/dev/null ||
	{ echo "SKIP: $T_NAME: machine lacks valgrind (apt-get install valgrind)"; exit 77; }
t_begin

# The lab starts "$MESHGATE run -c FILE" with exec, so a wrapper that execs valgrind keeps the pid
# the lab signals and waits for.
REAL_MESHGATE=$MESHGATE
rm -f "$VG_LOG"
if [ $SANITIZED = 0 ]; then
	MESHGATE="$MG_LAB_DIR/valgrind-meshgate"
	cat >"$MESHGATE" <<-EOF
	#!/bin/sh
	exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite \\
		--errors-for-leak-kinds=definite --fair-sched=yes --num-callers=30 \\
		--suppressions="$(cd "$(dirname "$0")" && pwd)/valgrind-bpf.supp" \\
		--log-file="$VG_LOG" "$REAL_MESHGATE" "\$@"
	EOF
	chmod +x "$MESHGATE"
fi

# lab_start_meshgate waits 10 s for the UAPI socket; valgrind needs longer to get there.
start_slow() {
	lab_start_meshgate && return 0
	kill -0 "$MG_PID" 2>/dev/null && wait_for 60 test -S "$WG_SOCK_DIR/$MG_IF.sock"
}
start_slow || { fail "meshgate under valgrind did not come up"; cat "$VG_LOG" >&2; exit 1; }
T_ROUTER_UP=1

slow_ping() { ip netns exec "mg-$1" ping -n -q -c 3 -i 0.5 -w 40 "$2" >/dev/null 2>&1; }
check "traffic under $UNDER: ping laptop -> host" slow_ping lap $HOST4
check "traffic under $UNDER: ping host -> laptop" slow_ping host $LAP_TS4

# 500 random public keys (any 32 bytes; the rare low-order one is ignored like any other peer).
mapfile -t keys < <(random_keys $N_PEERS)
errs=$(peers_set add $BATCH "${keys[@]}")
expect_eq "all $N_PEERS peers listed by wg show" "$(wg show $MG_IF peers | wc -l)" $((N_PEERS + 1))
errs=$((errs + $(peers_set remove $BATCH "${keys[@]}")))
changes=$((2 * N_PEERS))
expect_eq "$changes peer changes applied by wg set without error" "$errs" 0
expect_eq "only the laptop is left" "$(wg show $MG_IF peers)" "$(lab_lap_pub)"
check "traffic after the churn: ping laptop -> host" slow_ping lap $HOST4

# SIGTERM; valgrind writes its report as the process exits (allow for the leak scan).
pid=$MG_PID
kill -TERM "$pid"
wait_for 60 sh -c "! kill -0 $pid" || fail "meshgate under valgrind did not exit within 60 s of SIGTERM"
t_router_stop

if [ $SANITIZED = 1 ]; then
	n=$(grep -cE 'ERROR: (AddressSanitizer|LeakSanitizer)|WARNING: ThreadSanitizer|runtime error:' "$MG_LAB_DIR/meshgate.log")
	expect_eq "sanitizer: no report in meshgate's log" "$n" 0
	[ "$n" = 0 ] || grep -A15 -E 'ERROR: |runtime error:' "$MG_LAB_DIR/meshgate.log" | head -n 60 | sed 's/^/# /'
elif [ ! -s "$VG_LOG" ]; then
	fail "no valgrind report at $VG_LOG"
else
	grep -q 'ERROR SUMMARY' "$VG_LOG" || fail "valgrind report is incomplete (no ERROR SUMMARY)"
	lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$VG_LOG" | tr -d , | tail -n 1)
	expect_eq "valgrind: no definitely lost bytes" "${lost:-0}" 0
	bad=$(grep -cE 'Invalid (read|write|free)|Mismatched free|Source and destination overlap' "$VG_LOG")
	expect_eq "valgrind: no invalid read, write or free" "$bad" 0
	errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$VG_LOG" | tr -d , | tail -n 1)
	expect_eq "valgrind: ERROR SUMMARY 0 (uninitialised values included)" "${errors:-none}" 0
	if [ $T_FAILS != 0 ]; then
		grep -A12 -E 'Invalid|uninitialised|definitely lost in' "$VG_LOG" | head -n 80 | sed 's/^/# /'
	fi
fi
t_end
