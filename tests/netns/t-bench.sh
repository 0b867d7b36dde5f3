#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# perf/bench.sh --quick --json runs end to end: sizes 64 and 1280, both directions,
# measured for meshgate (xdp, and dpdk when meshgate was built with DPDK) and the wireguard-go
# baseline; every row delivered something and nothing corrupt, the sweep covers every router,
# and the plot exists. It checks the benchmark works, not the
# figures (1 s runs on shared cores are noise).
#
#   mg-lap wggen ==wg==> mg-gw ==> mg-rtr meshgate | wireguard-go --> mg-host wgsink (and back)
#
. "$(dirname "$0")/lib.sh"

t_require_machine
command -v gnuplot >/dev/null || { skip "machine lacks gnuplot (see scripts/deps.sh)"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"; t_cleanup; exit $?' EXIT
json=$("$LAB_ROOT/perf/bench.sh" --quick --json --sizes "64 1280" --sweep-size 64 --out "$out" --build "$LAB_ROOT/build" \
	2>"$out/progress")
rc=$?
expect_eq "bench.sh --quick exits 0" "$rc" 0
[ $rc = 0 ] || sed 's/^/# /' "$out/progress" | tail -n 5
check "bench.sh prints one JSON object" /usr/bin/python3 -c 'import json, sys; json.loads(sys.argv[1])' "$json"
read -r rows missing bad corrupt sweeps dpdk < <(/usr/bin/python3 - "$json" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
except ValueError:
    print(0, 99, 99, 99, 0, 0); sys.exit()
rows = d['rows']
want = {(r, dr, s) for r in ('meshgate', 'wggo') for dr in ('fwd', 'rev') for s in (64, 1280)}
have = {(o['router'], o['direction'], o['size']) for o in rows if not o.get('error')}
bad = sum(1 for o in rows if o.get('error') or o['delivered_pps'] <= 0)
corrupt = sum(int(o.get('corrupt', 0)) for o in rows if not o.get('error'))
ran_dpdk = any(o['router'] == 'dpdk' for o in rows)
print(len(rows), len(want - have), bad, corrupt, len({o['router'] for o in d['sweep']}), int(ran_dpdk))
PY
)
check "all rows measured (meshgate and wggo x 2 directions x 2 sizes, + dpdk when built; $rows rows, $missing missing)" \
	test "$missing" = 0 -a "$rows" = $((8 + 4 * ${dpdk:-0}))
expect_eq "every row delivered packets" "$bad" 0
expect_eq "no corrupt packets in any row" "$corrupt" 0
expect_eq "the sweep covers every router that ran" "$sweeps" $((2 + ${dpdk:-0}))
check "rate.dat has a data set per router" test "$(grep -c '^# router' "$out/rate.dat" 2>/dev/null)" = "$sweeps"
check "rate.png is a PNG" sh -c "head -c 8 '$out/rate.png' | grep -q PNG"
t_end
