#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""derppeer.py - a disco-only node that lives on another DERP region, for t-derp.sh.

Like a Tailscale client whose home region is not ours, it connects to its home region (--home)
and, to reach meshgate, to meshgate's home region (--via). It sends a disco Ping to meshgate's
node key through --via; meshgate answers through DERP on the region the ping came in on (--via),
as tailscaled does. Prints
  "PONG via <home|via> txid-ok=<bool> src=<ip:port>"   for each pong, then exits after --seconds.
Needs python3-nacl.
"""
import argparse
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "disco"))
from nacl.public import PrivateKey  # noqa: E402

import derpd  # noqa: E402
import tsdisco  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--home", required=True, help="HOST:PORT of our home DERP server")
    ap.add_argument("--via", required=True, help="HOST:PORT of meshgate's home DERP server")
    ap.add_argument("--name", required=True, help="TLS name of both servers")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--node-priv", required=True)
    ap.add_argument("--disco-priv", required=True)
    ap.add_argument("--peer-node", required=True)
    ap.add_argument("--peer-disco", required=True)
    ap.add_argument("--seconds", type=float, default=6)
    a = ap.parse_args()
    node = PrivateKey(bytes.fromhex(a.node_priv))
    disco = tsdisco.Disco(a.disco_priv, a.peer_disco)
    peer = bytes.fromhex(a.peer_node)
    clients = {}
    for name, ep in (("home", a.home), ("via", a.via)):
        host, port = tsdisco.parse_ep(ep)
        c = derpd.DerpClient(host, port, node, cafile=a.ca, server_name=a.name, preferred=(name == "home"))
        c.connect()
        clients[name] = c
    print("CONNECTED", flush=True)
    txid = os.urandom(12)

    def listen(name, c):
        while True:
            m = c.rx.get()
            if m is None:
                return
            src, pkt = m
            plain = disco.open(pkt) if src == peer else None
            if plain and plain[0] == tsdisco.PONG and len(plain) >= 32:
                host, port = tsdisco.ep_from_bytes(plain[14:32])
                print("PONG via %s txid-ok=%s src=%s" % (name, plain[2:14] == txid, tsdisco.ep_text(host, port)),
                      flush=True)

    for name, c in clients.items():
        threading.Thread(target=listen, args=(name, c), daemon=True).start()
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        clients["via"].send(peer, disco.seal(tsdisco.ping_msg(txid, bytes(node.public_key))))
        time.sleep(1)


if __name__ == "__main__":
    main()
