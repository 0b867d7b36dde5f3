#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Everything CI does, as root on Debian 12: install the packages, build from
# scratch with -Werror, run the unit suites (meson test), then the network
# namespace integration tests (tests/netns/run.sh) on the lab:
#
#   mg-lap (wireguard-go) -- mg-gw (DNAT 41641) -- mg-lan br0 -+- mg-rtr (meshgate, AF_XDP)
#                                                               +- mg-host
#
# then the interop suite (tests/interop/run.sh): meshgate on a tailnet of real Headscale and
# tailscaled, built pinned by scripts/tailnet-bins.sh (needs Go >= 1.26 and its module proxy;
# without them that stage is a FAIL, or with MG_INTEROP_NO_GO=skip one counted SKIP).
# Ends with the lines that named a failure, if any, then "N passed, N failed, N skipped" over
# all; exits non-zero on any failure. MG_BUILD_DIR (default build) and MG_JOBS (ninja -j) may be set.

cd "$(dirname "$0")/.." || exit 1
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root: sudo scripts/test.sh" >&2; exit 1; }
. scripts/deps.sh
BUILD=${MG_BUILD_DIR:-build}
JOBS=()
[ -n "${MG_JOBS:-}" ] && JOBS=(-j "$MG_JOBS")

passed=0 failed=0 skipped=0
fails=$(mktemp)
# note SUITE LOG: keep the lines of LOG that name a failure (meson's "N/M name FAIL|TIMEOUT|ERROR"
# and our "FAIL:" lines), so that the end of a long run says which ones failed.
note() {
	grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)|^([a-z]+: )?FAIL' "$2" | awk '!seen[$0]++' |
		sed "s/^/$1: /" >> "$fails"
}
# fail MSG: a failure of this script's own, printed and kept for the recap
fail() { echo "FAIL: $*"; echo "FAIL: $*" >> "$fails"; }
summary() {
	if [ -s "$fails" ]; then
		echo "== failures"
		head -n 80 "$fails"
	fi
	rm -f "$fails"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ $failed = 0 ]
	exit
}

echo "== dependencies"
mg_install_deps || { failed=$((failed + 1)); summary; }

echo "== build (from scratch, -Werror)"
# The pinned tailnet programs (build/tailnet) survive the fresh build: they do not depend on it.
[ -d "$BUILD/tailnet" ] && rm -rf "$BUILD.tailnet" && mv "$BUILD/tailnet" "$BUILD.tailnet"
rm -rf "$BUILD"
if ! { meson setup "$BUILD" -Dwerror_ci=true && ninja -C "$BUILD" "${JOBS[@]}"; }; then
	fail build
	failed=$((failed + 1)); summary
fi

[ -d "$BUILD.tailnet" ] && mv "$BUILD.tailnet" "$BUILD/tailnet"

echo "== unit suites (meson test)"
log=$(mktemp)
meson test -C "$BUILD" --print-errorlogs 2>&1 | tee "$log"
mrc=${PIPESTATUS[0]}
# meson's own summary: "Ok: N", "Fail: N", "Skipped: N", "Timeout: N", ...
m() { local v; v=$(sed -n "s/^$1: *\([0-9]*\).*/\1/p" "$log" | tail -n 1); echo "${v:-0}"; }
u_ok=$(m Ok) u_fail=$(($(m Fail) + $(m Timeout) + $(m 'Unexpected Pass'))) u_skip=$(m Skipped)
if [ "$mrc" != 0 ] && [ "$u_fail" = 0 ]; then u_fail=1; fail "meson test exited $mrc"; fi
passed=$((passed + u_ok)) failed=$((failed + u_fail)) skipped=$((skipped + u_skip))
note unit "$log"
echo "unit: $u_ok passed, $u_fail failed, $u_skip skipped"

echo "== integration (tests/netns)"
MESHGATE="$PWD/$BUILD/control/meshgate" tests/netns/run.sh 2>&1 | tee "$log"
nrc=${PIPESTATUS[0]}
read -r n_ok n_fail n_skip < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed\(, \([0-9]*\) skipped\)\?$/\1 \2 \4/p' "$log" | tail -n 1)
[ -n "${n_ok:-}" ] || { n_ok=0 n_fail=1; fail "tests/netns/run.sh printed no summary"; }
if [ "$nrc" != 0 ] && [ "${n_fail:-0}" = 0 ]; then n_fail=1; fail "tests/netns/run.sh exited $nrc"; fi
passed=$((passed + n_ok)) failed=$((failed + n_fail)) skipped=$((skipped + ${n_skip:-0}))
note netns "$log"

echo "== sanitizers (tests/sanitize.sh ci: ASan+UBSan unit + netns, TSan unit + multi-worker netns)"
SAN_DIR="$BUILD-san" tests/sanitize.sh ci 2>&1 | tee "$log"
read -r s_ok s_fail s_skip < <(sed -n 's/^sanitize: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$log")
[ -n "${s_ok:-}" ] || { s_ok=0 s_fail=1 s_skip=0; fail "tests/sanitize.sh printed no summary"; }
passed=$((passed + s_ok)) failed=$((failed + s_fail)) skipped=$((skipped + s_skip))
note sanitizers "$log"

echo "== interop (tests/interop: real Headscale and tailscaled)"
scripts/tailnet-bins.sh "$BUILD" 2>&1 | tee "$log"
brc=${PIPESTATUS[0]}
if [ "$brc" = 2 ] && [ "${MG_INTEROP_NO_GO:-}" = skip ]; then
	echo "SKIP: interop: $(grep 'tailnet-bins:' "$log" | tail -n 1)"; skipped=$((skipped + 1))
elif [ "$brc" != 0 ]; then
	fail "interop: scripts/tailnet-bins.sh could not provide the pinned programs (exit $brc)"; failed=$((failed + 1))
else
	MESHGATE="$PWD/$BUILD/control/meshgate" MG_BUILD_DIR="$BUILD" tests/interop/run.sh 2>&1 | tee "$log"
	irc=${PIPESTATUS[0]}
	read -r i_ok i_fail i_skip < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' "$log" | tail -n 1)
	[ -n "${i_ok:-}" ] || { i_ok=0 i_fail=1 i_skip=0; fail "tests/interop/run.sh printed no summary"; }
	if [ "$irc" != 0 ] && [ "$i_fail" = 0 ]; then i_fail=1; fail "tests/interop/run.sh exited $irc"; fi
	passed=$((passed + i_ok)) failed=$((failed + i_fail)) skipped=$((skipped + i_skip))
	note interop "$log"
fi
rm -f "$log"

echo "== all suites"
summary
