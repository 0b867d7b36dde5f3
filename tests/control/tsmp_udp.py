#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Small probes for t-hsfilter.sh (run inside a lab namespace):

  tsmp_udp.py tsmp-ping DST [--type p]   send a TSMP message (IP protocol 99: type byte + 8 data
                                         bytes) to DST from a raw socket; for a ping, wait 3 s for
                                         the pong ('o', the same 8 bytes) from DST; exit 0 if it came
  tsmp_udp.py tsmp-listen SECONDS        exit 0 if any IP protocol 99 packet arrives in time
  tsmp_udp.py udp-echo ADDR PORT SECONDS answer every UDP datagram with its own bytes
  tsmp_udp.py udp-query ADDR PORT        send one datagram, exit 0 if the echo comes within 3 s
"""
import os
import socket
import sys
import time


def tsmp_ping(dst, kind):
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_RAW, 99)
    data = os.urandom(8)
    s.sendto(kind.encode() + data, (dst, 0))
    if kind != "p":
        return 0
    end = time.time() + 3
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            pkt, addr = s.recvfrom(2048)
        except socket.timeout:
            break
        body = pkt[(pkt[0] & 0xF) * 4:] if fam == socket.AF_INET else pkt   # IPv4 raw: header included
        if addr[0] == dst and body[:1] == b"o" and body[1:9] == data:
            print("PONG from %s %d bytes peerapi=%d" % (dst, len(body), int.from_bytes(body[9:11], "big")))
            return 0
    print("no pong from %s" % dst)
    return 1


def tsmp_listen(seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 99)
    s.settimeout(float(seconds))
    try:
        _, addr = s.recvfrom(2048)
    except socket.timeout:
        return 1
    print("TSMP from %s" % addr[0])
    return 0


def udp_echo(addr, port, seconds):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, int(port)))
    end = time.time() + float(seconds)
    while time.time() < end:
        s.settimeout(max(0.01, end - time.time()))
        try:
            b, src = s.recvfrom(2048)
        except socket.timeout:
            break
        print("query from %s:%d" % src[:2], flush=True)
        s.sendto(b, src)
    return 0


def udp_query(addr, port):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    q = os.urandom(12)
    s.sendto(q, (addr, int(port)))
    try:
        b, _ = s.recvfrom(2048)
    except socket.timeout:
        return 1
    return 0 if b == q else 1


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "tsmp-ping":
        sys.exit(tsmp_ping(a[1], a[3] if len(a) > 3 and a[2] == "--type" else "p"))
    if a[0] == "tsmp-listen":
        sys.exit(tsmp_listen(a[1]))
    if a[0] == "udp-echo":
        sys.exit(udp_echo(a[1], a[2], a[3]))
    if a[0] == "udp-query":
        sys.exit(udp_query(a[1], a[2]))
    sys.exit(2)
