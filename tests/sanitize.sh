#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Sanitizer runs, each in its own build directory beside the normal one, with the
# meson test setup of the same name (tests/meson.build: the *SAN_OPTIONS and suppressions):
#
#   asan  -Db_sanitize=address,undefined: every meson suite (unit, fuzz smoke runs, ...), and with
#         --netns also tests/netns/run.sh against the sanitized meshgate (a report makes meshgate
#         exit non-zero, which each test's stop check turns into a FAIL; t-leak.sh also greps the
#         log). The netns logs land in $SAN_DIR-asan.netns.log and $SAN_DIR-tsan.netns.log.
#   tsan  -Db_sanitize=thread: the unit suites (the threaded code: RCU tables, rings, workers), and
#         with --netns tests/netns/run.sh against the TSan meshgate (reports fail t-leak.sh)
#   ci    what scripts/test.sh runs after the normal suites: asan (every suite, and the netns
#         scripts of SAN_ASAN_NETNS) then tsan (unit suites, and the multi-worker netns scripts
#         of SAN_TSAN_NETNS); the lists below are chosen to keep CI's addition under 8 minutes.
#   ci-tsan  the TSan half of ci alone (the threaded suites and SAN_TSAN_NETNS).
# A netns script named in a list that does not exist counts as a failure.
#
# Usage: tests/sanitize.sh [asan|tsan|all|ci|ci-tsan] [--netns[=t-a.sh,t-b.sh]] [-- extra meson test args]
# Environment: SAN_DIR (default build-san) prefixes the build directories (build-san-asan, ...);
# SAN_NETNS_RUN (default tests/netns/run.sh) runs the netns scripts, e.g. a private lab's copy.
# Prints one summary line per setup, then "sanitize: N passed, N failed, N skipped" over all of
# them, and exits non-zero if any test failed or a build broke.
set -u
cd "$(dirname "$0")/.." || exit 1
what=all netns=0 netns_list="" extra=()
while [ $# -gt 0 ]; do
	case $1 in
	asan|tsan|all|ci|ci-tsan) what=$1 ;;
	--netns) netns=1 ;;
	--netns=*) netns=1 netns_list=${1#--netns=} ;;
	--) shift; extra=("$@"); break ;;
	*) echo "usage: $0 [asan|tsan|all|ci|ci-tsan] [--netns[=t-a.sh,...]] [-- meson test args]" >&2; exit 2 ;;
	esac
	shift
done
SAN_DIR=${SAN_DIR:-build-san}
# ci: under ASan+UBSan the scripts that drive the most code (data path both ways, SNAT, MTU and
# ICMP, outer IPv6, handshakes and rekeys, reload, the lifecycle leak check, least privilege);
# under TSan the ones with more than one worker or a worker racing the control thread.
SAN_ASAN_NETNS=${SAN_ASAN_NETNS:-t-tcp.sh,t-snat.sh,t-mtu.sh,t-outer6.sh,t-rekey.sh,t-reload.sh,t-leak.sh,t-privdrop.sh,t-junk.sh}
SAN_TSAN_NETNS=${SAN_TSAN_NETNS:-t-queues.sh,t-tcp.sh,t-reload.sh,t-cfgchurn.sh}
# ci: TSan on the unit suites whose code has threads (RCU tables, rings, the NAT table shared by
# workers, the netlink mirror); crypto, parsers and codecs are single-threaded.
SAN_TSAN_SUITES=${SAN_TSAN_SUITES:-dataplane netlink wireguard ops}
case $what in ci|ci-tsan) netns=1 ;; esac
total_ok=0 total_fail=0 total_skip=0
summary=() rc=0

# setup NAME SANITIZERS [SUITE...]: configure (or reconfigure) one sanitized tree and build
# meshgate, its XDP object, the DoS forger and what the tests of SUITEs (default: all) run,
# nothing else (no benchmarks but the ones a test runs). -O1: ASan's advice, and a quicker build than -O2.
setup() {
	local name=$1 dir=$SAN_DIR-$1 san=$2 targets
	local args=(-Db_sanitize="$san" -Db_lundef=false -Dbuildtype=plain "-Dc_args=-O1 -g -fno-omit-frame-pointer")
	shift 2
	if [ -d "$dir/meson-private" ]; then
		meson configure "$dir" "${args[@]}" >/dev/null
	else
		meson setup "$dir" "${args[@]}" >/dev/null
	fi || { echo "sanitize: $name: meson setup failed" >&2; return 1; }
	ninja -C "$dir" build.ninja >/dev/null 2>&1    # regenerate first: the test list may have grown
	targets=$(python3 -c '
import json, os, subprocess, sys
d, want = os.path.realpath(sys.argv[1]), set(sys.argv[2:])
intro = lambda what: json.loads(subprocess.run(["meson", "introspect", d, what], capture_output=True).stdout)
files = {t["id"]: t["filename"] for t in intro("--targets")}
built = {os.path.realpath(f) for fs in files.values() for f in fs}
out = {"control/meshgate", "tests/dos/forge"}
out.update(os.path.relpath(f, d) for f in built if os.path.relpath(f, d).startswith("bpf/"))
for t in intro("--tests"):
    if want and not want & {s.split(":")[-1] for s in t["suite"]}:
        continue
    for i in t.get("depends", []):
        out.update(os.path.relpath(os.path.realpath(f), d) for f in files.get(i, []))
    for a in t["cmd"]:     # executables a test runs directly are not always in its depends
        a = os.path.realpath(os.path.join(d, a))
        if a in built:
            out.add(os.path.relpath(a, d))
print(" ".join(sorted(out)))' "$dir" "$@")
	# shellcheck disable=SC2086
	ninja -C "$dir" -j2 $targets >"$dir.build.log" 2>&1 ||
		{ echo "sanitize: $name build failed, see $dir.build.log" >&2; tail -n 20 "$dir.build.log" >&2; return 1; }
}

# run NAME [SUITE...]: meson test in that tree; one summary line from its counts.
run() {
	local name=$1 dir=$SAN_DIR-$1 log s args=()
	shift
	for s in "$@"; do args+=(--suite "$s"); done
	log=$(mktemp)
	meson test -C "$dir" --setup "$name" --no-rebuild --print-errorlogs "${args[@]}" "${extra[@]}" 2>&1 |
		tee "$log" | grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)' | awk '!seen[$0]++'
	local st=${PIPESTATUS[0]}
	summary+=("$name: $(awk '/^(Ok|Fail|Skipped|Timeout):/ { printf "%s %s  ", $1, $2 }' "$log")(exit $st)")
	m() { local v; v=$(sed -n "s/^$1: *\([0-9]*\).*/\1/p" "$log" | tail -n 1); echo "${v:-0}"; }
	local ok fl
	ok=$(m Ok) fl=$(($(m Fail) + $(m Timeout) + $(m 'Unexpected Pass')))
	[ "$st" != 0 ] && [ "$fl" = 0 ] && fl=1
	total_ok=$((total_ok + ok)) total_fail=$((total_fail + fl)) total_skip=$((total_skip + $(m Skipped)))
	rm -f "$log"
	[ "$st" = 0 ]
}

# netns NAME LIST: tests/netns/run.sh (every script, or the comma-separated LIST) against that
# tree's meshgate, with the setup's options in the environment; counted into the totals.
netns_run() {
	local name=$1 dir=$SAN_DIR-$1 list=() st line
	[ "$2" = - ] && return 0       # every listed script was missing (counted by checked)
	[ -n "$2" ] && IFS=, read -r -a list <<<"$2"
	MESHGATE="$(realpath "$dir")/control/meshgate" "${SAN_NETNS_RUN:-tests/netns/run.sh}" "${list[@]}" \
		>"$dir.netns.log" 2>&1
	st=$?
	line=$(tail -n 1 "$dir.netns.log")
	summary+=("$name netns (${2:-all scripts}): $line")
	grep -E '^FAIL' "$dir.netns.log" | sed "s/^/$name: /"
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
		total_ok=$((total_ok + BASH_REMATCH[1])) total_fail=$((total_fail + BASH_REMATCH[2]))
		total_skip=$((total_skip + BASH_REMATCH[3]))
	else
		total_fail=$((total_fail + 1))
	fi
	[ "$st" = 0 ]
}

# The unit suites: everything registered with meson except the long fuzz smoke runs' suite.
unit_suites() {
	meson introspect "$SAN_DIR-$1" --tests 2>/dev/null |
		python3 -c 'import json,sys; print(" ".join(sorted({s.split(":")[-1] for t in json.load(sys.stdin) for s in t["suite"]} - {"fuzz"})))'
}

# The run-time options for the netns runs (meson test sets them itself from the setups).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:history_size=7:suppressions=$PWD/tests/tsan.supp}
# checked VAR: keep the scripts of the list in VAR that exist; each listed one that does not is a
# failure, counted and named here (not dropped: a renamed script would silently leave the run).
# An empty list afterwards leaves VAR "-", which netns_run skips (empty would mean every script).
checked() {
	local t l out=()
	IFS=, read -r -a l <<<"${!1}"
	[ ${#l[@]} = 0 ] && return
	for t in "${l[@]}"; do
		if [ -f "tests/netns/$t" ]; then out+=("$t"); continue; fi
		echo "sanitize: FAIL: listed netns script tests/netns/$t does not exist" >&2
		summary+=("missing netns script: $t"); total_fail=$((total_fail + 1)) rc=1
	done
	[ ${#out[@]} = 0 ] && out=(-)
	printf -v "$1" '%s' "$(IFS=,; echo "${out[*]}")"
}
case $what in
ci|ci-tsan) asan_list=$SAN_ASAN_NETNS tsan_list=$SAN_TSAN_NETNS ;;
*) asan_list=$netns_list tsan_list=$netns_list ;;
esac
if [ $netns = 1 ]; then
	case $what in asan|all|ci) checked asan_list ;; esac
	case $what in tsan|ci|ci-tsan) checked tsan_list ;; all) tsan_list=$asan_list ;; esac
fi

if [ $what = asan ] || [ $what = all ] || [ $what = ci ]; then
	t0=$SECONDS
	if setup asan address,undefined; then
		run asan || rc=1
		if [ $netns = 1 ]; then netns_run asan "$asan_list" || rc=1; fi
	else
		summary+=("asan: build failed"); rc=1; total_fail=$((total_fail + 1))
	fi
	summary+=("asan: $((SECONDS - t0)) s")
fi
if [ $what = tsan ] || [ $what = all ] || [ $what = ci ] || [ $what = ci-tsan ]; then
	t0=$SECONDS
	case $what in ci|ci-tsan) tsan_suites=$SAN_TSAN_SUITES ;; *) tsan_suites=$(unit_suites tsan) ;; esac
	# shellcheck disable=SC2086
	if setup tsan thread $tsan_suites; then
		# shellcheck disable=SC2086
		run tsan $tsan_suites || rc=1
		if [ $netns = 1 ]; then netns_run tsan "$tsan_list" || rc=1; fi
	else
		summary+=("tsan: build failed"); rc=1; total_fail=$((total_fail + 1))
	fi
	summary+=("tsan: $((SECONDS - t0)) s")
fi
echo "== sanitizer summary"
printf '%s\n' "${summary[@]}"
echo "sanitize: $total_ok passed, $total_fail failed, $total_skip skipped"
exit $rc
