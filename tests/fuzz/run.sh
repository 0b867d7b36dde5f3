#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every libFuzzer target of a -Dfuzz=true clang build for a set time and prints, per target,
# executions, executions per second, edge coverage (cov), features (ft) and corpus size; exits
# non-zero if any target crashed, leaked, hit undefined behaviour or timed out (the targets are
# built with ASan+UBSan, no recovery).
#
#   apt-get install --no-install-recommends clang libclang-rt-14-dev   # libFuzzer and the sanitizers' runtime
#   CC=clang meson setup build-fuzz -Dfuzz=true && ninja -C build-fuzz
#   tests/fuzz/run.sh build-fuzz [SECONDS per target, default 60] [NAME-FILTER (grep -E)]
#
# Targets: fuzz_wg_{handshake,cookie} (tests/fuzz/wireguard), fuzz_conf_{config,uapi}
# (tests/unit/conf), fuzz_dp_{outer,inner} (tests/fuzz/dataplane: the packet worker's outer
# classifier and inner path), fuzz_disco (disco and STUN), fuzz_netmap (Headscale JSON).
# Each starts from its seed corpus, copied: libFuzzer writes new inputs into the first directory
# it is given and the seeds in the repo stay curated. What a run finds stays under $FUZZ_WORK
# (default /tmp/meshgate-fuzz), so repeated runs build on each other; crash-*/leak-*/timeout-*
# inputs land there too, and `TARGET INPUT` reproduces one.
set -u
build=${1:?usage: $0 BUILD_DIR [SECONDS] [FILTER]} secs=${2:-60} filter=${3:-.}
build=$(cd "$build" && pwd) || exit 1     # the targets run from their work directories
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${FUZZ_WORK:-/tmp/meshgate-fuzz}
rc=0

# seeds TARGET: the seed corpus directory (or files) of a target, by its name.
seeds() {
	case $1 in
	fuzz_wg_*) echo "$src/tests/fuzz/wireguard/corpus/${1#fuzz_wg_}" ;;
	fuzz_conf_*) echo "$src/tests/fuzz/conf/corpus/${1#fuzz_conf_}" ;;
	fuzz_dp_*) echo "$src/tests/fuzz/dataplane/corpus/${1#fuzz_dp_}" ;;
	fuzz_netmap) echo "$src/tests/unit/headscale/fixtures" ;;
	*) echo "" ;;
	esac
}

# libFuzzer binaries only (they carry its flag names); plain replay drivers share the prefix.
mapfile -t targets < <(find "$build/tests" -type f -perm -u+x -name 'fuzz_*' -exec grep -qa max_total_time {} \; -print |
	grep -E "$filter" | sort)
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz_* targets under $build (configure with -Dfuzz=true, CC=clang)" >&2; exit 2; }
mkdir -p "$work"
printf '%-20s %10s %8s %7s %8s %7s  %s\n' target execs exec/s cov ft corpus result
for t in "${targets[@]}"; do
	name=$(basename "$t") corpus="$work/$name" log="$work/$name.log"
	mkdir -p "$corpus"
	s=$(seeds "$name")
	if [ -d "$s" ]; then cp -n "$s"/* "$corpus"/ 2>/dev/null; fi
	(cd "$work" && "$t" -max_total_time="$secs" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
		"$corpus" >"$log" 2>&1)
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -n 1)
	cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
	n=$(find "$corpus" -type f | wc -l)
	if [ $st = 0 ]; then res=ok; else res="FAILED (exit $st, see $log)"; rc=1; fi
	printf '%-20s %10s %8s %7s %8s %7s  %s\n' "$name" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$n" "$res"
done
exit $rc
