#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""tsdisco.py - an independent disco peer and Tailscale-style STUN server for meshgate's tests.

Written from the public protocol (tailscale's disco/ and net/stun sources), not from the C code:
disco packets are magic || sender key || nonce || PyNaCl Box(ours, theirs).encrypt(plain), and
the STUN server only answers binding requests that carry SOFTWARE "tailnode" and a valid
FINGERPRINT, as derper and Headscale's embedded server do.

  tsdisco.py stun  --listen ADDR:PORT [--seconds N]
  tsdisco.py peer  --listen ADDR:PORT --key PRIVHEX --their-key PUBHEX [--ping EP]
                   [--expect-src EP] [--seconds N]
The peer answers every ping from --their-key with a pong and, with --ping, pings EP once a
second and reports each pong ("PONG ep txid-ok src=..."). Needs python3-nacl (Debian).
"""
import argparse
import ipaddress
import os
import select
import socket
import struct
import sys
import time
import zlib

from nacl.public import Box, PrivateKey, PublicKey

MAGIC = b"TS\xf0\x9f\x92\xac"
COOKIE = 0x2112A442
PING, PONG, CALL_ME_MAYBE = 1, 2, 3


# --- disco ----------------------------------------------------------------------------

def ep_bytes(host, port):
    ip = ipaddress.ip_address(host)
    if ip.version == 4:
        raw = b"\0" * 10 + b"\xff\xff" + ip.packed
    else:
        raw = ip.packed
    return raw + struct.pack(">H", port)


def ep_from_bytes(b):
    ip = ipaddress.IPv6Address(b[:16])
    host = str(ip.ipv4_mapped) if ip.ipv4_mapped else str(ip)
    return host, struct.unpack(">H", b[16:18])[0]


def ep_text(host, port):
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port)


def parse_ep(text):
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


class Disco:
    def __init__(self, priv_hex, their_pub_hex):
        self.priv = PrivateKey(bytes.fromhex(priv_hex))
        self.pub = bytes(self.priv.public_key)
        self.their = bytes.fromhex(their_pub_hex)
        self.box = Box(self.priv, PublicKey(self.their))

    def seal(self, plain):
        nonce = os.urandom(24)
        return MAGIC + self.pub + nonce + self.box.encrypt(plain, nonce).ciphertext

    def open(self, pkt):
        """Returns the plaintext, or None if the packet is not a box from their key."""
        if len(pkt) < 78 or pkt[:6] != MAGIC or pkt[6:38] != self.their:
            return None
        try:
            return self.box.decrypt(pkt[62:], pkt[38:62])
        except Exception:
            return None


def ping_msg(txid, node_key=None):
    return bytes([PING, 0]) + txid + (node_key or b"")


def pong_msg(txid, host, port):
    return bytes([PONG, 0]) + txid + ep_bytes(host, port)


# --- STUN -----------------------------------------------------------------------------

def stun_request_ok(pkt):
    """The TxID of a binding request with SOFTWARE=tailnode then FINGERPRINT, else None."""
    if len(pkt) != 40 or pkt[:4] != b"\x00\x01\x00\x14" or struct.unpack(">I", pkt[4:8])[0] != COOKIE:
        return None
    if pkt[20:24] != b"\x80\x22\x00\x08" or pkt[24:32] != b"tailnode" or pkt[32:36] != b"\x80\x28\x00\x04":
        return None
    if struct.unpack(">I", pkt[36:40])[0] != (zlib.crc32(pkt[:32]) ^ 0x5354554E):
        return None
    return pkt[8:20]


def stun_response(txid, host, port):
    ip = ipaddress.ip_address(host)
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    key = struct.pack(">I", COOKIE) + txid
    xaddr = bytes(a ^ b for a, b in zip(ip.packed, key))
    value = struct.pack(">BBH", 0, 1 if ip.version == 4 else 2, port ^ (COOKIE >> 16)) + xaddr
    attr = struct.pack(">HH", 0x0020, len(value)) + value
    return struct.pack(">HHI", 0x0101, len(attr), COOKIE) + txid + attr


# --- the programs ---------------------------------------------------------------------

def udp_socket(listen):
    host, port = parse_ep(listen)
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((host, port))
    return s


def run_stun(args):
    s = udp_socket(args.listen)
    print("STUN listening %s" % ep_text(*s.getsockname()[:2]), flush=True)
    answered = ignored = 0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        if not select.select([s], [], [], 0.2)[0]:
            continue
        pkt, src = s.recvfrom(2048)
        txid = stun_request_ok(pkt)
        if txid is None:
            ignored += 1
            continue
        s.sendto(stun_response(txid, src[0], src[1]), src)
        answered += 1
        print("STUN answered %s" % ep_text(src[0], src[1]), flush=True)
    print("STUN done answered=%d ignored=%d" % (answered, ignored), flush=True)


def run_peer(args):
    s = udp_socket(args.listen)
    d = Disco(args.key, args.their_key)
    node_key = bytes.fromhex(args.node_key) if args.node_key else None
    print("PEER listening %s pub %s" % (ep_text(*s.getsockname()[:2]), d.pub.hex()), flush=True)
    pending = {}
    next_ping = 0.0
    end = time.monotonic() + args.seconds
    while time.monotonic() < end:
        now = time.monotonic()
        if args.ping and now >= next_ping:
            txid = os.urandom(12)
            pending[txid] = now
            s.sendto(d.seal(ping_msg(txid, node_key)), parse_ep(args.ping))
            next_ping = now + 1.0
        if not select.select([s], [], [], 0.05)[0]:
            continue
        pkt, src = s.recvfrom(2048)
        plain = d.open(pkt)
        if plain is None or len(plain) < 2:
            print("PEER dropped %d bytes from %s" % (len(pkt), ep_text(src[0], src[1])), flush=True)
            continue
        if plain[0] == PING and len(plain) >= 14:
            s.sendto(d.seal(pong_msg(plain[2:14], src[0], src[1])), src)
            print("PEER answered ping from %s" % ep_text(src[0], src[1]), flush=True)
        elif plain[0] == PONG and len(plain) >= 32:
            txid, seen = plain[2:14], ep_text(*ep_from_bytes(plain[14:32]))
            ok = txid in pending
            pending.pop(txid, None)
            print("PONG from %s txid-ok=%s src=%s" % (ep_text(src[0], src[1]), ok, seen), flush=True)
        else:
            print("PEER message type %d" % plain[0], flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["stun", "peer"])
    ap.add_argument("--listen", required=True)
    ap.add_argument("--key")
    ap.add_argument("--their-key")
    ap.add_argument("--node-key")
    ap.add_argument("--ping")
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    if args.mode == "stun":
        run_stun(args)
    else:
        run_peer(args)


if __name__ == "__main__":
    sys.exit(main())
