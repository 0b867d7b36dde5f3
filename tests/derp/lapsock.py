#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""lapsock.py - a small "magicsock" in front of the laptop's wireguard-go, for t-derp.sh.

Tailscale's clients put magicsock between WireGuard and the network: WireGuard packets for a
peer go over UDP to a direct address only while disco trusts it (a pong in the last 6.5 s), and
through the peer's DERP region otherwise. This shim does that for one peer
(meshgate), written from tailscale's magicsock behaviour:

  wireguard-go --UDP--> 127.0.0.1:WG_LISTEN (this shim) --+--> UDP to --peer-ep     (trusted)
                                                          +--> DERP SendPacket to --peer-node
  packets from the peer (UDP on --udp-listen, or DERP RecvPacket) --> wireguard-go (--wg-peer)

Disco: the shim pings --peer-ep from --udp-listen every second while no path is trusted (the
real client waits 5 s between pings to one endpoint; tests want the switch fast) and every 3 s
(heartbeat) while one is; a pong with our TxID trusts the path for 6.5 s. It answers the peer's
pings (UDP or DERP) with pongs carrying the observed source, and a CallMeMaybe over DERP makes it
ping at once. Disco keys come from the arguments (the test control server announced ours).

stdout, one line per event: "DERP up", "PATH direct <ep>", "PATH derp", and every second while
counts move, "COUNT to_derp=.. to_udp=.. from_derp=.. from_udp=.. pongs=.. pings_answered=..".
Needs python3-nacl.
"""
import argparse
import os
import select
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "disco"))
from nacl.public import PrivateKey  # noqa: E402

import derpd  # noqa: E402
import tsdisco  # noqa: E402

TRUST_S = 6.5
HEARTBEAT_S = 3.0
PROBE_S = 1.0
DERP_IP = "127.3.3.40"


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Shim:
    def __init__(self, a):
        self.a = a
        self.wg_sock = tsdisco.udp_socket(a.wg_listen)
        self.udp = tsdisco.udp_socket(a.udp_listen)
        self.wg_peer = tsdisco.parse_ep(a.wg_peer)
        self.peer_ep = tsdisco.parse_ep(a.peer_ep)
        self.peer_node = bytes.fromhex(a.peer_node)
        self.disco = tsdisco.Disco(a.disco_priv, a.peer_disco)
        self.node_priv = PrivateKey(bytes.fromhex(a.node_priv))
        self.lock = threading.Lock()
        self.trust_until = 0.0
        self.pending = {}            # txid -> (ep, sent)
        self.last_ping = 0.0
        self.path = None
        self.n = dict(to_derp=0, to_udp=0, from_derp=0, from_udp=0, pongs=0, pings_answered=0)
        self.derp = None
        host, port = tsdisco.parse_ep(a.derp)
        self.derp_addr = (host, port)

    # --- DERP -------------------------------------------------------------------------
    def derp_loop(self):
        while True:
            c = derpd.DerpClient(self.derp_addr[0], self.derp_addr[1], self.node_priv, cafile=self.a.ca,
                                 server_name=self.a.derp_name)
            try:
                c.connect()
            except (OSError, ValueError) as e:
                out("DERP connect failed: %r" % (e,))
                time.sleep(1)
                continue
            self.derp = c
            out("DERP up")
            while True:
                m = c.rx.get()
                if m is None:
                    break
                src, pkt = m
                if pkt[:6] == tsdisco.MAGIC:
                    self.on_disco(pkt, None, src)
                else:
                    with self.lock:
                        self.n["from_derp"] += 1
                    self.wg_sock.sendto(pkt, self.wg_peer)
            self.derp = None
            out("DERP down")
            time.sleep(0.5)

    def derp_send(self, pkt):
        c = self.derp
        if not c:
            return False
        try:
            c.send(self.peer_node, pkt)
            return True
        except OSError:
            return False

    # --- disco ------------------------------------------------------------------------
    def trusted(self, now):
        return now < self.trust_until

    def send_ping(self, now):
        txid = os.urandom(12)
        with self.lock:
            self.pending = {t: v for t, v in self.pending.items() if now - v[1] < 5}
            self.pending[txid] = (self.peer_ep, now)
            self.last_ping = now
        pkt = self.disco.seal(tsdisco.ping_msg(txid, bytes(self.node_priv.public_key)))
        try:
            self.udp.sendto(pkt, self.peer_ep)
        except OSError:
            pass

    def on_disco(self, pkt, src, derp_src):
        plain = self.disco.open(pkt)
        if not plain or len(plain) < 2:
            return
        mtype, txid = plain[0], plain[2:14]
        if mtype in (tsdisco.PING, tsdisco.PONG) and len(plain) < 14:
            return
        now = time.monotonic()
        if mtype == tsdisco.PING:
            if src:
                pong = tsdisco.pong_msg(txid, src[0], src[1])
                self.udp.sendto(self.disco.seal(pong), src)
            else:
                self.derp_send(self.disco.seal(tsdisco.pong_msg(txid, DERP_IP, self.a.derp_region)))
            with self.lock:
                self.n["pings_answered"] += 1
        elif mtype == tsdisco.PONG and src:
            with self.lock:
                sent = self.pending.pop(txid, None)
                if sent and sent[0] == src:
                    self.trust_until = now + TRUST_S
                    self.n["pongs"] += 1
        elif mtype == tsdisco.CALL_ME_MAYBE and derp_src == self.peer_node:
            # Our one peer endpoint is known already; the list is logged for the test.
            eps = [tsdisco.ep_text(*tsdisco.ep_from_bytes(plain[i:i + 18])) for i in range(2, len(plain) - 17, 18)]
            out("CMM " + " ".join(eps))
            with self.lock:
                self.last_ping = 0.0

    # --- the loop ---------------------------------------------------------------------
    def run(self):
        threading.Thread(target=self.derp_loop, daemon=True).start()
        last_count, last_print = None, 0.0
        while True:
            r, _, _ = select.select([self.wg_sock, self.udp], [], [], 0.05)
            now = time.monotonic()
            if self.wg_sock in r:
                pkt, _ = self.wg_sock.recvfrom(65536)
                if self.trusted(now):
                    self.udp.sendto(pkt, self.peer_ep)
                    with self.lock:
                        self.n["to_udp"] += 1
                elif self.derp_send(pkt):
                    with self.lock:
                        self.n["to_derp"] += 1
            if self.udp in r:
                try:
                    pkt, src = self.udp.recvfrom(65536)
                except OSError:
                    pkt = b""
                if pkt[:6] == tsdisco.MAGIC:
                    self.on_disco(pkt, src[:2], None)
                elif pkt:
                    with self.lock:
                        self.n["from_udp"] += 1
                    self.wg_sock.sendto(pkt, self.wg_peer)
            gap = HEARTBEAT_S if self.trusted(now) else PROBE_S
            if now - self.last_ping >= gap:
                self.send_ping(now)
            path = "direct" if self.trusted(now) else "derp"
            if path != self.path:
                out("PATH direct %s:%d" % self.peer_ep if path == "direct" else "PATH derp")
                self.path = path
            if now - last_print >= 1.0:
                with self.lock:
                    cur = dict(self.n)
                if cur != last_count:
                    out("COUNT " + " ".join("%s=%d" % kv for kv in cur.items()))
                    last_count = cur
                last_print = now


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wg-listen", required=True, help="where wireguard-go sends (its peer endpoint)")
    ap.add_argument("--wg-peer", required=True, help="wireguard-go's own listen address")
    ap.add_argument("--udp-listen", required=True, help="the shim's internet-side UDP socket")
    ap.add_argument("--peer-ep", required=True, help="meshgate's direct endpoint")
    ap.add_argument("--peer-node", required=True, help="meshgate's node key (hex)")
    ap.add_argument("--peer-disco", required=True, help="meshgate's disco key (hex)")
    ap.add_argument("--disco-priv", required=True, help="our disco private key (hex)")
    ap.add_argument("--node-priv", required=True, help="our node (WireGuard) private key (hex)")
    ap.add_argument("--derp", required=True, help="DERP server HOST:PORT")
    ap.add_argument("--derp-name", required=True, help="TLS name of the DERP server")
    ap.add_argument("--derp-region", type=int, required=True)
    ap.add_argument("--ca", required=True)
    Shim(ap.parse_args()).run()


if __name__ == "__main__":
    main()
