#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The interop suite: meshgate on a tailnet of real programs (Headscale, tailscaled). Builds one
# lab (tests/interop/lib.sh), runs scenarios 1-9 and 11 on it in an order where each leaves the lab as
# the next expects, takes it down, runs scenario 10 (its own labs, older versions), checks that
# nothing leaked, and ends with "N passed, N failed, N skipped". Exit 0 only when nothing failed.
#
#   ti-lap / ti-phone tailscaled --NATs-- internet (ti-hs headscale + DERP, ti-www)
#                                            `-- ti-gw -- home LAN -- ti-rtr meshgate, ti-rtr2, ti-host
#
# Run as root after scripts/tailnet-bins.sh; MESHGATE, MG_BUILD_DIR as for tests/netns.
# Names on the command line run only those scenarios (s01-join.sh ...).
cd "$(dirname "$0")" || exit 1
T=run
. ./lib.sh

passed=0 failed=0 skipped=0
all=(s01-join.sh s02-direct.sh s03-derp.sh s04-acl.sh s09-tsmp.sh s11-netcheck.sh s06-lifecycle.sh s07-exitnode.sh
	s08-ha.sh s05-reconnect.sh s10-versions.sh)
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=("${all[@]}")
count() {
	passed=$((passed + $(grep -c '^PASS:' "$1")))
	failed=$((failed + $(grep -c '^FAIL:' "$1")))
	skipped=$((skipped + $(grep -c '^SKIP:' "$1")))
}
log=$(mktemp)
start=$SECONDS

shared_up=0
for t in "${tests[@]}"; do
	t=$(basename "$t")
	if [ "$t" != s10-versions.sh ] && [ $shared_up = 0 ]; then
		echo "== lab (headscale $TI_HS_VER, tailscale $TI_TS_VER)"
		( ti_require ) | tee "$log"; rc=${PIPESTATUS[0]}
		if [ "$rc" = 77 ]; then count "$log"; break; fi
		[ "$rc" = 0 ] || { count "$log"; break; }
		t0=$SECONDS
		if ti_up >"$log.up" 2>&1; then
			echo "PASS: lab: headscale, laptop, phone and meshgate joined in $((SECONDS - t0)) s"; passed=$((passed + 1))
			shared_up=1
		else
			echo "FAIL: lab: setup failed after $((SECONDS - t0)) s:"; sed 's/^/# /' "$log.up" | tail -n 20
			failed=$((failed + 1)); break
		fi
	fi
	if [ "$t" = s10-versions.sh ] && [ $shared_up = 1 ]; then ti_down; shared_up=0; fi
	echo "== $t"
	t0=$SECONDS
	TI_SHARED=$shared_up ./"$t" 2>&1 | tee "$log" | grep -E '^(PASS|FAIL|SKIP):|^#|^ti:'
	rc=${PIPESTATUS[0]}
	count "$log"
	if [ "$rc" = 77 ]; then
		grep -q '^SKIP:' "$log" || { echo "SKIP: $t: (no reason given)"; skipped=$((skipped + 1)); }
	elif [ "$rc" != 0 ] && ! grep -q '^FAIL:' "$log"; then
		echo "FAIL: $t: exited $rc without a FAIL line; its output:"; cat "$log"; failed=$((failed + 1))
	elif [ "$rc" = 0 ] && grep -q '^FAIL:' "$log"; then
		echo "FAIL: $t: printed FAIL but exited 0"; failed=$((failed + 1))
	fi
	echo "   ($t: $((SECONDS - t0)) s)"
done
[ $shared_up = 1 ] && ti_down
rm -f "$log" "$log.up"

leak() { echo "FAIL: leak check: $*"; failed=$((failed + 1)); }
for n in "${TI_NS[@]}"; do ip netns list | grep -qw "^$n" && leak "namespace $n"; done
pgrep -f "$TI_DIR/(hs/config.yaml|lap/|phone/|rtr/meshgate.conf|rtr2/meshgate.conf)" >/dev/null &&
	leak "processes $(pgrep -f "$TI_DIR/(hs/config.yaml|lap/|phone/|rtr/meshgate.conf|rtr2/meshgate.conf)" | tr '\n' ' ')"
for s in mgti0 mgti1; do [ -e "$WG_SOCK_DIR/$s.sock" ] && leak "socket $WG_SOCK_DIR/$s.sock"; done
if [ "$((passed + failed + skipped))" != 0 ] && [ $failed = 0 ]; then echo "PASS: leak check"; passed=$((passed + 1)); fi

echo "interop: $((SECONDS - start)) s"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed = 0 ]
