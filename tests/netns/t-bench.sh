#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# perf/bench.sh --quick --json runs end to end (issue 8): every size and direction measured for
# meshgate and the wireguard-go baseline, every row delivered something and nothing corrupt,
# the sweep covers both routers, and the plot exists. It checks the benchmark works, not the
# figures (1 s runs on shared cores are noise).
#
#   mg-lap wggen ==wg==> mg-gw ==> mg-rtr meshgate | wireguard-go --> mg-host wgsink (and back)
#
. "$(dirname "$0")/lib.sh"

t_require_machine
command -v gnuplot >/dev/null || { skip "machine lacks gnuplot (see scripts/deps.sh)"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"; t_cleanup; exit $?' EXIT
json=$("$LAB_ROOT/perf/bench.sh" --quick --json --out "$out" --build "$LAB_ROOT/build" 2>"$out/progress")
rc=$?
expect_eq "bench.sh --quick exits 0" "$rc" 0
[ $rc = 0 ] || sed 's/^/# /' "$out/progress" | tail -n 5
check "bench.sh prints one JSON object" /usr/bin/python3 -c 'import json, sys; json.loads(sys.argv[1])' "$json"
read -r rows missing bad corrupt sweeps < <(/usr/bin/python3 - "$json" <<'PY'
import json, sys
try:
    d = json.loads(sys.argv[1])
except ValueError:
    print(0, 99, 99, 99, 0); sys.exit()
rows = d['rows']
want = {(r, dr, s) for r in ('meshgate', 'wggo') for dr in ('fwd', 'rev') for s in (64, 512, 1280)}
have = {(o['router'], o['direction'], o['size']) for o in rows if not o.get('error')}
bad = sum(1 for o in rows if o.get('error') or o['delivered_pps'] <= 0)
corrupt = sum(int(o.get('corrupt', 0)) for o in rows if not o.get('error'))
print(len(rows), len(want - have), bad, corrupt, len({o['router'] for o in d['sweep']}))
PY
)
check "all 12 rows measured (meshgate and wggo x 2 directions x 3 sizes; $rows rows, $missing missing)" \
	test "$missing" = 0
expect_eq "every row delivered packets" "$bad" 0
expect_eq "no corrupt packets in any row" "$corrupt" 0
expect_eq "the sweep covers both routers" "$sweeps" 2
check "rate.dat has a data set per router" test "$(grep -c '^# router' "$out/rate.dat" 2>/dev/null)" = 2
check "rate.png is a PNG" sh -c "head -c 8 '$out/rate.png' | grep -q PNG"
t_end
