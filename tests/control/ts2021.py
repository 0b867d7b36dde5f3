# SPDX-License-Identifier: GPL-2.0-only
"""ts2021 Noise for the test control server, written from the public protocol
(tailscale's control/controlbase) independently of meshgate's C code.

Noise_IK_25519_ChaChaPoly_BLAKE2s, prologue "Tailscale Control Protocol v<N>"; transport
records are 0x04 + u16 BE length + ChaCha20-Poly1305 with a big-endian 64-bit counter nonce.
"""
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

NAME = b"Noise_IK_25519_ChaChaPoly_BLAKE2s"
RAW = serialization.Encoding.Raw


def blake2s(*parts):
    h = hashlib.blake2s()
    for p in parts:
        h.update(p)
    return h.digest()


def hkdf(ck, ikm, n=2):
    prk = hmac.new(ck, ikm, hashlib.blake2s).digest()
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = hmac.new(prk, prev + bytes([i]), hashlib.blake2s).digest()
        out.append(prev)
    return out


def priv_from_bytes(b):
    return X25519PrivateKey.from_private_bytes(b)


def pub_bytes(priv):
    return priv.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)


def dh(priv, pub):
    return priv.exchange(X25519PublicKey.from_public_bytes(pub))


class Symmetric:
    """Noise SymmetricState; every handshake key is used once, so nonce 0."""

    def __init__(self, version):
        self.h = blake2s(NAME) if len(NAME) > 32 else NAME.ljust(32, b"\0")
        self.ck = self.h
        self.mix_hash(b"Tailscale Control Protocol v%d" % version)
        self.k = None

    def mix_hash(self, data):
        self.h = blake2s(self.h, data)

    def mix_key(self, ikm):
        self.ck, self.k = hkdf(self.ck, ikm)

    def encrypt_and_hash(self, pt):
        ct = ChaCha20Poly1305(self.k).encrypt(bytes(12), pt, self.h)
        self.mix_hash(ct)
        return ct

    def decrypt_and_hash(self, ct):
        pt = ChaCha20Poly1305(self.k).decrypt(bytes(12), ct, self.h)
        self.mix_hash(ct)
        return pt

    def split(self):
        return hkdf(self.ck, b"")


def nonce(counter):
    return bytes(4) + struct.pack(">Q", counter)


class Cipher:
    def __init__(self, key):
        self.aead = ChaCha20Poly1305(key)
        self.n = 0

    def seal(self, pt):
        ct = self.aead.encrypt(nonce(self.n), pt, None)
        self.n += 1
        return bytes([4]) + struct.pack(">H", len(ct)) + ct

    def open(self, ct):
        pt = self.aead.decrypt(nonce(self.n), ct, None)
        self.n += 1
        return pt


def initiate(version, s_priv, rs, e_priv=None):
    """Client side (for known answers): returns (101-byte message, state)."""
    e = priv_from_bytes(e_priv) if e_priv else X25519PrivateKey.generate()
    s = priv_from_bytes(s_priv)
    ss = Symmetric(version)
    ss.mix_hash(rs)
    msg = struct.pack(">HBH", version, 1, 96) + pub_bytes(e)
    ss.mix_hash(pub_bytes(e))
    ss.mix_key(dh(e, rs))
    msg += ss.encrypt_and_hash(pub_bytes(s))
    ss.mix_key(dh(s, rs))
    msg += ss.encrypt_and_hash(b"")
    return msg, (ss, e, s)


def finish(state, resp):
    ss, e, s = state
    assert resp[0] == 2 and struct.unpack(">H", resp[1:3])[0] == 48
    re = resp[3:35]
    ss.mix_hash(re)
    ss.mix_key(dh(e, re))
    ss.mix_key(dh(s, re))
    ss.decrypt_and_hash(resp[35:51])
    k1, k2 = ss.split()
    return Cipher(k1), Cipher(k2)


def respond(init, server_priv, e_priv=None):
    """Server side. Returns (version, client machine public key, 51-byte response,
    rx cipher (client->server), tx cipher (server->client)). Raises ValueError."""
    if len(init) != 101:
        raise ValueError("wrong handshake initiation size")
    version, typ, length = struct.unpack(">HBH", init[:5])
    if typ != 1:
        raise ValueError("unexpected handshake message type")
    if length != 96:
        raise ValueError("wrong handshake initiation length")
    sp = priv_from_bytes(server_priv)
    ss = Symmetric(version)
    ss.mix_hash(pub_bytes(sp))
    ie = init[5:37]
    ss.mix_hash(ie)
    ss.mix_key(dh(sp, ie))
    client_static = ss.decrypt_and_hash(init[37:85])
    ss.mix_key(dh(sp, client_static))
    ss.decrypt_and_hash(init[85:101])
    e = priv_from_bytes(e_priv) if e_priv else X25519PrivateKey.generate()
    resp = bytes([2]) + struct.pack(">H", 48) + pub_bytes(e)
    ss.mix_hash(pub_bytes(e))
    ss.mix_key(dh(e, ie))
    ss.mix_key(dh(e, client_static))
    resp += ss.encrypt_and_hash(b"")
    k1, k2 = ss.split()
    return version, client_static, resp, Cipher(k1), Cipher(k2)


EARLY_MAGIC = b"\xff\xff\xffTS"


def early_payload_parts(challenge_pub):
    """The early payload as Headscale writes it: magic, length, JSON in three writes."""
    body = b'{"nodeKeyChallenge":"chalpub:' + challenge_pub.hex().encode() + b'"}'
    return [EARLY_MAGIC, struct.pack(">I", len(body)), body]


def random_key():
    return os.urandom(32)
