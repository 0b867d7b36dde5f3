#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""gen_kat.py - prints the PyNaCl-made known answers used by tests/unit/disco (fixed keys and
nonces), so they can be re-derived outside the C code:
  - a disco Ping sealed by a peer (private key 33..64) to us (private key 1..32), nonce 100..123
    (test_disco.c test_keys_and_box);
  - a DERP ClientInfo frame from a client (1..32) to a server (65..96), nonce 0..23, and the
    server's ServerInfo payload back, nonce 200..223 (test_derp_frame.c).
"""
import struct

from nacl.public import Box, PrivateKey

MAGIC = b"TS\xf0\x9f\x92\xac"

us, peer = PrivateKey(bytes(range(1, 33))), PrivateKey(bytes(range(33, 65)))
nonce = bytes(range(100, 124))
ping = bytes([1, 0]) + bytes(range(1, 13))
pkt = MAGIC + bytes(peer.public_key) + nonce + Box(peer, us.public_key).encrypt(ping, nonce).ciphertext
print("disco our_pub   ", bytes(us.public_key).hex())
print("disco ping      ", pkt.hex())

client, server = us, PrivateKey(bytes(range(65, 97)))
n1, n2 = bytes(range(24)), bytes(range(200, 224))
body = b'{"version":2,"CanAckPings":true}'
ci = bytes(client.public_key) + n1 + Box(client, server.public_key).encrypt(body, n1).ciphertext
print("derp server_pub ", bytes(server.public_key).hex())
print("derp client_info", (struct.pack(">BI", 2, len(ci)) + ci).hex())
si = n2 + Box(server, client.public_key).encrypt(b'{"version":2}', n2).ciphertext
print("derp server_info", si.hex())
