#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Normalise `wg showconf` output for comparing two implementations: peers keyed by public key
(wireguard-go lists them in Go map order), AllowedIPs as a sorted set (list order is the trie's
walk, which differs between implementations), everything else verbatim. Prints JSON."""
import json
import sys

conf, section = {"Interface": {}, "Peers": {}}, None
for raw in sys.stdin:
    line = raw.strip()
    if not line or line.startswith("#"):
        continue
    if line == "[Interface]":
        section = conf["Interface"]
        continue
    if line == "[Peer]":
        section = {}
        conf["Peers"]["?%d" % len(conf["Peers"])] = section
        continue
    key, _, val = (s.strip() for s in line.partition("="))
    if key == "AllowedIPs":
        section.setdefault(key, [])
        section[key] = sorted(set(section[key] + [v.strip() for v in val.split(",") if v.strip()]))
    else:
        section[key] = val
conf["Peers"] = {p.get("PublicKey", k): p for k, p in conf["Peers"].items()}
json.dump(conf, sys.stdout, indent=1, sort_keys=True)
print()
