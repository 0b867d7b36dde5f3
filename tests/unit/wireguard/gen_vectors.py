#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Generate wg_vectors.h: known answers for meshgate's WireGuard core from an
independent implementation (Python hashlib BLAKE2s + hmac, pyca/cryptography
X25519 and ChaCha20-Poly1305), written from the whitepaper's description.

Not run by the test suite; rerun by hand and commit the header:
    python3 gen_vectors.py > wg_vectors.h
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization


def H(*parts):
    return hashlib.blake2s(b"".join(parts)).digest()


def MAC(key, data):
    return hashlib.blake2s(data, key=key, digest_size=16).digest()


def HMAC(key, data):
    return hmac.new(key, data, hashlib.blake2s).digest()


def KDF(ck, data, n):
    prk = HMAC(ck, data)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = HMAC(prk, prev + bytes([i]))
        out.append(prev)
    return out


def pub(priv):
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def DH(priv, pubkey):
    return X25519PrivateKey.from_private_bytes(priv).exchange(
        X25519PublicKey.from_public_bytes(pubkey))


def AEAD(key, pt, ad):
    return ChaCha20Poly1305(key).encrypt(b"\0" * 12, pt, ad)


def clamp(k):
    k = bytearray(k)
    k[0] &= 248
    k[31] = (k[31] & 127) | 64
    return bytes(k)


def seq(n, seed):
    return clamp(bytes((seed * 7 + i * 13) & 0xff for i in range(n)))


CONSTRUCTION = b"Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s"
IDENTIFIER = b"WireGuard v1 zx2c4 Jason@zx2c4.com"

si_priv, sr_priv = seq(32, 1), seq(32, 2)
ei_priv, er_priv = seq(32, 3), seq(32, 4)
si_pub, sr_pub = pub(si_priv), pub(sr_priv)
psk = bytes(range(0x40, 0x60))
timestamp = struct.pack(">QI", 0x400000000000000a + 1700000000, 0x01000000 * 5)
i_index, r_index = 0x11223344, 0xa0b0c0d0

# message 1: e, es, s, ss, {t}
ck = H(CONSTRUCTION)
h = H(ck, IDENTIFIER)
h = H(h, sr_pub)
ei_pub = pub(ei_priv)
h = H(h, ei_pub)
ck, = KDF(ck, ei_pub, 1)
ck, k = KDF(ck, DH(ei_priv, sr_pub), 2)
enc_static = AEAD(k, si_pub, h)
h = H(h, enc_static)
ck, k = KDF(ck, DH(si_priv, sr_pub), 2)
enc_ts = AEAD(k, timestamp, h)
h = H(h, enc_ts)
msg1 = struct.pack("<II", 1, i_index) + ei_pub + enc_static + enc_ts
mac1_key_r = H(b"mac1----", sr_pub)
msg1 += MAC(mac1_key_r, msg1) + b"\0" * 16
h_after1, ck_after1 = h, ck

# message 2: e, ee, se, psk, {}
er_pub = pub(er_priv)
h = H(h, er_pub)
ck, = KDF(ck, er_pub, 1)
ck, = KDF(ck, DH(er_priv, ei_pub), 1)
ck, = KDF(ck, DH(er_priv, si_pub), 1)
ck, tau, k = KDF(ck, psk, 3)
h = H(h, tau)
enc_nothing = AEAD(k, b"", h)
h = H(h, enc_nothing)
msg2 = struct.pack("<III", 2, r_index, i_index) + er_pub + enc_nothing
mac1_key_i = H(b"mac1----", si_pub)
msg2 += MAC(mac1_key_i, msg2) + b"\0" * 16
t_send_i, t_recv_i = KDF(ck, b"", 2)

# cookie reply to msg1 from 192.0.2.7:51820, then mac2 on msg1
secret = bytes(range(0x80, 0xa0))
src = bytes([192, 0, 2, 7]) + struct.pack(">H", 51820)
cookie = MAC(secret, src)
nonce = bytes(range(0xc0, 0xd8))


def hchacha20(key, nonce16):
    def rotl(v, c):
        return ((v << c) & 0xffffffff) | (v >> (32 - c))

    def qr(x, a, b, c, d):
        x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & 0xffffffff; x[d] = rotl(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & 0xffffffff; x[b] = rotl(x[b] ^ x[c], 7)

    x = list(struct.unpack("<4I", b"expand 32-byte k") + struct.unpack("<8I", key)
             + struct.unpack("<4I", nonce16))
    for _ in range(10):
        qr(x, 0, 4, 8, 12); qr(x, 1, 5, 9, 13); qr(x, 2, 6, 10, 14); qr(x, 3, 7, 11, 15)
        qr(x, 0, 5, 10, 15); qr(x, 1, 6, 11, 12); qr(x, 2, 7, 8, 13); qr(x, 3, 4, 9, 14)
    return struct.pack("<8I", *(x[0:4] + x[12:16]))


def XAEAD(key, nonce24, pt, ad):
    sub = hchacha20(key, nonce24[:16])
    return ChaCha20Poly1305(sub).encrypt(b"\0" * 4 + nonce24[16:], pt, ad)


cookie_key_r = H(b"cookie--", sr_pub)
msg3 = struct.pack("<II", 3, i_index) + nonce + XAEAD(cookie_key_r, nonce, cookie, msg1[116:132])
msg1_mac2 = msg1[:132] + MAC(cookie, msg1[:132])

# HMAC / KDF answers on awkward lengths (key longer than a block too)
hk = bytes(range(100))
hm = bytes((i * 3) & 0xff for i in range(200))
kdf_ck = bytes(range(32))
kdf_out = KDF(kdf_ck, hm[:77], 3)


def c_array(name, b):
    body = ", ".join("0x%02x" % x for x in b)
    lines, line = [], ""
    for tok in body.split(", "):
        if len(line) + len(tok) > 72:
            lines.append(line.rstrip())
            line = ""
        line += tok + ", "
    lines.append(line.rstrip().rstrip(","))
    return "static const uint8_t %s[%d] = {\n\t%s\n};\n" % (name, len(b), "\n\t".join(lines))


out = ["/* SPDX-License-Identifier: GPL-2.0-only */",
       "/* Generated by gen_vectors.py from an independent Python implementation. */",
       "#ifndef WG_VECTORS_H", "#define WG_VECTORS_H", "#include <stdint.h>", ""]
for name, val in [("v_si_priv", si_priv), ("v_sr_priv", sr_priv), ("v_si_pub", si_pub),
                  ("v_sr_pub", sr_pub), ("v_ei_priv", ei_priv), ("v_psk", psk),
                  ("v_timestamp", timestamp), ("v_msg1", msg1), ("v_h_after1", h_after1),
                  ("v_ck_after1", ck_after1), ("v_msg2", msg2), ("v_t_send_i", t_send_i),
                  ("v_t_recv_i", t_recv_i), ("v_secret", secret), ("v_cookie", cookie),
                  ("v_msg3", msg3), ("v_msg1_mac2", msg1_mac2),
                  ("v_hmac_key", hk), ("v_hmac_msg", hm),
                  ("v_hmac_short", HMAC(hk[:32], hm)), ("v_hmac_long", HMAC(hk, hm)),
                  ("v_kdf_ck", kdf_ck), ("v_kdf_t1", kdf_out[0]), ("v_kdf_t2", kdf_out[1]),
                  ("v_kdf_t3", kdf_out[2])]:
    out.append(c_array(name, val))
out.append("#define V_I_INDEX 0x%08xU" % i_index)
out.append("#define V_R_INDEX 0x%08xU" % r_index)
out.append("#define V_KDF_DATA_LEN 77")
out.append("")
out.append("#endif")
print("\n".join(out))
