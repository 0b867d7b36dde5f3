#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""An independent test control server that speaks the Tailscale control protocol the way
Headscale does, written from the public protocol (tailscale's tailcfg and controlclient,
Headscale's behaviour), not from meshgate's C code: GET /key, POST /ts2021 (Noise IK via ts2021.py, early payload as three
records), HTTP/2 with prior knowledge (python3-h2), /machine/register with pre-auth keys and
Headscale's refusals, and a scripted /machine/map long-poll.

Test hooks (plain HTTP/1.1 on the same port, JSON bodies):
  POST /test/peers   [Node, ...]       peers for the next full maps (also pushed as a full map)
  POST /test/send    MapResponse       pushed as-is to every open map stream
  POST /test/ping    {}                PingRequest{URL: http://<us>/test/ping-response?id=N}
  POST /test/drop    {}                close every connection (a server restart mid-stream)
  POST /test/config  {"min_capver":N, "keepalive_s":N, "derpmap":DERPMap, "rotate_delay_s":N}
                                       (rotate_delay_s: hold a register with OldNodeKey that long)
  POST /test/authkey {"delete":KEY} / {"add":"KEY[:flags]"}   a pre-auth key deleted or created
  POST /test/forget  {}                every node deleted (the map poll then answers 404)
  POST /test/expire  {}                every node's key expired: self Node pushed with Expired, and
                                       the next register answers NodeKeyExpired (rotation, §2)
  GET  /test/state                     registered nodes, open streams, pings answered, log,
                                       lite map requests ("lite": Stream=false, OmitPeers=true),
                                       every RegisterRequest ("registers")
GET /key may first redirect (--key-redirect 301,302,...) and answer chunked (--key-chunked).
With --zstd, a map stream whose request says Compress="zstd" gets every message as one zstd
frame (python3-zstandard), as Headscale does (§3.3); without it maps stay plain JSON.
  HEAD /test/ping-response?id=N        the client's answer to a PingRequest
Usage: testcontrol.py --listen 127.0.0.1:8080 --authkey KEY[:flags] ... (flags: used, expired,
revoked, single); prints "READY <port>" when listening. Registration follows Headscale: a register
without Auth returns a known node's state, an empty AuthKey is an interactive login, a deleted
key is refused, a spent single-use key only for a new node (or always, with --revalidate-keys).
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
import time
import urllib.parse

import h2.config
import h2.connection
import h2.events

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ts2021  # noqa: E402

ZERO_TIME = "0001-01-01T00:00:00Z"
lock = threading.RLock()
state = {
    "nodes": {},          # nodekey hex -> node record
    "peers": [],          # scripted peers (tailcfg.Node dicts)
    "streams": [],        # open map streams: (MapConn, stream id)
    "pings": [],
    "log": [],
    "conns": [],
    "min_capver": 113,
    "keepalive_s": 50,
    "next_id": 1,
    "ping_seq": 0,
    "lite": [],           # lite MapRequests: {"nodekey", "req", "t"}
    "derpmap": None,      # DERPMap for full maps; None = one region 999 without STUN
    "zstd": False,
    "zstd_messages": 0,
    "rotate_delay_s": 0,
    "registers": [],      # every RegisterRequest: {"nodekey", "old", "auth" (None = absent), "t"}
    "revalidate_keys": False,
    "key_redirects": [],  # GET /key answers with these redirect statuses first, one per hop
    "key_hops": 0,        # redirects served
    "key_chunked": False,
}
authkeys = {}             # key -> {"flags": set(), "used_by": None}
server_priv = os.urandom(32)
server_pub = ts2021.pub_bytes(ts2021.priv_from_bytes(server_priv))
listen_host = "127.0.0.1"
listen_port = 0
listen_scheme = "http"


def log(msg):
    with lock:
        state["log"].append(msg)
    print(msg, file=sys.stderr, flush=True)


def read_headers(sock):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(4096)
        if not d:
            return None, b""
        buf += d
        if len(buf) > 65536:
            return None, b""
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return (method, target, hdrs), rest


def respond(sock, status, body=b"", ctype="application/json", extra=""):
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error",
              101: "Switching Protocols", 301: "Moved Permanently", 302: "Found", 303: "See Other",
              307: "Temporary Redirect", 308: "Permanent Redirect"}.get(status, "X")
    sock.sendall(("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%sConnection: close\r\n\r\n"
                  % (status, reason, ctype, len(body), extra)).encode() + body)


def respond_chunked(sock, body):
    """200 with Transfer-Encoding: chunked, in small chunks (one with an extension) and a
    trailer, each written on its own so the client sees them arrive piece by piece."""
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                 b"Connection: close\r\n\r\n")
    for i in range(0, len(body), 17):
        part = body[i:i + 17]
        sock.sendall(b"%x%s\r\n" % (len(part), b";ext=1" if i == 17 else b"") + part + b"\r\n")
        time.sleep(0.002)
    sock.sendall(b"0\r\nX-Trailer: yes\r\n\r\n")


def answer_key(sock, q):
    """GET /key: the redirect chain first (--key-redirect; a Location alternately absolute and a
    bare path, the hop counted in the query), then the keys, chunked with --key-chunked."""
    hop = int(q.get("hop", ["0"])[0])
    codes = state["key_redirects"]
    if hop < len(codes):
        nxt = "/key?v=%s&hop=%d" % (q["v"][0], hop + 1)
        loc = nxt if hop % 2 else "%s://%s:%d%s" % (listen_scheme, listen_host, listen_port, nxt)
        with lock:
            state["key_hops"] += 1
        return respond(sock, codes[hop], b"moved", ctype="text/plain", extra="Location: %s\r\n" % loc)
    if int(q["v"][0]) < 39:
        return respond(sock, 200, b"")
    body = json.dumps({"legacyPublicKey": "mkey:" + "00" * 32, "publicKey": "mkey:" + server_pub.hex()}).encode()
    if state["key_chunked"]:
        return respond_chunked(sock, body)
    return respond(sock, 200, body)


def node_json(rec):
    n = {"ID": rec["id"], "StableID": str(rec["id"]), "Name": rec["hostname"] + ".tailnet.test.",
         "User": 1, "Key": "nodekey:" + rec["nodekey"],
         "KeyExpiry": "2001-01-01T00:00:00Z" if rec.get("expired") else ZERO_TIME, "Expired": bool(rec.get("expired")),
         "Machine": "mkey:" + rec["mkey"], "DiscoKey": rec.get("discokey") or "discokey:" + "00" * 32,
         "Addresses": rec["addresses"], "AllowedIPs": rec["addresses"] + rec["approved"],
         "Endpoints": rec.get("endpoints", []),
         "PrimaryRoutes": rec["approved"], "HomeDERP": 999, "Hostinfo": rec["hostinfo"],
         "Online": True, "Cap": rec["capver"], "MachineAuthorized": True}
    return n


def full_map(rec):
    return {"KeepAlive": False, "Node": node_json(rec), "Peers": list(state["peers"]),
            "DERPMap": state["derpmap"] or {"Regions": {"999": {"RegionID": 999, "RegionCode": "test", "RegionName": "test",
                                                                "Nodes": [{"Name": "999", "RegionID": 999, "HostName": listen_host,
                                                                           "DERPPort": 443, "STUNPort": -1}]}}},
            "PacketFilters": {"base": [{"SrcIPs": ["*"], "DstPorts": [{"IP": "*", "Ports": {"First": 0, "Last": 65535}}]}]},
            "ControlTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "Domain": "tailnet.test", "Debug": {"DisableLogTail": True}}


class MapConn:
    """One ts2021 connection: Noise records carrying an HTTP/2 server session."""

    def __init__(self, sock, rx, tx, mkey, version):
        self.sock, self.rx, self.tx, self.mkey, self.version = sock, rx, tx, mkey, version
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
        self.wlock = threading.Lock()
        self.push_lock = threading.Lock()   # one map message at a time: chunks must not interleave
        self.bodies, self.reqs = {}, {}
        self.closed = False
        self.map_streams = set()
        self.zstd_streams = set()

    def send_plain(self, data):
        with self.wlock:
            for i in range(0, len(data), 4077):
                self.sock.sendall(self.tx.seal(data[i:i + 4077]))

    def flush(self):
        data = self.h2.data_to_send()
        if data:
            self.send_plain(data)

    def push(self, stream, obj):
        """One map message: u32 LE length + JSON, in frames that fit the peer's windows."""
        payload = json.dumps(obj).encode()
        if stream in self.zstd_streams:
            import zstandard
            payload = zstandard.ZstdCompressor(level=1, write_content_size=False).compress(payload)
            with lock:
                state["zstd_messages"] += 1
        data = struct.pack("<I", len(payload)) + payload
        with self.push_lock:
            self.push_chunks(stream, data)

    def push_chunks(self, stream, data):
        deadline = time.time() + 30
        while data and not self.closed and time.time() < deadline:
            with self.wlock:
                try:
                    n = min(len(data), self.h2.local_flow_control_window(stream), self.h2.max_outbound_frame_size)
                    if n:
                        self.h2.send_data(stream, data[:n])
                        data = data[n:]
                except Exception as e:  # noqa: BLE001 (stream gone)
                    log("push failed: %r" % e)
                    return
            self.flush()
            if data and not n:
                time.sleep(0.01)      # the reader thread applies WINDOW_UPDATEs

    def reply(self, stream, status, body=b""):
        with self.wlock:
            self.h2.send_headers(stream, [(":status", str(status)), ("content-type", "application/json")])
            self.h2.send_data(stream, body, end_stream=True)
        self.flush()

    def run(self):
        with self.wlock:
            self.h2.initiate_connection()
        self.flush()
        buf = b""
        self.sock.settimeout(0.2)
        while not self.closed:
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not d:
                break
            buf += d
            while len(buf) >= 3:
                typ, n = buf[0], struct.unpack(">H", buf[1:3])[0]
                if typ != 4 or n > 4093:
                    log("bad record type %d len %d" % (typ, n))
                    self.closed = True
                    break
                if len(buf) < 3 + n:
                    break
                pt = self.rx.open(buf[3:3 + n])
                buf = buf[3 + n:]
                with self.wlock:
                    events = self.h2.receive_data(pt)
                self.flush()
                for ev in events:
                    self.event(ev)
        self.close()

    def close(self):
        self.closed = True
        with lock:
            state["streams"] = [s for s in state["streams"] if s[0] is not self]
        try:
            self.sock.close()
        except OSError:
            pass

    def event(self, ev):
        if isinstance(ev, h2.events.RequestReceived):
            self.reqs[ev.stream_id] = dict(ev.headers)
            self.bodies[ev.stream_id] = b""
            if ev.stream_ended:
                self.request(ev.stream_id)
        elif isinstance(ev, h2.events.DataReceived):
            self.bodies[ev.stream_id] += ev.data
            with self.wlock:
                self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            self.flush()
        elif isinstance(ev, h2.events.StreamEnded):
            self.request(ev.stream_id)
        elif isinstance(ev, h2.events.StreamReset):
            with lock:
                state["streams"] = [s for s in state["streams"] if s != (self, ev.stream_id)]

    def request(self, sid):
        hdrs, body = self.reqs[sid], self.bodies.pop(sid, b"")
        path, method = hdrs.get(":path"), hdrs.get(":method")
        log("h2 %s %s (%d bytes)" % (method, path, len(body)))
        if method == "POST" and path == "/machine/register":
            return self.register(sid, json.loads(body))
        if method == "POST" and path == "/machine/map":
            return self.map(sid, json.loads(body))
        if method == "HEAD":
            with lock:
                state["pings"].append({"noise": True, "path": path})
            return self.reply(sid, 200)
        self.reply(sid, 404, b"not found")

    def refuse_version(self, sid, v):
        if v < state["min_capver"]:
            self.reply(sid, 400, b"unsupported client version: (%d)" % v)
            return True
        return False

    def register(self, sid, req):
        if self.refuse_version(sid, req.get("Version", 0)):
            return
        nk = req["NodeKey"].split(":", 1)[1]
        old = (req.get("OldNodeKey") or ":").split(":", 1)[1]
        with lock:
            delay = state["rotate_delay_s"] if old and old.strip("0") else 0
        if delay:
            log("register: rotation pending for %.1f s" % delay)
            time.sleep(delay)
        auth = req.get("Auth")
        with lock:
            state["registers"].append({"nodekey": nk, "old": old, "auth": auth, "t": time.time()})
            rec = state["nodes"].get(nk)
            if rec and rec["mkey"] != self.mkey:
                return self.reply(sid, 200, json.dumps({"Error": "node exists with a different machine key"}).encode())
            if rec and rec.get("expired"):
                log("register: node key %s expired" % nk[:8])
                return self.reply(sid, 200, json.dumps({"User": {"ID": 1}, "Login": {"ID": 1, "LoginName": "test"},
                                                        "NodeKeyExpired": True, "MachineAuthorized": True}).encode())
            if auth is None:
                # No Auth: tailscaled's start after a login. A known node gets its state back; an
                # unknown one is sent to the interactive login (Headscale handleRegister).
                if rec:
                    return self.reply(sid, 200, json.dumps({"User": {"ID": 1}, "Login": {"ID": 1, "LoginName": "test"},
                                                            "NodeKeyExpired": False, "MachineAuthorized": True}).encode())
                return self.reply(sid, 200, json.dumps({"AuthURL": "http://%s:%d/register/xyz" % (listen_host, listen_port)}).encode())
            err = self.check_authkey(auth.get("AuthKey", ""), rec)
            if err == "interactive":
                return self.reply(sid, 200, json.dumps({"AuthURL": "http://%s:%d/register/xyz" % (listen_host, listen_port)}).encode())
            if err:
                log("register refused: " + err)
                return self.reply(sid, 200, json.dumps({"Error": err}).encode())
            if not rec and old in state["nodes"] and state["nodes"][old]["mkey"] == self.mkey:
                rec = state["nodes"].pop(old)
                rec["nodekey"] = nk
                rec["expired"] = False
                rec.setdefault("rotated_from", []).append(old)
                log("register: node key rotated %s -> %s" % (old[:8], nk[:8]))
            if not rec:
                i = state["next_id"]
                state["next_id"] += 1
                addrs = state.pop("assign", None) or ["100.64.0.%d/32" % (100 + i), "fd7a:115c:a1e0::%d/128" % (100 + i)]
                rec = {"id": 100 + i, "mkey": self.mkey, "nodekey": nk, "addresses": addrs}
            rec.update(hostinfo=req.get("Hostinfo") or {}, capver=req.get("Version", 0),
                       hostname=(req.get("Hostinfo") or {}).get("Hostname", "node"))
            rec["approved"] = list((req.get("Hostinfo") or {}).get("RoutableIPs") or [])
            rec["register"] = req
            state["nodes"][nk] = rec
        self.reply(sid, 200, json.dumps({"User": {"ID": 1, "DisplayName": "test"},
                                         "Login": {"ID": 1, "LoginName": "test", "DisplayName": "test"},
                                         "NodeKeyExpired": False, "MachineAuthorized": True,
                                         "AuthURL": ""}).encode())

    def check_authkey(self, key, rec):
        """None (accepted and marked used), "interactive", or Headscale's refusal text. An empty
        AuthKey is an interactive login even for a known node; a key that no longer exists is
        refused even for one (the lookup comes first); a known node re-registering with its node
        key skips the key's validity checks (Headscale 0.27.1+) unless --revalidate-keys
        (Headscale 0.27.0: every registration validates, so a spent single-use key fails)."""
        if not key:
            return "interactive"
        k = authkeys.get(key)
        if k is None:
            return "invalid pre auth key"
        if not rec or state["revalidate_keys"]:
            if "revoked" in k["flags"]:
                return "authkey revoked"
            if "expired" in k["flags"]:
                return "authkey expired"
            if "used" in k["flags"] or ("single" in k["flags"] and k["used_by"] is not None):
                return "authkey already used"
        k["used_by"] = self.mkey
        return None

    def map(self, sid, req):
        if self.refuse_version(sid, req.get("Version", 0)):
            return
        nk = req["NodeKey"].split(":", 1)[1]
        with lock:
            rec = state["nodes"].get(nk)
            if not rec or rec["mkey"] != self.mkey:
                return self.reply(sid, 404, b"node not found")
            if req.get("DiscoKey"):
                rec["discokey"] = req["DiscoKey"]
            # Headscale stores what a MapRequest says: "Endpoints" absent (Go: nil) changes
            # nothing, an empty list replaces the stored set with nothing.
            if "Endpoints" in req:
                rec["endpoints"] = list(req["Endpoints"] or [])
            if not req.get("Stream"):
                # Lite (endpoint) update: applied, answered with an empty 200.
                state["lite"].append({"nodekey": nk, "req": req, "t": time.time()})
                rec["last_lite_request"] = req
                self.reply(sid, 200)
                # New Hostinfo: its routes are approved at once (as Headscale does when the
                # policy's autoApprovers cover them, §4), and the node sees its new PrimaryRoutes.
                hi = req.get("Hostinfo")
                routes = list((hi or {}).get("RoutableIPs") or [])
                if hi is None or routes == rec["approved"]:
                    return None
                rec["hostinfo"], rec["approved"] = hi, routes
                log("lite: %s now announces %s" % (nk[:8], routes))
                # Pushed from another thread once this one lets go of the lock.
                threading.Thread(target=push_all, args=({"Node": node_json(rec)},), daemon=True).start()
                return None
            rec["last_map_request"] = req
            if req.get("Compress") == "zstd" and state["zstd"]:
                self.zstd_streams.add(sid)
            with self.wlock:
                self.h2.send_headers(sid, [(":status", "200"), ("content-type", "application/json")])
            self.flush()
            state["streams"].append((self, sid))
            first = full_map(rec)
        self.push(sid, first)
        threading.Thread(target=self.keepalives, args=(sid,), daemon=True).start()

    def keepalives(self, sid):
        last = time.time()
        while not self.closed:
            time.sleep(0.2)
            with lock:
                if (self, sid) not in state["streams"]:
                    return
                ka = state["keepalive_s"]
            if time.time() - last >= ka:
                self.push(sid, {"KeepAlive": True})
                last = time.time()


def ts2021_upgrade(sock, target, hdrs, rest):
    if hdrs.get("upgrade", "").lower() != "tailscale-control-protocol":
        return respond(sock, 400, b"bad upgrade")
    hs = hdrs.get("x-tailscale-handshake")
    try:
        import base64
        init = base64.b64decode(hs, validate=True)
        version, mkey, resp, rx, tx = ts2021.respond(init, server_priv)
    except Exception as e:  # noqa: BLE001
        log("ts2021 refused: %r" % e)
        return respond(sock, 400, b"bad handshake")
    log("ts2021 version %d from mkey:%s" % (version, mkey.hex()))
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: tailscale-control-protocol\r\n"
                 b"Connection: upgrade\r\n\r\n" + resp)
    if version < state["min_capver"]:
        log("closing: capver %d below %d" % (version, state["min_capver"]))
        time.sleep(0.05)
        sock.close()
        return
    for part in ts2021.early_payload_parts(os.urandom(32)):
        sock.sendall(tx.seal(part))
    conn = MapConn(sock, rx, tx, mkey.hex(), version)
    with lock:
        state["conns"].append(conn)
    conn.run()


def push_all(obj):
    with lock:
        streams = list(state["streams"])
    for conn, sid in streams:
        conn.push(sid, obj)
    return len(streams)


def test_hook(sock, method, target, hdrs, body):
    path = urllib.parse.urlparse(target).path
    data = json.loads(body) if body else {}
    if path == "/test/peers":
        with lock:
            state["peers"] = data
        n = push_all({"Peers": data} if data else {"PeersRemoved": [p["ID"] for p in state["peers"]]})
        return respond(sock, 200, json.dumps({"streams": n}).encode())
    if path == "/test/send":
        return respond(sock, 200, json.dumps({"streams": push_all(data)}).encode())
    if path == "/test/ping":
        with lock:
            state["ping_seq"] += 1
            n = state["ping_seq"]
        url = "http://%s:%d/test/ping-response?id=%d" % (listen_host, listen_port, n)
        return respond(sock, 200, json.dumps({"streams": push_all({"PingRequest": {"URL": url, "Log": True}}), "id": n}).encode())
    if path == "/test/drop":
        with lock:
            conns = list(state["conns"])
            state["conns"] = []
        for c in conns:
            c.closed = True
            try:
                c.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return respond(sock, 200, json.dumps({"dropped": len(conns)}).encode())
    if path == "/test/expire":
        with lock:
            recs = list(state["nodes"].values())
            for rec in recs:
                rec["expired"] = True
        for rec in recs:
            push_all({"Node": node_json(rec)})
        return respond(sock, 200, json.dumps({"expired": len(recs)}).encode())
    if path == "/test/forget":
        with lock:
            n = len(state["nodes"])
            state["nodes"] = {}
        return respond(sock, 200, json.dumps({"forgotten": n}).encode())
    if path == "/test/authkey":
        with lock:
            if "delete" in data:
                authkeys.pop(data["delete"], None)
            if "add" in data:
                key, _, flags = data["add"].partition(":")
                authkeys[key] = {"flags": set(f for f in flags.split(",") if f), "used_by": None}
        return respond(sock, 200, b"{}")
    if path == "/test/config":
        with lock:
            for k in ("min_capver", "keepalive_s", "derpmap", "rotate_delay_s"):
                if k in data:
                    state[k] = data[k]
        return respond(sock, 200, b"{}")
    if path == "/test/state":
        with lock:
            out = {"nodes": state["nodes"], "streams": len(state["streams"]), "pings": state["pings"],
                   "log": state["log"][-50:], "lite": state["lite"],
                   "registers": state["registers"], "key_hops": state["key_hops"], "zstd_messages": state["zstd_messages"]}
            return respond(sock, 200, json.dumps(out).encode())
    if path == "/test/ping-response":
        with lock:
            state["pings"].append({"noise": False, "method": method, "target": target})
        return respond(sock, 200)
    respond(sock, 404, b"no such hook")


def handle(sock):
    try:
        req, rest = read_headers(sock)
        if not req:
            return
        method, target, hdrs = req
        u = urllib.parse.urlparse(target)
        if u.path == "/ts2021" and method in ("POST", "GET"):
            if "upgrade" not in hdrs:
                return respond(sock, 500, b"Internal error")
            return ts2021_upgrade(sock, target, hdrs, rest)
        n = int(hdrs.get("content-length", "0") or 0)
        body = rest
        while len(body) < n:
            d = sock.recv(65536)
            if not d:
                break
            body += d
        if u.path == "/key" and method == "GET":
            q = urllib.parse.parse_qs(u.query)
            if "v" not in q:
                return respond(sock, 400, b"missing v")
            return answer_key(sock, q)
        if u.path.startswith("/test/"):
            return test_hook(sock, method, target, hdrs, body)
        respond(sock, 404, b"not found")
    except Exception as e:  # noqa: BLE001
        log("handler error: %r" % e)
    finally:
        try:
            sock.close()
        except OSError:
            pass


def main():
    global listen_host, listen_port, listen_scheme
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--authkey", action="append", default=[])
    ap.add_argument("--min-capver", type=int, default=113)
    ap.add_argument("--keepalive", type=float, default=50)
    ap.add_argument("--key-redirect", default="", help="GET /key redirects first, e.g. 301,302,307,308")
    ap.add_argument("--key-chunked", action="store_true", help="GET /key answers with a chunked body")
    ap.add_argument("--revalidate-keys", action="store_true",
                    help="validate the pre-auth key at every registration, as Headscale 0.27.0 did")
    ap.add_argument("--tls", help="CERT,KEY: serve HTTPS (the /key trust anchor and the upgrade)")
    ap.add_argument("--zstd", action="store_true", help="compress maps for clients that ask (python3-zstandard)")
    ap.add_argument("--assign", help="addresses for the first node that registers, e.g. 100.64.0.5/32,fd7a:115c:a1e0::5/128")
    a = ap.parse_args()
    for k in a.authkey:
        key, _, flags = k.partition(":")
        authkeys[key] = {"flags": set(f for f in flags.split(",") if f), "used_by": None}
    state["min_capver"] = a.min_capver
    state["keepalive_s"] = a.keepalive
    state["zstd"] = a.zstd
    state["revalidate_keys"] = a.revalidate_keys
    state["key_redirects"] = [int(c) for c in a.key_redirect.split(",") if c]
    state["key_chunked"] = a.key_chunked
    if a.assign:
        state["assign"] = a.assign.split(",")
    host, _, port = a.listen.rpartition(":")
    ls = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(64)
    listen_host, listen_port = host, ls.getsockname()[1]
    tls = None
    listen_scheme = "https" if a.tls else "http"
    if a.tls:
        import ssl
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*a.tls.split(","))
    print("READY %d" % listen_port, flush=True)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve_one, args=(s, tls), daemon=True).start()


def serve_one(s, tls):
    if tls:
        try:
            s.settimeout(5)
            s = tls.wrap_socket(s, server_side=True)
            s.settimeout(None)
        except OSError as e:
            log("TLS handshake failed: %r" % e)
            s.close()
            return
    handle(s)


if __name__ == "__main__":
    main()
