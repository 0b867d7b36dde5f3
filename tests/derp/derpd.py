#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""derpd.py - an independent DERP server (and client) for meshgate's tests.

Written from the public protocol (tailscale's derp/ sources), not from meshgate's C:
HTTPS (Python ssl) with `GET /derp` + `Upgrade: DERP` -> 101, then frames type[1] || len[4] BE:
ServerKey (magic "DERP" U+1F511 || key), ClientInfo (client key || nonce || NaCl box of JSON,
PyNaCl), ServerInfo (nonce || box of {"version":2}), SendPacket -> RecvPacket to the named node
key on this server, NotePreferred, KeepAlive, Ping/Pong, PeerGone.

  derpd.py serve --listen ADDR:PORT --cert PEM --key PEM [--keepalive S] [--ping-clients]
                 [--allow HEXKEY ...]
Prints one line per event on stdout (flushed), for tests to wait on:
  READY <port> <server key hex>
  CONNECT <client key hex> version=<v> canackpings=<b>
  PREFERRED <client key hex> <0|1>
  PONG <client key hex> ok|bad
  GONE <client key hex>
  STATS relayed=<n> dropped=<n>          (every second while packets flow)
With --ping-clients the server sends every client a Ping after its handshake and checks the Pong.
With --allow only the listed node keys are admitted (like Headscale's verify_clients).
With --evil bigskip every client first gets a 200 kB frame of an unknown type (to be skipped);
with --evil toolarge a frame header announcing 2 MiB (over the limit: the client must hang up).
With --token-bucket RATE,BURST the ServerInfo carries TokenBucketBytesPerSecond/Burst and the server counts the SendPacket frame bytes (header included) each client sends:
  SENT <client key hex> bytes=<n> secs=<seconds since its ServerInfo>   (every second)
With --restart-frame IN_MS,FOR_MS the first client, 1 s after its handshake, gets a Restarting
frame (reconnect in IN_MS, keep trying FOR_MS) and the connection is closed; later ones are served.
With --freeze-after S every connection goes silent S seconds after its handshake: the TCP
connection stays open, frames are read and ignored, nothing is sent (a server host that vanished).
With --stun ADDR:PORT (or [ADDR6]:PORT; may be given twice) it also answers STUN binding
requests (SOFTWARE "tailnode" and a valid FINGERPRINT required, like derper) with
XOR-MAPPED-ADDRESS, each answer held back --stun-delay-ms (a far-away region); prints
"STUN <ip>:<port>" per request.

The DerpClient class is the client side of the same protocol, for the laptop shim (lapsock.py)
and the loopback test (t_local.py). Needs python3-nacl.
"""
import argparse
import json
import os
import queue
import socket
import ssl
import struct
import sys
import threading
import time

from nacl.public import Box, PrivateKey, PublicKey

MAGIC = b"DERP\xf0\x9f\x94\x91"
SERVER_KEY, CLIENT_INFO, SERVER_INFO, SEND_PACKET, RECV_PACKET, KEEP_ALIVE = 1, 2, 3, 4, 5, 6
NOTE_PREFERRED, PEER_GONE, PING, PONG, HEALTH, RESTARTING = 7, 8, 0x12, 0x13, 0x14, 0x15
MAX_PACKET = 64 * 1024


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("closed")
        buf += chunk
    return buf


def read_frame(sock, limit=1 << 20):
    hdr = read_exact(sock, 5)
    ftype, length = hdr[0], struct.unpack(">I", hdr[1:])[0]
    if length > limit:
        raise ValueError("frame too long: %d" % length)
    return ftype, read_exact(sock, length)


def frame(ftype, payload=b""):
    return bytes([ftype]) + struct.pack(">I", len(payload)) + payload


def read_http_head(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = sock.recv(1)
        if not c:
            raise EOFError("closed in HTTP head")
        buf += c
        if len(buf) > 8192:
            raise ValueError("HTTP head too long")
    head, _, _ = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return lines[0], hdrs


# --- server ------------------------------------------------------------------------------

class Server:
    def __init__(self, args):
        self.priv = PrivateKey.generate()
        self.pub = bytes(self.priv.public_key)
        self.clients = {}            # node key -> Conn
        self.lock = threading.Lock()
        self.relayed = self.dropped = 0
        self.args = args
        self.allow = set(bytes.fromhex(k) for k in (args.allow or []))
        self.restarted = False

    def deliver(self, src, dst, pkt):
        with self.lock:
            c = self.clients.get(dst)
            if c:
                self.relayed += 1
            else:
                self.dropped += 1
        if c:
            c.send(frame(RECV_PACKET, src + pkt))
        return c is not None


class Conn:
    def __init__(self, srv, sock):
        self.srv, self.sock = srv, sock
        self.wlock = threading.Lock()
        self.key = None
        self.ping_data = None
        self.sent_bytes, self.info_t = 0, None
        self.frozen = False

    def freeze(self):
        out("FROZEN %s" % self.key.hex())
        self.frozen = True

    def send(self, data):
        if self.frozen:
            return
        with self.wlock:
            try:
                self.sock.sendall(data)
            except OSError:
                pass

    def handshake(self):
        line, hdrs = read_http_head(self.sock)
        method, path = (line.split(" ") + ["", ""])[:2]
        if method != "GET" or not path.startswith("/derp") or hdrs.get("upgrade", "").lower() != "derp":
            body = b"DERP requires connection upgrade"
            self.send(b"HTTP/1.1 426 Upgrade Required\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                      % len(body) + body)
            raise ValueError("not an upgrade: %s upgrade=%r" % (line, hdrs.get("upgrade")))
        self.send(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"
                   "Derp-Version: 2\r\nDerp-Public-Key: %s\r\n\r\n" % self.srv.pub.hex()).encode())
        self.send(frame(SERVER_KEY, MAGIC + self.srv.pub))
        ftype, p = read_frame(self.sock, 256 * 1024)
        if ftype != CLIENT_INFO or len(p) < 32 + 24 + 16:
            raise ValueError("expected ClientInfo, got type %d len %d" % (ftype, len(p)))
        key, nonce, boxed = p[:32], p[32:56], p[56:]
        info = json.loads(Box(self.srv.priv, PublicKey(key)).decrypt(boxed, nonce))
        lower = {k.lower(): v for k, v in info.items()}    # Go decodes names case-insensitively
        if self.srv.allow and key not in self.srv.allow:
            raise ValueError("client %s not allowed" % key.hex())
        nonce = os.urandom(24)
        info_out = {"version": 2}
        if self.srv.args.token_bucket:
            rate, burst = (int(x) for x in self.srv.args.token_bucket.split(","))
            info_out.update(TokenBucketBytesPerSecond=rate, TokenBucketBytesBurst=burst)
        sealed = Box(self.srv.priv, PublicKey(key)).encrypt(json.dumps(info_out).encode(), nonce).ciphertext
        self.info_t = time.monotonic()
        self.send(frame(SERVER_INFO, nonce + sealed))
        self.key = key
        out("CONNECT %s version=%s canackpings=%s" % (key.hex(), lower.get("version"),
                                                      str(lower.get("canackpings")).lower()))
        with self.srv.lock:
            self.srv.clients[key] = self
        if self.srv.args.ping_clients:
            self.ping_data = os.urandom(8)
            self.send(frame(PING, self.ping_data))
        # Misbehaviour on purpose, for client robustness tests: an unknown frame larger than a
        # client buffers (must be skipped), or a length over the 1 MiB limit (must disconnect).
        if self.srv.args.evil == "bigskip":
            self.send(frame(0x7F, os.urandom(200000)) + frame(HEALTH, b"") + frame(KEEP_ALIVE))
        elif self.srv.args.evil == "toolarge":
            self.send(bytes([RECV_PACKET]) + struct.pack(">I", 2 << 20))
        if self.srv.args.freeze_after:
            threading.Timer(self.srv.args.freeze_after, self.freeze).start()
        if self.srv.args.restart_frame and not self.srv.restarted:
            self.srv.restarted = True
            in_ms, for_ms = (int(x) for x in self.srv.args.restart_frame.split(","))
            threading.Timer(1.0, self.restart, args=(in_ms, for_ms)).start()

    def restart(self, in_ms, for_ms):
        out("RESTARTING %s in=%d for=%d" % (self.key.hex(), in_ms, for_ms))
        self.send(frame(RESTARTING, struct.pack(">II", in_ms, for_ms)))
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def run(self):
        try:
            self.handshake()
            while True:
                ftype, p = read_frame(self.sock)
                if self.frozen:
                    continue
                if ftype == SEND_PACKET:
                    self.sent_bytes += 5 + len(p)
                if ftype == SEND_PACKET and len(p) >= 32 and len(p) - 32 <= MAX_PACKET:
                    if not self.srv.deliver(self.key, p[:32], p[32:]):
                        self.send(frame(PEER_GONE, p[:32] + b"\x01"))   # not here
                elif ftype == NOTE_PREFERRED and len(p) == 1:
                    out("PREFERRED %s %d" % (self.key.hex(), p[0]))
                elif ftype == PING and len(p) == 8:
                    self.send(frame(PONG, p))
                elif ftype == PONG and self.ping_data is not None:
                    out("PONG %s %s" % (self.key.hex(), "ok" if p == self.ping_data else "bad"))
                    self.ping_data = None
        except (EOFError, OSError, ValueError, json.JSONDecodeError) as e:
            if not isinstance(e, EOFError):
                out("ERROR %r" % (e,))
        except Exception as e:                 # noqa: BLE001 - a test server logs everything
            out("ERROR %r" % (e,))
        finally:
            if self.key:
                with self.srv.lock:
                    if self.srv.clients.get(self.key) is self:
                        del self.srv.clients[self.key]
                out("GONE %s" % self.key.hex())
            try:
                self.sock.close()
            except OSError:
                pass


def serve(args):
    srv = Server(args)
    host, _, port = args.listen.rpartition(":")
    host = host.strip("[]")
    ls = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(64)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)

    def keepalive():
        last, last_ka = (0, 0), time.monotonic()
        while True:
            time.sleep(min(args.keepalive, 1.0))
            with srv.lock:
                conns = list(srv.clients.values())
                now = (srv.relayed, srv.dropped)
            if now != last:
                out("STATS relayed=%d dropped=%d" % now)
                last = now
            for c in conns if args.token_bucket else []:
                if c.info_t is not None:
                    out("SENT %s bytes=%d secs=%.2f" % (c.key.hex(), c.sent_bytes,
                                                        time.monotonic() - c.info_t))
            if time.monotonic() - last_ka >= args.keepalive:
                last_ka = time.monotonic()
                for c in conns:
                    c.send(frame(KEEP_ALIVE))

    threading.Thread(target=keepalive, daemon=True).start()
    for listen in args.stun or []:
        threading.Thread(target=stun_serve, args=(listen, args.stun_delay_ms), daemon=True).start()
    out("READY %d %s" % (ls.getsockname()[1], srv.pub.hex()))

    def one(s):
        try:
            s.settimeout(10)
            t = ctx.wrap_socket(s, server_side=True)
            t.settimeout(None)
        except (OSError, ssl.SSLError) as e:
            out("ERROR TLS %r" % (e,))
            s.close()
            return
        t.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        Conn(srv, t).run()

    while True:
        s, _ = ls.accept()
        threading.Thread(target=one, args=(s,), daemon=True).start()


# --- STUN -----------------------------------------------------------------------------------

STUN_COOKIE = 0x2112A442


def crc32_ieee(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def stun_txid(pkt):
    """The TxID of a Tailscale-style binding request, or None (derper's ParseBindingRequest)."""
    if len(pkt) < 20 or pkt[0:2] != b"\x00\x01" or struct.unpack(">I", pkt[4:8])[0] != STUN_COOKIE:
        return None
    end = 20 + struct.unpack(">H", pkt[2:4])[0]
    off, software, fp_ok = 20, None, False
    while off + 4 <= min(end, len(pkt)):
        t, n = struct.unpack(">HH", pkt[off:off + 4])
        v = pkt[off + 4:off + 4 + n]
        if t == 0x8022:
            software = v
        elif t == 0x8028 and n == 4:
            fp_ok = struct.unpack(">I", v)[0] == crc32_ieee(pkt[:off]) ^ 0x5354554E
        off += 4 + ((n + 3) & ~3)
    return pkt[8:20] if software == b"tailnode" and fp_ok else None


def stun_serve(listen, delay_ms):
    host, _, port = listen.rpartition(":")
    v6 = host.startswith("[")
    host = host.strip("[]")
    us = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    if v6:
        us.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    us.bind((host, int(port)))
    while True:
        pkt, peer = us.recvfrom(2048)
        ip, sport = peer[0], peer[1]
        txid = stun_txid(pkt)
        if txid is None:
            continue
        out("STUN %s:%d" % (("[%s]" % ip) if v6 else ip, sport))
        # XOR-MAPPED-ADDRESS: the address XORed with the cookie (IPv4) or cookie || TxID (IPv6)
        raw, fam = (socket.inet_pton(socket.AF_INET6, ip), 2) if v6 else (socket.inet_aton(ip), 1)
        xaddr = bytes(a ^ b for a, b in zip(raw, struct.pack(">I", STUN_COOKIE) + txid))
        attr = struct.pack(">HHBBH", 0x0020, 4 + len(raw), 0, fam, sport ^ (STUN_COOKIE >> 16)) + xaddr
        resp = struct.pack(">HHI", 0x0101, len(attr), STUN_COOKIE) + txid + attr
        threading.Timer(delay_ms / 1000.0, us.sendto, args=(resp, peer)).start()


# --- client ------------------------------------------------------------------------------

class DerpClient:
    """A DERP client: connect(), send(dst, pkt); received packets arrive in .rx (src, pkt)."""

    def __init__(self, host, port, priv, cafile=None, server_name=None, preferred=True):
        self.host, self.port, self.priv = host, port, priv
        self.pub = bytes(priv.public_key)
        self.cafile, self.server_name, self.preferred = cafile, server_name or host, preferred
        self.rx = queue.Queue()
        self.sock = None
        self.wlock = threading.Lock()
        self.alive = False

    def connect(self, timeout=5):
        ctx = ssl.create_default_context(cafile=self.cafile)
        raw = socket.create_connection((self.host, self.port), timeout=timeout)
        s = ctx.wrap_socket(raw, server_hostname=self.server_name)
        s.sendall(("GET /derp HTTP/1.1\r\nHost: %s\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n"
                   % self.server_name).encode())
        line, _ = read_http_head(s)
        if " 101 " not in line + " ":
            raise ValueError("upgrade refused: " + line)
        ftype, p = read_frame(s)
        if ftype != SERVER_KEY or p[:8] != MAGIC:
            raise ValueError("no ServerKey")
        server = PublicKey(p[8:40])
        nonce = os.urandom(24)
        body = Box(self.priv, server).encrypt(b'{"version":2,"CanAckPings":true}', nonce).ciphertext
        s.sendall(frame(CLIENT_INFO, self.pub + nonce + body))
        ftype, p = read_frame(s)
        if ftype != SERVER_INFO:
            raise ValueError("no ServerInfo")
        Box(self.priv, server).decrypt(p[24:], p[:24])
        if self.preferred:
            s.sendall(frame(NOTE_PREFERRED, b"\x01"))
        s.settimeout(None)
        self.sock, self.alive = s, True
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        try:
            while True:
                ftype, p = read_frame(self.sock)
                if ftype == RECV_PACKET and len(p) >= 32:
                    self.rx.put((p[:32], p[32:]))
                elif ftype == PING and len(p) == 8:
                    self._send(frame(PONG, p))
        except (EOFError, OSError, ValueError):
            pass
        self.alive = False
        self.rx.put(None)

    def _send(self, data):
        with self.wlock:
            self.sock.sendall(data)

    def send(self, dst, pkt):
        self._send(frame(SEND_PACKET, dst + pkt))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--listen", required=True)
    s.add_argument("--cert", required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--keepalive", type=float, default=60)
    s.add_argument("--ping-clients", action="store_true")
    s.add_argument("--allow", action="append")
    s.add_argument("--evil", choices=["bigskip", "toolarge"])
    s.add_argument("--token-bucket", metavar="RATE,BURST")
    s.add_argument("--restart-frame", metavar="IN_MS,FOR_MS")
    s.add_argument("--freeze-after", type=float, metavar="S")
    s.add_argument("--stun", metavar="ADDR:PORT", action="append")
    s.add_argument("--stun-delay-ms", type=float, default=0)
    a = ap.parse_args()
    serve(a)


if __name__ == "__main__":
    main()
