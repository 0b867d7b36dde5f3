#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# engine-cost.sh - instructions per packet of the worker, by stage, counted by callgrind: a figure
# that does not move with the machine's load (this is for judging a change, not for rates).
#
# For each direction (open: tunnel->LAN, seal: LAN->tunnel) and inner packet size, engine-bench
# runs under callgrind with collection on only inside wk_poll(), twice: SMALL and LARGE packets.
# perf/engine-cost.py takes the difference over LARGE - SMALL, so one-time costs cancel, and splits
# it: the AEAD (calls into dataplane/crypto) and the rest by stage.
#
# Usage: [SNAT=1] [FILTER=1] [PEERS=N] perf/engine-cost.sh [BUILD_DIR] [SIZES] [CRYPTO]
#        (defaults: build "64 128 1280" avx2, 1 peer)
# SNAT=1 runs the device with source NAT on (tunnel->LAN then goes through nat.c, LAN->tunnel
# carries the replies back); FILTER=1 with a packet filter (engine-bench --filter); PEERS=N sends
# each packet of a burst for the next of N peers (engine-bench --peers).
# Valgrind does not emulate AVX-512 (aead_init("avx512") answers EOPNOTSUPP under it), so the
# avx512 backend cannot be counted this way.
set -eu
build=${1:-build}
sizes=${2:-64 128 1280}
crypto=${3:-avx2}
small=${SMALL:-256}
large=${LARGE:-2304}
peers=${PEERS:-1}
here=$(dirname "$0")
bench=$build/perf/engine-bench
# valgrind cannot run a sanitizer build (tests/sanitize.sh builds the tree with ASan/TSan): skip
if ldd "$bench" 2>/dev/null | grep -qE 'lib(asan|tsan|ubsan)'; then
	echo "SKIP: engine-cost: $bench is a sanitizer build, which valgrind cannot run"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

count() {       # dir size n -> callgrind profile path
	out=$tmp/$1-$2-$3.out
	valgrind --tool=callgrind --toggle-collect=wk_poll --callgrind-out-file="$out" \
		"$bench" --no-ref --runs 1 --packets "$3" --sizes "$2" --direction "$1" --crypto "$crypto" \
		--peers "$peers" ${SNAT:+--snat} ${FILTER:+--filter} >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
	echo "$out"
}

echo "engine cost per packet: instructions (callgrind), crypto $crypto, $peers peer(s)${SNAT:+, SNAT}${FILTER:+, filter}, $large-$small packets"
printf '%-5s %5s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n' dir size total AEAD rest \
	classify replay aips route nat filter headers tx batch other
for dir in open seal; do
	for size in $sizes; do
		a=$(count $dir "$size" "$small")
		b=$(count $dir "$size" "$large")
		printf '%-5s %5s %s\n' $dir "$size" "$(python3 "$here/engine-cost.py" "$a" "$small" "$b" "$large")"
	done
done
