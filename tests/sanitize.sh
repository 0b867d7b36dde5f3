#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Sanitizer runs (issue 9), each in its own build directory beside the normal one:
#
#   asan  -Db_sanitize=address,undefined: every meson suite (unit, fuzz smoke runs, ...), and with
#         --netns also tests/netns/run.sh against the sanitized meshgate (a report makes meshgate
#         exit non-zero, which each test's stop check turns into a FAIL; t-leak.sh also greps the
#         log). The netns logs land in $SAN_DIR-asan.netns.log and $SAN_DIR-tsan.netns.log.
#   tsan  -Db_sanitize=thread: the unit suites (the threaded code: RCU tables, rings, workers), and
#         with --netns tests/netns/run.sh against the TSan meshgate (reports fail t-leak.sh)
#
# Usage: tests/sanitize.sh [asan|tsan|all] [--netns] [-- extra meson test args]
# Environment: SAN_DIR (default build-san) prefixes the build directories (build-san-asan, ...).
# Prints one summary line per setup and exits non-zero if any test failed or a build broke.
set -u
cd "$(dirname "$0")/.." || exit 1
what=all netns=0 extra=()
while [ $# -gt 0 ]; do
	case $1 in
	asan|tsan|all) what=$1 ;;
	--netns) netns=1 ;;
	--) shift; extra=("$@"); break ;;
	*) echo "usage: $0 [asan|tsan|all] [--netns] [-- meson test args]" >&2; exit 2 ;;
	esac
	shift
done
SAN_DIR=${SAN_DIR:-build-san}
# halt on the first report, with a stack; leaks are errors (LeakSanitizer runs with ASan).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# tsan.supp: only the RCU publish/free hand-offs TSan cannot see through liburcu (it says why).
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp}
summary=() rc=0

# setup NAME SANITIZERS: configure (or reconfigure) and build one sanitized tree.
setup() {
	local dir=$SAN_DIR-$1 args=(-Db_sanitize="$2" -Db_lundef=false -Dbuildtype=debugoptimized
		-Dc_args=-fno-omit-frame-pointer)
	if [ -d "$dir/meson-private" ]; then
		meson configure "$dir" "${args[@]}" >/dev/null
	else
		meson setup "$dir" "${args[@]}" >/dev/null
	fi && ninja -C "$dir" -j2 >"$dir.build.log" 2>&1 ||
		{ echo "sanitize: $1 build failed, see $dir.build.log" >&2; tail -n 20 "$dir.build.log" >&2; return 1; }
}

# run NAME [SUITE...]: meson test in that tree; one summary line from its counts.
run() {
	local name=$1 dir=$SAN_DIR-$1 log s args=()
	shift
	for s in "$@"; do args+=(--suite "$s"); done
	log=$(mktemp)
	meson test -C "$dir" --no-rebuild --print-errorlogs "${args[@]}" "${extra[@]}" 2>&1 | tee "$log" |
		grep -E '^ *[0-9]+/[0-9]+ .*(FAIL|ERROR|TIMEOUT)' | awk '!seen[$0]++'
	local st=${PIPESTATUS[0]}
	summary+=("$name: $(awk '/^(Ok|Fail|Skipped|Timeout):/ { printf "%s %s  ", $1, $2 }' "$log")(exit $st)")
	rm -f "$log"
	[ "$st" = 0 ]
}

# The unit suites: everything registered with meson except the long fuzz smoke runs' suite.
unit_suites() {
	meson introspect "$SAN_DIR-$1" --tests 2>/dev/null |
		python3 -c 'import json,sys; print(" ".join(sorted({s.split(":")[-1] for t in json.load(sys.stdin) for s in t["suite"]} - {"fuzz"})))'
}

if [ $what = asan ] || [ $what = all ]; then
	if setup asan address,undefined; then
		run asan || rc=1
		if [ $netns = 1 ]; then
			MESHGATE="$PWD/$SAN_DIR-asan/dataplane/meshgate" tests/netns/run.sh >"$SAN_DIR-asan.netns.log" 2>&1 || rc=1
			summary+=("asan netns: $(tail -n 1 "$SAN_DIR-asan.netns.log")")
		fi
	else
		summary+=("asan: build failed"); rc=1
	fi
fi
if [ $what = tsan ] || [ $what = all ]; then
	if setup tsan thread; then
		# shellcheck disable=SC2046
		run tsan $(unit_suites tsan) || rc=1
		if [ $netns = 1 ]; then
			MESHGATE="$PWD/$SAN_DIR-tsan/dataplane/meshgate" tests/netns/run.sh >"$SAN_DIR-tsan.netns.log" 2>&1 || rc=1
			summary+=("tsan netns: $(tail -n 1 "$SAN_DIR-tsan.netns.log")")
		fi
	else
		summary+=("tsan: build failed"); rc=1
	fi
fi
echo "== sanitizer summary"
printf '%s\n' "${summary[@]}"
exit $rc
