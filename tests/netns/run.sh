#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run every tests/netns/t-*.sh (or those named on the command line), count
# their PASS/FAIL/SKIP lines, check that nothing leaked, and end with
# "N passed, N failed, N skipped". Exit 0 only when nothing failed.
#
#   mg-lap (wireguard-go) -- mg-gw (DNAT 41641) -- mg-lan br0 -+- mg-rtr (meshgate)
#                                                               +- mg-host
#
# MG_ROUTER=wggo runs the scenarios against the wireguard-go baseline router.
cd "$(dirname "$0")" || exit 1
. ../lab/lab.sh

passed=0 failed=0 skipped=0
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t-*.sh)

count() {	# count LOGFILE
	passed=$((passed + $(grep -c '^PASS:' "$1")))
	failed=$((failed + $(grep -c '^FAIL:' "$1")))
	skipped=$((skipped + $(grep -c '^SKIP:' "$1")))
}

log=$(mktemp)
for t in "${tests[@]}"; do
	t=$(basename "$t")
	echo "== $t"
	./"$t" 2>&1 | tee "$log" | grep -E '^(PASS|FAIL|SKIP):|^lab:'
	rc=${PIPESTATUS[0]}
	count "$log"
	if [ "$rc" = 77 ]; then
		grep -q '^SKIP:' "$log" || { echo "SKIP: $t: (no reason given)"; skipped=$((skipped + 1)); }
	elif [ "$rc" != 0 ] && ! grep -q '^FAIL:' "$log"; then
		echo "FAIL: $t: exited $rc without a FAIL line; its output:"; cat "$log"
		failed=$((failed + 1))
	elif [ "$rc" = 0 ] && grep -q '^FAIL:' "$log"; then
		echo "FAIL: $t: printed FAIL but exited 0"; failed=$((failed + 1))
	fi
	# a failing test's diagnosis (lib.sh, t_diagnose) and other notes
	if grep -q '^FAIL:' "$log"; then grep '^#' "$log" || true; fi
done
rm -f "$log"

# The suite-wide leak check: nothing of the lab may outlive the tests.
leak() { echo "FAIL: leak check: $*"; failed=$((failed + 1)); }
for ns in "${LAB_NS[@]}"; do ip netns list | grep -qw "^$ns" && leak "namespace $ns"; done
# Only the lab's meshgate (its config path): other rooms may run their own.
pgrep -f "$MG_LAB_DIR/meshgate.conf" >/dev/null && leak "meshgate process $(pgrep -f "$MG_LAB_DIR/meshgate.conf" | tr '\n' ' ')"
pgrep -f "wireguard-go -f ($LAP_IF|$WGGO_RTR_IF)\$" >/dev/null && leak "wireguard-go process"
for s in $MG_IF $LAP_IF $WGGO_RTR_IF; do [ -e "$WG_SOCK_DIR/$s.sock" ] && leak "socket $WG_SOCK_DIR/$s.sock"; done
if [ "$((passed + failed + skipped))" != 0 ] && [ $failed = 0 ]; then echo "PASS: leak check"; passed=$((passed + 1)); fi

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
