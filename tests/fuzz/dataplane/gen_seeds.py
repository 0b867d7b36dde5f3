#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the seed corpora of fuzz_worker.c (corpus/outer, corpus/inner): one file per scenario,
in the harness's format (flags byte, then [kind][len LE16][bytes] records). Checksums are right,
so the seeds reach past the header checks; the fuzzer takes it from there.

    tests/fuzz/dataplane/gen_seeds.py        # rewrites both directories
"""
import os
import struct

RAW, TUNNEL, LAN, UDP = 0, 1, 2, 3
SNAT, FILTER, BURST = 1, 2, 4
ROUTER_MAC = bytes([2, 0, 0, 0, 0, 1])
GW_MAC = bytes([2, 0, 0, 0, 0, 0xfe])
HOST_MAC = bytes([2, 0, 0, 0, 0, 0x10])
ROUTER, HOST, GW = bytes([192, 168, 77, 1]), bytes([192, 168, 77, 10]), bytes([192, 168, 77, 254])
PEER_EP = bytes([198, 51, 100, 1])
LAP = bytes([100, 64, 0, 2])
ROUTER6 = bytes.fromhex("fd000077000000000000000000000001")   # fd00:77::1 (as fuzz_worker.c)
HOST6 = bytes.fromhex("fd000077000000000000000000000010")
LAP6 = bytes.fromhex("fd7a115ca1e000000000000000000002")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ip4(src, dst, proto, payload, ttl=64, df=True, frag=0, ident=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, (0x4000 if df else 0) | frag,
                    ttl, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def l4_csum4(src, dst, proto, seg):
    return csum(src + dst + struct.pack("!BBH", 0, proto, len(seg)) + seg)


def l4_csum6(src, dst, proto, seg):
    return csum(src + dst + struct.pack("!I3xB", len(seg), proto) + seg)


def udp4(src, dst, sport, dport, data):
    u = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = l4_csum4(src, dst, 17, u)
    return ip4(src, dst, 17, u[:6] + struct.pack("!H", c) + u[8:])


def tcp4(src, dst, sport, dport, flags, mss=None, data=b""):
    opts = struct.pack("!BBH", 2, 4, mss) if mss else b""
    t = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, (5 + len(opts) // 4) << 4, flags, 65535, 0, 0) + opts + data
    c = l4_csum4(src, dst, 6, t)
    return ip4(src, dst, 6, t[:16] + struct.pack("!H", c) + t[18:])


def icmp4(src, dst, typ, code, body, ttl=64):
    m = struct.pack("!BBHHH", typ, code, 0, 0x1234, 1) + body
    return ip4(src, dst, 1, m[:2] + struct.pack("!H", csum(m)) + m[4:], ttl=ttl)


def ip6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB", 0x60000000, len(payload), nh, hlim) + src + dst + payload


def icmp6_echo(src, dst, body=b"ping"):
    m = struct.pack("!BBHHH", 128, 0, 0, 0x4321, 1) + body
    return ip6(src, dst, 58, m[:2] + struct.pack("!H", l4_csum6(src, dst, 58, m)) + m[4:])


def tcp6(src, dst, sport, dport, flags, mss=None):
    opts = struct.pack("!BBH", 2, 4, mss) if mss else b""
    t = struct.pack("!HHIIBBHHH", sport, dport, 1, 0, (5 + len(opts) // 4) << 4, flags, 65535, 0, 0) + opts
    return ip6(src, dst, 6, t[:16] + struct.pack("!H", l4_csum6(src, dst, 6, t)) + t[18:])


def eth(dst, src, etype, payload):
    return dst + src + struct.pack("!H", etype) + payload


def rec(kind, data):
    return struct.pack("<BH", kind, len(data)) + data


def wg_udp_to_us(wg):
    """A whole frame: gateway -> router, UDP 51820 -> 41641."""
    return eth(ROUTER_MAC, GW_MAC, 0x0800, udp4(PEER_EP, ROUTER, 51820, 41641, wg))


def initiation():
    return struct.pack("<I", 1) + struct.pack("<I", 7) + bytes(32) + bytes(48) + bytes(28) + bytes(32)


def response():
    return struct.pack("<III", 2, 9, 7) + bytes(32) + bytes(16) + bytes(32)


def cookie_reply():
    return struct.pack("<II", 3, 7) + bytes(24) + bytes(32)


def data_msg(index, counter, n=32):
    return struct.pack("<IIQ", 4, index, counter) + bytes(n)


def stun_binding():
    return struct.pack("!HHI12s", 0x0001, 0, 0x2112A442, b"meshgate-tx1")


def disco():
    return b"TS\xf0\x9f\x92\xac" + bytes(32) + bytes(24) + bytes(40)


OUTER = {
    "data-unknown-index": [rec(RAW, wg_udp_to_us(data_msg(0xdead, 0)))],
    "data-peer0-index": [rec(UDP, data_msg(0x1000, 5, 48))],
    "keepalive-shape": [rec(UDP, data_msg(0x1001, 0, 16))],
    "data-live-index-bad-tag": [rec(UDP | 8, data_msg(0, 7, 48))],
    "data-live-index-replayed": [rec(UDP | 8, data_msg(0, 3, 32)), rec(UDP | 8, data_msg(0, 3, 32))],
    "initiation": [rec(UDP, initiation())],
    "initiation-stranger": [rec(UDP | 4, initiation())],
    "response": [rec(UDP, response())],
    "cookie-reply": [rec(UDP, cookie_reply())],
    "stun-binding": [rec(UDP, stun_binding())],
    "disco": [rec(UDP, disco())],
    "junk": [rec(UDP, b"\xff" * 40)],
    "empty-udp": [rec(UDP, b"")],
    "truncated-eth": [rec(RAW, ROUTER_MAC + GW_MAC)],
    "arp": [rec(RAW, eth(b"\xff" * 6, GW_MAC, 0x0806, bytes(28)))],
    "vlan": [rec(RAW, ROUTER_MAC + GW_MAC + struct.pack("!HHH", 0x8100, 5, 0x0800) +
                 udp4(PEER_EP, ROUTER, 51820, 41641, data_msg(0x1000, 1)))],
    "ipv4-options": [rec(RAW, eth(ROUTER_MAC, GW_MAC, 0x0800,
                                  bytes([0x46]) + udp4(PEER_EP, ROUTER, 51820, 41641, data_msg(0x1000, 2))[1:] + bytes(4)))],
    "ipv4-fragment": [rec(RAW, eth(ROUTER_MAC, GW_MAC, 0x0800,
                                   ip4(PEER_EP, ROUTER, 17, struct.pack("!HHHH", 51820, 41641, 40, 0) + bytes(32),
                                       df=False, frag=0x2000)))],
    "ipv6-to-port": [rec(RAW, eth(ROUTER_MAC, GW_MAC, 0x86dd,
                                  ip6(HOST6, ROUTER6, 17, struct.pack("!HHHH", 51820, 41641, 8 + 48, 0) +
                                      data_msg(0x1000, 3)[:48])))],
    "lan-ping-router": [rec(RAW, eth(ROUTER_MAC, HOST_MAC, 0x0800, icmp4(HOST, ROUTER, 8, 0, b"hello")))],
    "other-port": [rec(RAW, eth(ROUTER_MAC, GW_MAC, 0x0800, udp4(PEER_EP, ROUTER, 51820, 41642, b"x" * 20)))],
    "mixed": [rec(UDP, initiation()), rec(UDP, stun_binding()), rec(RAW, wg_udp_to_us(data_msg(0x1000, 9))),
              rec(UDP, disco())],
    "burst-live-index": [rec(UDP | 8, data_msg(0, 20 + i, 48)) for i in range(4)] +
                        [rec(UDP, stun_binding()), rec(UDP | 8, data_msg(0, 30, 16)), rec(UDP | 4 | 8, data_msg(0, 31, 48))],
}

INNER = {
    "ping-host": [rec(TUNNEL, icmp4(LAP, HOST, 8, 0, b"abcdefgh" * 4))],
    "ping-host-snat": [rec(TUNNEL, icmp4(LAP, HOST, 8, 0, b"abcdefgh"))],
    "syn-mss": [rec(TUNNEL, tcp4(LAP, HOST, 40000, 22, 0x02, mss=1460))],
    "syn-filtered": [rec(TUNNEL, tcp4(LAP, HOST, 40001, 8080, 0x02, mss=1460))],
    "udp-dns": [rec(TUNNEL, udp4(LAP, HOST, 40002, 53, b"\x12\x34" + bytes(10)))],
    "no-route": [rec(TUNNEL, udp4(LAP, bytes([8, 8, 8, 8]), 40003, 53, b"q"))],
    "spoofed-source": [rec(TUNNEL, icmp4(bytes([100, 64, 0, 3]), HOST, 8, 0, b"x"))],
    "peer1-subnet-source": [rec(TUNNEL | 4, icmp4(bytes([10, 99, 1, 1]), HOST, 8, 0, b"y"))],
    "ttl1": [rec(TUNNEL, icmp4(LAP, HOST, 8, 0, b"z", ttl=1))],
    "big-df": [rec(TUNNEL, udp4(LAP, HOST, 40004, 9, bytes(1400)))],
    "peer-to-peer": [rec(TUNNEL, icmp4(LAP, bytes([100, 64, 0, 3]), 8, 0, b"hop"))],
    "to-router-tailnet": [rec(TUNNEL, icmp4(LAP, bytes([100, 64, 0, 5]), 8, 0, b"me"))],
    "v6-ping-host": [rec(TUNNEL, icmp6_echo(LAP6, HOST6))],
    "v6-syn": [rec(TUNNEL, tcp6(LAP6, HOST6, 40005, 443, 0x02, mss=1440))],
    "keepalive": [rec(TUNNEL, b"")],
    "garbage-inner": [rec(TUNNEL, b"\x45" + bytes(7))],
    "lan-to-peer0": [rec(LAN, icmp4(HOST, LAP, 8, 0, b"down"))],
    "lan-to-peer2-staged": [rec(LAN, icmp4(HOST, bytes([100, 64, 0, 4]), 8, 0, b"wait"))],
    "lan-big-df": [rec(LAN, udp4(HOST, LAP, 9, 40006, bytes(1400)))],
    "lan-synack-mss": [rec(LAN, tcp4(HOST, LAP, 22, 40000, 0x12, mss=1460))],
    "lan-v6-to-peer0": [rec(LAN, icmp6_echo(HOST6, LAP6))],
    "lan-nat-reply-icmp": [rec(LAN, icmp4(HOST, ROUTER, 0, 0, b"abcdefgh"))],
    "lan-nat-reply-udp": [rec(LAN, udp4(HOST, ROUTER, 53, 61000, b"answer"))],
    "snat-round-trip": [rec(TUNNEL, tcp4(LAP, HOST, 40007, 80, 0x02, mss=1400)),
                        rec(LAN, tcp4(HOST, ROUTER, 80, 61000, 0x12, mss=1460)),
                        rec(LAN, tcp4(HOST, ROUTER, 80, 61001, 0x12, mss=1460))],
    "burst-both-ways": [rec(TUNNEL, udp4(LAP, HOST, 40008, 53, bytes([i]) * 12)) for i in range(3)] +
                       [rec(TUNNEL, b""), rec(TUNNEL | 4, icmp4(bytes([10, 99, 1, 1]), HOST, 8, 0, b"p1"))] +
                       [rec(LAN, udp4(HOST, LAP, 53, 40008, bytes([i]) * 12)) for i in range(3)] +
                       [rec(LAN, tcp4(HOST, LAP, 22, 40009, 0x12, mss=1460)),
                        rec(LAN, icmp4(HOST, LAP, 8, 0, b"t", ttl=1)),
                        rec(LAN, udp4(HOST, LAP, 9, 40010, bytes(1400)))],
}

FLAGS = {"ping-host-snat": SNAT, "syn-filtered": FILTER, "udp-dns": FILTER | SNAT, "v6-syn": FILTER,
         "lan-nat-reply-icmp": SNAT, "lan-nat-reply-udp": SNAT, "snat-round-trip": SNAT | FILTER,
         "burst-live-index": BURST, "burst-both-ways": BURST}


def write(name, seeds):
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", name)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    for k, recs in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(bytes([FLAGS.get(k, 0)]) + b"".join(recs))


write("outer", OUTER)
write("inner", INNER)
