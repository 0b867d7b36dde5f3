#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""t_local.py HARNESS - disco and STUN over real UDP on loopback, our C control side (in
discoharness) against the independent Python peer and STUN server (tsdisco.py):

   tsdisco peer (127.0.0.1:P) <--disco--> discoharness (127.0.0.1:H) <--STUN--> tsdisco stun
   tsdisco "stranger" (unknown disco key) --ping--> discoharness: never answered

Checks: our Pongs carry the Ping's TxID and the observed source; our pings reach the peer, its
Pong makes the path (PATH line); heartbeats continue; the STUN mapped address is our socket;
a ping from a disco key not in the netmap gets nothing back.
"""
import os
import re
import socket
import subprocess
import sys
import time

try:
    from nacl.public import PrivateKey
except ImportError:
    print("SKIP: python3-nacl is not installed (apt-get install python3-nacl)")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
TSDISCO = [sys.executable, os.path.join(HERE, "tsdisco.py")]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def first_line(proc, pattern):
    line = proc.stdout.readline()
    m = re.search(pattern, line)
    if not m:
        raise SystemExit("unexpected first line %r" % line)
    return m.group(1)


def main():
    harness = sys.argv[1]
    our, peer, stranger = PrivateKey.generate(), PrivateKey.generate(), PrivateKey.generate()
    our_pub = bytes(our.public_key).hex()
    node_key = os.urandom(32).hex()
    peer_port = free_port()
    failures = []

    stun = subprocess.Popen(TSDISCO + ["stun", "--listen", "127.0.0.1:0", "--seconds", "7"],
                            stdout=subprocess.PIPE, text=True)
    stun_ep = first_line(stun, r"STUN listening (\S+)")
    # The peer listens before the harness starts, so our very first ping finds it.
    hport = free_port()
    h_ep = "127.0.0.1:%d" % hport
    p = subprocess.Popen(TSDISCO + ["peer", "--listen", "127.0.0.1:%d" % peer_port, "--key", bytes(peer).hex(),
                                    "--their-key", our_pub, "--node-key", node_key, "--ping", h_ep,
                                    "--seconds", "6"], stdout=subprocess.PIPE, text=True)
    first_line(p, r"PEER listening (\S+)")
    h = subprocess.Popen([harness, "-k", bytes(our).hex(), "-p", str(hport),
                          "-P", "%s,%s,127.0.0.1:%d" % (node_key, bytes(peer.public_key).hex(), peer_port),
                          "-s", stun_ep, "-a", "-t", "5"], stdout=subprocess.PIPE, text=True)
    first_line(h, r"PORT (\d+)")
    s = subprocess.Popen(TSDISCO + ["peer", "--listen", "127.0.0.1:0", "--key", bytes(stranger).hex(),
                                    "--their-key", our_pub, "--ping", h_ep, "--seconds", "3"],
                         stdout=subprocess.PIPE, text=True)
    outs = {}
    for name, proc in (("peer", p), ("stranger", s), ("harness", h), ("stun", stun)):
        out, _ = proc.communicate(timeout=30)
        outs[name] = out
        print("--- %s\n%s" % (name, out), end="")

    good_pongs = re.findall(r"PONG from %s txid-ok=True src=127\.0\.0\.1:%d" % (re.escape(h_ep), peer_port),
                            outs["peer"])
    if len(good_pongs) < 3:
        failures.append("peer got %d good pongs, want >= 3" % len(good_pongs))
    if "txid-ok=False" in outs["peer"]:
        failures.append("a pong with a TxID the peer never sent")
    answered = outs["peer"].count("PEER answered ping from %s" % h_ep)
    if answered < 2:
        failures.append("peer answered %d of our pings, want >= 2 (first ping + 3 s heartbeat)" % answered)
    if "PATH %s 127.0.0.1:%d" % (node_key, peer_port) not in outs["harness"]:
        failures.append("no PATH line for the peer")
    if "MAPPED %s" % h_ep not in outs["harness"]:
        failures.append("no MAPPED %s" % h_ep)
    if "PONG" in outs["stranger"]:
        failures.append("a stranger's ping was answered")
    m = re.search(r"rx_unknown_key=(\d+)", outs["harness"])
    if not m or int(m.group(1)) < 2:
        failures.append("stranger pings not counted as unknown key")
    for f in failures:
        print("FAIL:", f)
    print("t_local:", "FAIL" if failures else "PASS")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
