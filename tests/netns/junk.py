#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Send malformed, unknown-index, corrupted and replayed WireGuard messages
at a UDP address, with plain sockets (no scapy needed).

  junk.py HOST PORT garbage|short|unknown N
  junk.py HOST PORT replay|corrupt N CAPTURE.pcap

garbage: 100 bytes, message type 42 (not 1-4)          -> bad_type
short:   a type-4 (data) header cut to 20 bytes (< 32)  -> too_short
unknown: a well-formed data message to receiver index 0xdeadbeef -> unknown_index
replay:  the captured data message, byte for byte      -> replay
corrupt: the captured data message, last tag byte flipped -> decrypt_failed
"""
import os
import socket
import struct
import sys

DATA_HEADER = 16  # type(1) reserved(3) receiver(4) counter(8), WireGuard 5.4.6


def data_header(receiver, counter):
    return struct.pack('<BxxxIQ', 4, receiver, counter)


def pcap_udp_payload(path):
    """The UDP payload of the first IPv4/IPv6 UDP packet of a pcap file."""
    with open(path, 'rb') as f:
        blob = f.read()
    magic = blob[:4]
    endian = '<' if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    linktype = struct.unpack(endian + 'I', blob[20:24])[0]
    link_len = {1: 14, 113: 16, 276: 20}.get(linktype)
    if link_len is None:
        sys.exit(f'junk.py: unsupported pcap link type {linktype}')
    off = 24
    while off + 16 <= len(blob):
        incl = struct.unpack(endian + 'I', blob[off + 8:off + 12])[0]
        frame = blob[off + 16:off + 16 + incl]
        off += 16 + incl
        ip = frame[link_len:]
        if ip and ip[0] >> 4 == 4 and ip[9] == 17:
            udp = ip[(ip[0] & 15) * 4:]
        elif ip and ip[0] >> 4 == 6 and ip[6] == 17:
            udp = ip[40:]
        else:
            continue
        return udp[8:struct.unpack('>H', udp[4:6])[0]]
    sys.exit(f'junk.py: no UDP packet in {path}')


def build(kind, capture):
    if kind == 'garbage':
        return struct.pack('<I', 42) + os.urandom(96)
    if kind == 'short':
        return data_header(0x01020304, 0) + b'\0' * 4
    if kind == 'unknown':
        return data_header(0xdeadbeef, 7) + os.urandom(32)
    msg = pcap_udp_payload(capture)
    if msg[0] != 4 or len(msg) < 32:
        sys.exit('junk.py: the capture is not a WireGuard data message')
    if kind == 'replay':
        return msg
    if kind == 'corrupt':
        return msg[:-1] + bytes([msg[-1] ^ 0x80])
    sys.exit(f'junk.py: unknown kind {kind}')


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    host, port, kind, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    capture = sys.argv[5] if len(sys.argv) > 5 else None
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        for _ in range(count):
            s.sendto(build(kind, capture), (host, port))
    rx, ctr = (struct.unpack('<IQ', build(kind, capture)[4:16]) if kind in ('replay', 'corrupt')
               else (None, None))
    print(f'sent {count} {kind}' + (f' (receiver {rx:#x}, counter {ctr})' if rx is not None else ''))


if __name__ == '__main__':
    main()
