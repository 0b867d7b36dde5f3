#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""engine-bench --stages: the cycles by stage of each row add up to its total, each direction
charges its own stages (the AEAD is the one call of that direction) and none of the other's, and
the profile's own cost is reported. Every row also carries its paired fraction (each chunk
against the AEAD reference right after it): there, and a ratio of two measured times.

Usage: test_stages.py ENGINE_BENCH
"""
import json
import subprocess
import sys

STAGES = ("other", "rx", "open_aead", "open_after", "seal_before", "seal_aead", "seal_after", "tx")


def main():
    out = subprocess.run([sys.argv[1], "--packets", "4096", "--runs", "3", "--ms", "5", "--peers", "3",
                          "--sizes", "64,1280", "--stages", "--json"], check=True, capture_output=True,
                         text=True).stdout
    rows = json.loads(out)
    bad = []
    assert len(rows) == 4, f"{len(rows)} rows, not 4"
    # the stages each direction must charge (> 0) and must not (== 0); rx, tx and other both do
    own = {"tunnel_to_lan": (("open_aead", "open_after"), ("seal_before", "seal_aead", "seal_after")),
           "lan_to_tunnel": (("seal_before", "seal_aead", "seal_after"), ("open_aead", "open_after"))}
    for r in rows:
        c = r["cycles"]
        name = f'{r["direction"]} {r["size"]} B'
        charged, idle = own[r["direction"]]
        # the columns are one run's (the median total's), printed with one decimal each
        total = sum(c[s] for s in STAGES)
        if abs(total - c["total"]) > 0.05 * len(STAGES) + 0.05:
            bad.append(f"{name}: stages add up to {total:.1f}, total {c['total']:.1f}")
        aead = c["open_aead"] + c["seal_aead"]
        if abs(c["aead"] - aead) > 0.11 or abs(c["rest"] - (c["total"] - c["aead"])) > 0.16:
            bad.append(f"{name}: aead {c['aead']} rest {c['rest']} total {c['total']}")
        for s in charged + ("rx", "tx", "other"):
            if not c[s] > 0:
                bad.append(f"{name}: {s} {c[s]}, expected cycles there")
        for s in idle:
            if c[s] != 0:
                bad.append(f"{name}: {s} {c[s]}, expected none in this direction")
        if not 0.05 < r.get("fraction_paired", 0) < 2:
            bad.append(f"{name}: paired fraction {r.get('fraction_paired')}")
        if not (c["ref"] > 0 and c["profile_overhead"] > 0):
            bad.append(f"{name}: ref {c['ref']}, overhead {c['profile_overhead']}")
    for b in bad:
        print("FAIL:", b)
    print(f"engine-bench --stages: {len(rows)} rows, {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
