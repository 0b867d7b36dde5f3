#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""engine-cost.py - instructions per packet by stage from two callgrind profiles of engine-bench.

Usage: engine-cost.py SMALL.out N_SMALL LARGE.out N_LARGE
Prints one row: total, AEAD and the rest by stage, each (large - small) / (N_large - N_small), so
that whatever wk_poll() spends once (first-touch paths, the last partial burst) cancels out.

The profile is read directly (callgrind_annotate prints inclusive costs split by inlined file,
which cannot be summed without double counting):
  AEAD      the inclusive cost of every call from a function outside dataplane/crypto into one
            inside it (aead_open_burst, aead_seal_burst, aead_stack_scrub, with the libc calls
            they make).
  the rest  the self cost of every other function plus its calls into libc/libbsd, assigned by
            the source file the instruction came from (inlined code keeps its file: pkt.h,
            replay.c, nat.c, ...) and else by the function's name (STAGE_FN below; for a dataplane header such as wctx.h the inline
            function holding the line, found in the source). Other code the
            compiler inlined from a stage's function into its caller counts for the caller.
"""
import re
import sys
from collections import defaultdict

STAGES = ["classify", "replay", "allowedips", "route", "nat", "filter", "headers", "tx", "batch", "other"]

# By source file of the instruction (inlined code keeps its file).
STAGE_FILE = [
    ("wireguard/replay.", "replay"), ("allowedips", "allowedips"), ("nl_snapshot", "route"),
    ("dataplane/nat.", "nat"), ("dataplane/filter.", "filter"), ("dataplane/pkt.h", "headers"),
    ("dataplane/mss.", "headers"), ("dataplane/io/", "tx"),
]
# By function name, for code in the worker's own files.
STAGE_FN = {
    "wk_rx_frame": "classify", "wk_rx_burst": "classify", "rx_frame": "classify", "rx_wireguard": "classify", "rx_data": "classify", "udp_to_us": "classify",
    "lan_plaintext_ok": "classify", "lan_src_spoofed": "classify",
    "wk_allowedips": "allowedips", "wk_allowedips_miss": "allowedips", "allowedips_lookup": "allowedips", "rx_authenticated": "allowedips",
    "wk_route_inner": "route", "wk_hop": "route", "outer_hop": "route", "nl_snapshot_lookup": "route",
    "peer_endpoint_get": "route", "wk_is_local": "route", "wk_is_local_miss": "route",
    "is_tailnet_local": "route", "is_advertised": "route", "wk_hop_miss": "route",
    "send_outer": "headers", "wk_outer4_put": "headers", "outer4_other": "headers", "outer4_template": "headers",
    "wk_tx": "tx", "wk_tx_list": "tx", "wk_addr": "tx", "wk_data": "tx", "wk_tx_flush": "tx", "mem_tx": "tx", "mem_rx": "tx",
    # open/seal batching around the AEAD call: queueing, padding, per-peer counters, locks
    "wk_flush_open": "batch", "wk_flush_seal": "batch", "wk_tunnel": "batch", "wk_lan": "batch",
    "rx_runs": "batch", "rx_keypair_run": "batch", "seal_nonces": "batch", "seal_spent": "batch",
    "tx_keypair_run": "batch", "rx_run_end": "batch", "seal_groups": "batch",
    "peer_count_bytes": "batch", "keypair_replay_lock": "batch", "keypair_replay_unlock": "batch",
    "route_of": "route", "route_miss": "route", "tunnel_path": "route",
    # wk_tunnel's inline parts (worker_tx.h), as when they were wk_tunnel's own
    "wk_tunnel_in": "batch", "wk_tunnel_fields": "batch", "wk_tunnel_from_us": "batch", "wk_keypair_usable": "batch",
    "wk_frame_room": "batch", "wk_outer_hlen": "batch", "wk_tunnel_path": "batch",
    "wk_tunnel_path_miss": "route", "wk_tunnel_too_big": "batch",
}


def parse(path):
    """Per (fn, file of the instruction): self Ir; per (caller, callee): inclusive call Ir."""
    names = {"fl": {}, "fn": {}}
    fn_file = {}
    self_cost = defaultdict(int)
    calls = defaultdict(int)
    fl = fi = fn = cfn = None
    in_call = False
    total = pos = 0

    def name(kind, rest):
        m = re.match(r"\((\d+)\)(?: (.*))?", rest)
        if not m:
            return rest
        table = names["fn" if kind.endswith("fn") else "fl"]
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
        return table[m.group(1)]

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            key, _, rest = line.partition("=")
            if key in ("fl", "fi", "fe", "fn", "cfl", "cfi", "cfn", "ob", "cob") and _:
                v = name(key, rest) if key != "ob" and key != "cob" else None
                if key == "fl":
                    fl = fi = v
                elif key in ("fi", "fe"):
                    fi = v
                elif key == "fn":
                    fn = v
                    fi = fl
                    fn_file[fn] = fl
                elif key == "cfn":
                    cfn = v
                continue
            if key == "calls" and _:
                in_call = True
                continue
            if line.startswith("totals:") or line.startswith("summary:"):
                total = int(line.split()[1])
                continue
            if not (line[0].isdigit() or line[0] in "+-*"):
                continue
            parts = line.split()
            ir = int(parts[1]) if len(parts) > 1 else 0
            p = parts[0]
            pos = pos if p == "*" else pos + int(p) if p[0] in "+-" else int(p)
            if in_call:
                calls[(fn, cfn)] += ir
                in_call = False
            else:
                self_cost[(fn, inline_fn(fi, pos) or fn, fi)] += ir
    return self_cost, calls, fn_file, total


_defs = {}


def inline_fn(src, line):
    """The function of a dataplane header (wctx.h, peer.h, ...) that holds this line, if any."""
    if not src or not src.endswith(".h") or "/dataplane/" not in src:
        return None
    if src not in _defs:
        starts = []
        try:
            with open(src) as f:
                for i, l in enumerate(f, 1):
                    l = re.sub(r"__attribute__\(\(.*?\)\)\s*", "", l)
                    m = re.match(r"(?:static\s+)?(?:inline\s+)?[\w\s\*]*?\b(\w+)\(", l)
                    if m and not l.rstrip().endswith(";") and l[0].isalpha():
                        starts.append((i, m.group(1)))
        except OSError:
            pass
        _defs[src] = starts
    best = None
    for i, name in _defs[src]:
        if i <= line:
            best = name
    return best


def is_crypto(fn_file, fn):
    return "/dataplane/crypto/" in (fn_file.get(fn) or "")


def is_lib(fn_file, fn):
    f = fn_file.get(fn) or ""
    return "/dataplane/" not in f and "/perf/" not in f


def stage_of(fn, src):
    for pat, st in STAGE_FILE:
        if pat in (src or ""):
            return st
    return STAGE_FN.get(fn, "other")


def costs(path):
    self_cost, calls, fn_file, total = parse(path)
    out = defaultdict(int)
    for (fn, inner, src), ir in self_cost.items():
        if is_crypto(fn_file, fn) or is_lib(fn_file, fn):
            continue        # counted through the calls into them below
        st = stage_of(inner, src)
        out[st if st != "other" else stage_of(fn, src)] += ir
    for (caller, callee), ir in calls.items():
        if is_crypto(fn_file, caller) or is_lib(fn_file, caller):
            continue
        if is_crypto(fn_file, callee):
            out["aead"] += ir
        elif is_lib(fn_file, callee):
            out[stage_of(caller, fn_file.get(caller))] += ir
    out["total"] = total
    return out


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    a, na, b, nb = costs(sys.argv[1]), int(sys.argv[2]), costs(sys.argv[3]), int(sys.argv[4])
    per = {k: (b[k] - a[k]) / (nb - na) for k in set(a) | set(b)}
    rest = per["total"] - per.get("aead", 0)
    cols = [per["total"], per.get("aead", 0), rest] + [per.get(s, 0) for s in STAGES]
    print(" ".join("%8.0f" % v for v in cols))


if __name__ == "__main__":
    main()
