#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""engine-bench --stages: the cycles by stage of each row add up to its total, the AEAD is the
one call of the row's direction, and the profile's own cost is reported.

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
    for r in rows:
        c = r["cycles"]
        name = f'{r["direction"]} {r["size"]} B'
        total = sum(c[s] for s in STAGES)
        mine, other = ("open_aead", "seal_aead") if r["direction"] == "tunnel_to_lan" else ("seal_aead", "open_aead")
        # medians per column: their sum is near the median of the sums, not equal to it
        if abs(total - c["total"]) > 0.15 * c["total"]:
            bad.append(f"{name}: stages add up to {total:.1f}, total {c['total']:.1f}")
        if not c[mine] > 0 or c[other] != 0:
            bad.append(f"{name}: {mine} {c[mine]}, {other} {c[other]}")
        if abs(c["aead"] - c[mine]) > 0.01 or abs(c["rest"] - (c["total"] - c["aead"])) > 0.15 * c["total"]:
            bad.append(f"{name}: aead {c['aead']} rest {c['rest']} total {c['total']}")
        if not (c["rx"] > 0 and c["ref"] > 0 and c["profile_overhead"] > 0):
            bad.append(f"{name}: rx {c['rx']}, ref {c['ref']}, overhead {c['profile_overhead']}")
    for b in bad:
        print("FAIL:", b)
    print(f"engine-bench --stages: {len(rows)} rows, {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
