#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Paired rounds of engine-bench and crypto-bench between two build trees (for a change that must
# not cost speed): each round runs A then B back to back, so both see the same neighbours' load;
# the table gives each tree's median and the median of the per-round ratios B/A, with the lowest
# and highest ratio. A change inside the spread that identical code shows here is noise.
#
#   [PEERS=N] [SIZES=64,512,...] [ENGINE_ONLY=1] [STAGES=1] [EXTRA="--snat ..."]
#       perf/paired-bench.sh BUILD_A BUILD_B [ROUNDS] [CRYPTO]
#   (defaults: 1 peer, sizes 64,512,1280,1420, 6 rounds, avx2; ENGINE_ONLY=1 skips crypto-bench)
# engine-bench's fraction (engine rate / AEAD batch rate of the same run) is tabled too. STAGES=1
# runs engine-bench with --stages (both trees must have it) and tables rest/ref, the worker's
# cycles beyond the AEAD as a share of the AEAD reference's (engine-bench, "cycles per packet by
# stage"), with the paired ratio and in how many rounds B was lower. EXTRA: more engine-bench
# options for both trees.
set -eu
a=$1 b=$2 rounds=${3:-6} crypto=${4:-avx2}
peers=${PEERS:-1} sizes=${SIZES:-64,512,1280,1420}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq "$rounds"); do
	for t in a b; do
		dir=$a; [ $t = b ] && dir=$b
		# shellcheck disable=SC2086
		"$dir/perf/engine-bench" --sizes "$sizes" --peers "$peers" --runs 3 --ms 150 --crypto "$crypto" \
			${STAGES:+--stages} ${EXTRA:-} --json >"$out/eng-$t-$r.json" 2>/dev/null
		[ -n "${ENGINE_ONLY:-}" ] || "$dir/perf/crypto/crypto-bench" --backend "$crypto" --ms 100 --runs 3 \
			--json >"$out/cry-$t-$r.json" 2>/dev/null
	done
	echo "round $r of $rounds done, load $(cut -d' ' -f1 /proc/loadavg)" >&2
done
python3 - "$out" <<'EOF'
import collections, glob, json, statistics as st, sys
out = sys.argv[1]
def load(kind, t):
    d = collections.defaultdict(list)
    for f in sorted(glob.glob(f"{out}/{'cry' if kind == 'cry' else 'eng'}-{t}-*.json")):
        for r in json.load(open(f)):
            if kind == "eng":
                d[(r["direction"], r["size"])].append(r["engine_mpps"])
            elif kind == "engf":
                d[(r["direction"], r["size"])].append(r["fraction"])
            elif kind == "engp":
                if r.get("fraction_paired"):
                    d[(r["direction"], r["size"])].append(r["fraction_paired"])
            elif kind == "engr":
                if "cycles" in r and r["cycles"]["ref"] > 0:
                    d[(r["direction"], r["size"])].append(r["cycles"]["rest"] / r["cycles"]["ref"])
            else:
                d[(r["direction"], r["size"], r["batch"])].append(r["mpps"])
    return d
for kind, title in (("eng", "engine-bench Mpps"), ("engf", "engine-bench fraction of the AEAD batch rate"),
                    ("engp", "engine-bench paired fraction (each chunk against the AEAD right after it)"),
                    ("engr", "engine-bench --stages rest/ref"), ("cry", "crypto-bench Mpps")):
    a, b = load(kind, "a"), load(kind, "b")
    if not a:
        continue
    print(f"{title}: median A, median B, paired B/A median [min, max]")
    for k in sorted(a):
        if k not in b:
            continue
        ratios = [y / x for x, y in zip(a[k], b[k]) if x > 0]
        lower = f"  B lower in {sum(x < 1 for x in ratios)} of {len(ratios)}" if kind == "engr" else ""
        print(f"  {' '.join(map(str, k)):24s} {st.median(a[k]):8.3f} {st.median(b[k]):8.3f}"
              f"  {st.median(ratios):.3f} [{min(ratios):.3f}, {max(ratios):.3f}]{lower}")
EOF
