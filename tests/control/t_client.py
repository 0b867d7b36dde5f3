#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""meshgate's Headscale client (through hsprobe) against the independent test control server.

    hsprobe (C: hsclient, ts2021, nghttp2) --TCP 127.0.0.1--> testcontrol.py (Python: h2, cryptography)

Checks: registration with Hostinfo/RoutableIPs and capver; refusals (invalid, expired, used,
revoked key) reported with Headscale's text; full map, PeersRemoved, PeersChanged; PingRequest
answered with HEAD; server dropping every connection mid-stream -> reconnect and a full map
that changes nothing; a restart with a used single-use key (not re-validated for a known node);
capver below the server minimum -> closed after the handshake, reported; a lite MapRequest
(Stream=false, OmitPeers=true) with the published endpoints, their types and PreferredDERP;
zstd-compressed maps; node-key rotation when the server says the key expired (OldNodeKey);
registered once, reconnects and restarts go straight to the map poll (a spent single-use key
under a server that re-validates keys, a deleted key, an emptied AuthKeyFile), an expired node key
needs a new login with a key from AuthKeyFile and a new node key, a deleted node logs in again;
a MapRequest without known endpoints leaves "Endpoints" out, so the server keeps its stored set;
GET /key through 301/302/307/308 redirects to a chunked answer, a redirect loop cut off.
Usage: t_client.py PATH/TO/hsprobe   (exit 0 = pass)
"""
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

try:
    import h2  # noqa: F401  (the server needs python3-h2 and python3-cryptography)
    import cryptography  # noqa: F401
except ImportError as e:
    print("SKIP: %s (apt-get install python3-h2 python3-cryptography)" % e)
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = sys.argv[1] if len(sys.argv) > 1 else "build/tests/unit/headscale/hsprobe"
failures = 0
skipped = []     # parts that could not run, with the reason: they make the test a skip (exit 77)


def check(cond, what):
    global failures
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures += 1


class Server:
    def __init__(self, *args):
        self.p = subprocess.Popen([sys.executable, os.path.join(HERE, "testcontrol.py"), "--listen", "127.0.0.1:0"]
                                  + list(args), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.p.stdout.readline()
        assert line.startswith("READY"), line
        self.port = int(line.split()[1])
        self.url = "http://127.0.0.1:%d" % self.port

    def hook(self, path, obj=None):
        data = None if obj is None else json.dumps(obj).encode()
        req = urllib.request.Request(self.url + path, data=data, method="GET" if obj is None else "POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read() or b"{}")

    def stop(self):
        self.p.terminate()
        self.p.wait()


class Probe:
    def __init__(self, url, state_dir, key, seconds=30, routes=(), env=None):
        self.p = subprocess.Popen([PROBE, url, state_dir, key, str(seconds)] + list(routes),
                                  stdout=subprocess.PIPE, text=True, env=dict(os.environ, **(env or {})))
        self.q = queue.Queue()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stdout:
            self.q.put(json.loads(line))

    def wait(self, pred, timeout=8):
        end = time.time() + timeout
        while time.time() < end:
            try:
                ev = self.q.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            if pred(ev):
                return ev
        return None

    def stop(self):
        self.p.terminate()
        return self.p.wait()


def nk(b):
    return "nodekey:" + b * 32


LAPTOP = {"ID": 7, "StableID": "7", "Key": nk("ab"), "DiscoKey": "discokey:" + "cd" * 32,
          "Addresses": ["100.64.0.7/32", "fd7a:115c:a1e0::7/128"], "Endpoints": ["198.51.100.7:41641"],
          "HomeDERP": 999, "KeyExpiry": "0001-01-01T00:00:00Z"}
LAPTOP_WANT = {"key": nk("ab"), "allowed": ["100.64.0.7/32", "fd7a:115c:a1e0::7/128"], "endpoint": "198.51.100.7:41641"}


def is_status(up, text=None):
    return lambda e: e["event"] == "status" and e["up"] == up and (text is None or text in e["error"])


def is_map(pred=lambda e: True):
    return lambda e: e["event"] == "map" and pred(e)


def tls_checks(tmp):
    """https:// with a name (getaddrinfo_a path), a private CA, and a refused unknown CA."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-days", "1", "-keyout", key, "-out", cert], check=True, capture_output=True)
    srv = Server("--authkey", "goodkey", "--tls", cert + "," + key)
    try:
        for host in ("localhost", "127.0.0.1"):
            os.environ["MESHGATE_HEADSCALE_CA_FILE"] = cert
            pr = Probe("https://%s:%d" % (host, srv.port), os.path.join(tmp, "tls-" + host), "goodkey", 10)
            check(pr.wait(is_status(True)) is not None, "https://%s with the server's CA: connected" % host)
            check(pr.stop() == 0, "clean teardown (TLS)")
        del os.environ["MESHGATE_HEADSCALE_CA_FILE"]
        pr = Probe("https://localhost:%d" % srv.port, os.path.join(tmp, "tls-bad"), "goodkey", 5)
        ev = pr.wait(is_status(False))
        check(ev is not None and "TLS" in ev["error"], "unknown CA refused: %s" % (ev and ev["error"]))
        pr.stop()
    finally:
        srv.stop()
        os.environ.pop("MESHGATE_HEADSCALE_CA_FILE", None)


def publish_zstd_rotate(tmp):
    """Lite map request content, compressed maps, and node-key rotation, on one server."""
    try:
        import zstandard  # noqa: F401
        zstd = ["--zstd"]
    except ImportError:
        skipped.append("zstd checks: no python3-zstandard")
        zstd = []
    srv = Server("--authkey", "goodkey", *zstd)
    try:
        srv.hook("/test/peers", [LAPTOP])
        eps = "198.51.100.1:41641/5,198.51.100.1:40001/2,192.168.8.2:41641/1"
        pr = Probe(srv.url, os.path.join(tmp, "lite"), "goodkey", 30, env={"HSPROBE_PUBLISH": eps + ";999"})
        check(pr.wait(is_status(True)) is not None, "connected (lite/zstd/rotation server)")
        ev = pr.wait(is_map(lambda e: e["want"]))
        check(ev is not None and ev["want"] == [LAPTOP_WANT], "full map with the laptop")
        ev = pr.wait(lambda e: e["event"] == "published")
        check(ev is not None and ev["lite"] is True, "hs_client_publish sent a lite request while streaming")
        if zstd:
            st = srv.hook("/test/state")
            node = list(st["nodes"].values())[0]
            check(node["last_map_request"].get("Compress") == "zstd", "MapRequest asks for Compress=zstd")
            check(st["zstd_messages"] >= 1, "the server sent zstd frames (%d) and the map decoded" % st["zstd_messages"])
            srv.hook("/test/send", {"PeersRemoved": [7]})
            ev = pr.wait(is_map())
            check(ev is not None and ev["want"] == [], "a compressed delta (PeersRemoved) applies")
            srv.hook("/test/send", {"PeersChanged": [LAPTOP]})
            check(pr.wait(is_map(lambda e: e["want"] == [LAPTOP_WANT])) is not None, "a compressed PeersChanged applies")
        lite = []
        for _ in range(50):
            lite = srv.hook("/test/state")["lite"]
            if lite:
                break
            time.sleep(0.1)
        check(len(lite) == 1, "the server got one lite MapRequest (%d)" % len(lite))
        if lite:
            r = lite[0]["req"]
            check(r["Stream"] is False and r["OmitPeers"] is True and 113 <= r["Version"] < 120, "lite: Stream=false, OmitPeers=true")
            check(r["Endpoints"] == ["198.51.100.1:41641", "198.51.100.1:40001", "192.168.8.2:41641"] and
                  r["EndpointTypes"] == [5, 2, 1], "lite: Endpoints and EndpointTypes in order: %s %s" % (r["Endpoints"], r["EndpointTypes"]))
            check(r["Hostinfo"].get("NetInfo", {}).get("PreferredDERP") == 999, "lite: Hostinfo.NetInfo.PreferredDERP 999")
            check(r["DiscoKey"].startswith("discokey:") and r["NodeKey"] == "nodekey:" + list(srv.hook("/test/state")["nodes"])[0],
                  "lite: our node and disco keys")
        old = list(srv.hook("/test/state")["nodes"])[0]
        srv.hook("/test/expire", {})
        check(pr.wait(is_status(False, "expired")) is not None, "self node expired: the client re-registers")
        check(pr.wait(lambda e: e["event"] == "rotate") is not None, "NodeKeyExpired: a new node key is made")
        ev = pr.wait(lambda e: e["event"] == "rotated")
        check(ev is not None and ev["key"] != "nodekey:" + old, "the new key is registered (then installed)")
        check(pr.wait(is_status(True), 10) is not None, "connected again with the new key")
        st = srv.hook("/test/state")
        nodes = st["nodes"]
        new = list(nodes)[0] if nodes else None
        check(len(nodes) == 1 and ev is not None and "nodekey:" + new == ev["key"] and nodes[new]["rotated_from"] == [old]
              and nodes[new]["register"]["OldNodeKey"] == "nodekey:" + old,
              "server: same node, new NodeKey, OldNodeKey = the expired one")
        check(nodes[new].get("last_map_request", {}).get("NodeKey") == "nodekey:" + new, "map stream under the new key")
        check(pr.wait(is_map(lambda e: e["want"] == [LAPTOP_WANT])) is not None, "the map after rotation keeps the laptop")
        with open(os.path.join(tmp, "lite", "node.key")) as f:
            check(f.read().strip().startswith("privkey:"), "node.key still in StateDir")
        check(pr.stop() == 0, "clean teardown (lite/zstd/rotation)")

        # Published before the stream is up: no lite request; the stream's MapRequest carries it.
        n_lite = len(srv.hook("/test/state")["lite"])
        pr = Probe(srv.url, os.path.join(tmp, "early"), "goodkey", 10,
                   env={"HSPROBE_PUBLISH": "203.0.113.8:41641/5;7", "HSPROBE_PUBLISH_EARLY": "1"})
        ev = pr.wait(lambda e: e["event"] == "published")
        check(ev is not None and ev["lite"] is False, "publish before connecting sends nothing yet")
        check(pr.wait(is_status(True)) is not None, "connected (early publish)")
        st = srv.hook("/test/state")
        mrs = [n["last_map_request"] for n in st["nodes"].values() if n.get("hostname") == "hsprobe" and
               (n["last_map_request"].get("Endpoints") or [None])[0] == "203.0.113.8:41641"]
        check(len(mrs) == 1 and mrs[0]["Stream"] is True and mrs[0]["EndpointTypes"] == [5] and
              mrs[0]["Hostinfo"]["NetInfo"]["PreferredDERP"] == 7, "the streaming MapRequest carried the endpoints")
        time.sleep(0.5)
        check(len(srv.hook("/test/state")["lite"]) == n_lite, "and no lite request followed (nothing new)")
        pr.stop()
    finally:
        srv.stop()


def read_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def registers(srv):
    return srv.hook("/test/state")["registers"]


def reconnect_without_register(tmp):
    """Registered once, a client reconnects and restarts straight into the map poll (tailscaled
    logs in only when it has no registered node key), so a spent single-use key, a deleted key and
    an emptied AuthKeyFile change nothing. The server validates the key at every registration
    (Headscale before 0.27.1), so a client that registers again is refused."""
    srv = Server("--authkey", "oncekey:single", "--authkey", "goodkey", "--revalidate-keys", "--keepalive", "1")
    sd, keyfile = os.path.join(tmp, "rejoin"), os.path.join(tmp, "rejoin.authkey")
    with open(keyfile, "w") as f:
        f.write("oncekey\n")
    try:
        pr = Probe(srv.url, sd, "@" + keyfile, 60)
        check(pr.wait(is_status(True)) is not None, "joined with a single-use key from AuthKeyFile")
        regs = registers(srv)
        check(len(regs) == 1 and regs[0]["auth"] == {"AuthKey": "oncekey"}, "one registration, with the key")
        nodekey = regs[0]["nodekey"] if regs else None
        srv.hook("/test/drop", {})
        check(pr.wait(is_status(False)) is not None and pr.wait(is_status(True), 10) is not None,
              "server drop: reconnected with the single-use key spent")
        pr.stop()
        pr = Probe(srv.url, sd, "@" + keyfile, 60)
        check(pr.wait(is_status(True)) is not None, "restart: connected with the single-use key spent")
        srv.hook("/test/authkey", {"delete": "oncekey"})
        srv.hook("/test/drop", {})
        check(pr.wait(is_status(False)) is not None and pr.wait(is_status(True), 10) is not None,
              "key deleted on the server: reconnected")
        with open(keyfile, "w") as f:
            f.write("")
        srv.hook("/test/drop", {})
        check(pr.wait(is_status(False)) is not None and pr.wait(is_status(True), 10) is not None,
              "AuthKeyFile emptied: reconnected")
        pr.stop()
        pr = Probe(srv.url, sd, "@" + keyfile, 60)
        check(pr.wait(is_status(True)) is not None, "restart with AuthKeyFile empty: connected")
        regs = registers(srv)
        check(len(regs) == 1, "no registration after the first (%d)" % len(regs))
        node = srv.hook("/test/state")["nodes"].get(nodekey, {})
        check(node.get("last_map_request", {}).get("NodeKey") == "nodekey:%s" % nodekey, "map polls under the joined node key")
        check(read_text(os.path.join(sd, "registered")).split() == ["nodekey:%s" % nodekey, srv.url],
              "StateDir/registered names the node key and server")

        # Node key expired, no key at hand: a new login is needed (logged), and it happens as soon
        # as AuthKeyFile holds a key again: a NEW node key, OldNodeKey = the expired one.
        srv.hook("/test/expire", {})
        ev = pr.wait(is_status(False, "expired"))
        check(ev is not None, "self node expired: reported (%s)" % (ev and ev["error"]))
        ev = pr.wait(is_status(False, "AuthKeyFile"), 10)
        check(ev is not None, "a new login needs a pre-auth key: %s" % (ev and ev["error"]))
        check(len(registers(srv)) == 1, "nothing registered without a key")
        with open(keyfile, "w") as f:
            f.write("goodkey\n")
        ev = pr.wait(lambda e: e["event"] == "rotated", 20)
        check(ev is not None and ev["key"] != "nodekey:" + nodekey, "a key in AuthKeyFile: logged in with a new node key")
        check(pr.wait(is_status(True), 10) is not None, "connected again after the new login")
        regs = registers(srv)
        check(len(regs) == 2 and regs[1]["old"] == nodekey and regs[1]["auth"] == {"AuthKey": "goodkey"},
              "the login carried OldNodeKey and the new key")
        check((read_text(os.path.join(sd, "registered")).split() or [""])[0] == (ev or {}).get("key"),
              "StateDir/registered names the new node key")
        pr.stop()

        # The server forgot the node (deleted): the map poll gets 404, the client logs in again.
        srv.hook("/test/forget", {})
        pr = Probe(srv.url, sd, "@" + keyfile, 60)
        ev = pr.wait(is_status(False, "404"))
        check(ev is not None, "map poll for a deleted node: %s" % (ev and ev["error"]))
        check(pr.wait(is_status(True), 10) is not None, "registered again and connected")
        check(len(registers(srv)) == 3, "one more registration (%d)" % len(registers(srv)))
        check(pr.stop() == 0, "clean teardown (reconnect checks)")

        # Never joined and no key: nothing is sent (a registration without Auth is a logout for
        # Headscale 0.27, and an interactive login for a new node).
        empty = os.path.join(tmp, "empty.authkey")
        with open(empty, "w") as f:
            f.write("\n")
        pr = Probe(srv.url, os.path.join(tmp, "nokey"), "@" + empty, 10)
        ev = pr.wait(is_status(False))
        check(ev is not None and "no pre-auth key" in ev["error"], "no key, not joined: %s" % (ev and ev["error"]))
        check(len(registers(srv)) == 3, "and no registration sent")
        pr.stop()
        pr = Probe(srv.url, os.path.join(tmp, "nofile"), "@" + os.path.join(tmp, "missing.authkey"), 10)
        ev = pr.wait(is_status(False))
        check(ev is not None and "AuthKeyFile" in ev["error"] and "No such file" in ev["error"],
              "AuthKeyFile missing, not joined: %s" % (ev and ev["error"]))
        pr.stop()
    finally:
        srv.stop()


def endpoints_kept(tmp):
    """A MapRequest before we know any endpoint leaves "Endpoints" out (tailscaled: omitempty), so
    the set the server stored from the last run stays (an empty list would wipe it)."""
    srv = Server("--authkey", "goodkey")
    sd = os.path.join(tmp, "eps")
    try:
        pr = Probe(srv.url, sd, "goodkey", 20, env={"HSPROBE_PUBLISH": "198.51.100.1:41641/5;999"})
        ev = pr.wait(lambda e: e["event"] == "published")
        check(ev is not None and ev["lite"] is True, "endpoints published while streaming")
        for _ in range(50):
            nodes = list(srv.hook("/test/state")["nodes"].values())
            if nodes and nodes[0].get("endpoints"):
                break
            time.sleep(0.1)
        check(nodes and nodes[0].get("endpoints") == ["198.51.100.1:41641"], "the server stored them")
        pr.stop()
        pr = Probe(srv.url, sd, "goodkey", 20)
        check(pr.wait(is_status(True)) is not None, "restart (no endpoints known yet): connected")
        node = list(srv.hook("/test/state")["nodes"].values())[0]
        mr = node.get("last_map_request", {})
        check("Endpoints" not in mr and "EndpointTypes" not in mr, "the MapRequest leaves Endpoints out: %s"
              % sorted(k for k in mr if k.startswith("Endpoint")))
        check(node.get("endpoints") == ["198.51.100.1:41641"], "the stored endpoints stay: %s" % node.get("endpoints"))
        check(pr.stop() == 0, "clean teardown (endpoints)")
    finally:
        srv.stop()


def key_fetch(tmp):
    """GET /key through a redirect of each kind (Location absolute, then a bare path) to a chunked
    answer, as a reverse proxy in front of Headscale may give; a redirect loop is cut off."""
    srv = Server("--authkey", "goodkey", "--key-chunked")
    try:
        pr = Probe(srv.url, os.path.join(tmp, "keychunked"), "goodkey", 10)
        ev = pr.wait(lambda e: e["event"] == "status")
        check(ev is not None and ev["up"], "/key answered chunked: connected (%s)" % (ev and ev["error"]))
        pr.stop()
    finally:
        srv.stop()
    srv = Server("--authkey", "goodkey", "--key-redirect", "301,302,307,308", "--key-chunked")
    try:
        pr = Probe(srv.url, os.path.join(tmp, "keyfetch"), "goodkey", 10)
        ev = pr.wait(lambda e: e["event"] == "status")
        check(ev is not None and ev["up"], "/key after 301, 302, 307, 308 and a chunked body: connected (%s)"
              % (ev and ev["error"]))
        check(srv.hook("/test/state")["key_hops"] == 4, "all four redirects followed")
        pr.stop()
    finally:
        srv.stop()
    srv = Server("--authkey", "goodkey", "--key-redirect", ",".join(["302"] * 11))
    try:
        pr = Probe(srv.url, os.path.join(tmp, "keyloop"), "goodkey", 10)
        ev = pr.wait(is_status(False))
        check(ev is not None and "redirects" in ev["error"], "11 redirects: given up (%s)" % (ev and ev["error"]))
        check(srv.hook("/test/state")["key_hops"] == 11, "after following 10")
        pr.stop()
    finally:
        srv.stop()


def main():
    tmp = tempfile.mkdtemp(prefix="hs-client-")
    srv = Server("--authkey", "goodkey", "--authkey", "usedkey:used", "--authkey", "oldkey:expired",
                 "--authkey", "gonekey:revoked", "--authkey", "oncekey:single", "--keepalive", "1")
    try:
        for key, text in [("nope", "invalid pre auth key"), ("oldkey", "authkey expired"),
                          ("usedkey", "authkey already used"), ("gonekey", "authkey revoked")]:
            pr = Probe(srv.url, os.path.join(tmp, "refused-" + key), key, 5)
            ev = pr.wait(is_status(False))
            check(ev is not None and "register refused: " + text in ev["error"], "refusal '%s' reported: %s" % (text, ev and ev["error"]))
            check(pr.stop() == 0, "clean teardown after a refusal")

        pr = Probe(srv.url, os.path.join(tmp, "main"), "goodkey", 40, ["192.168.8.0/24", "192.168.20.7/24"])
        check(pr.wait(is_status(True)) is not None, "connected")
        ev = pr.wait(is_map())
        check(ev is not None and ev["self"][0].startswith("100.64.0.") and ev["want"] == [], "first full map: self addresses, no peers")
        st = srv.hook("/test/state")
        node = list(st["nodes"].values())[0]
        hi = node["register"]["Hostinfo"]
        # The capability version is a promise; 120/121 announce peer relay (disco messages 4-9),
        # which meshgate does not implement. Headscale 0.29 refuses anything below 113.
        cv = node["register"]["Version"]
        check(113 <= cv < 120 and node["capver"] == cv, "capver %d in register: >= 113, below peer relay (120)" % cv)
        check(node["register"]["Hostinfo"]["IPNVersion"].startswith("1.82.0-meshgate-"), "IPNVersion names capver 115's release")
        check(hi["OS"] == "linux" and hi["RoutableIPs"] == ["192.168.8.0/24", "192.168.20.0/24"],
              "Hostinfo RoutableIPs sorted, host bits cleared: %s" % hi.get("RoutableIPs"))
        mr = node["last_map_request"]
        check(mr["Stream"] is True and mr["OmitPeers"] is False and mr["DiscoKey"].startswith("discokey:"),
              "MapRequest Stream=true with DiscoKey")
        check(node["register"]["Auth"]["AuthKey"] == "goodkey", "pre-auth key sent")

        srv.hook("/test/peers", [LAPTOP])
        ev = pr.wait(is_map(lambda e: e["want"]))
        check(ev is not None and ev["want"] == [LAPTOP_WANT] and ev["update"] == [LAPTOP_WANT], "full map adds the laptop")
        time.sleep(2.5)   # two keep-alives: no map events, still connected
        srv.hook("/test/send", {"PeersRemoved": [7]})
        ev = pr.wait(is_map())
        check(ev is not None and ev["want"] == [] and ev["update"] == [{"key": nk("ab"), "remove": True}], "PeersRemoved removes it")
        srv.hook("/test/send", {"PeersChanged": [LAPTOP]})
        ev = pr.wait(is_map())
        check(ev is not None and ev["update"] == [LAPTOP_WANT], "PeersChanged adds it back")

        # A map far larger than HTTP/2's default 64 KiB windows and one 4 KiB Noise record.
        many = [dict(LAPTOP, ID=1000 + i, Key="nodekey:%064x" % (0x100 + i), Addresses=["100.65.%d.%d/32" % (i // 250, i % 250 + 1)])
                for i in range(1500)]
        srv.hook("/test/send", {"PeersChanged": many})
        ev = pr.wait(is_map(lambda e: len(e["want"]) == 1501), 15)
        check(ev is not None and len(ev["update"]) == 1500, "1500 peers in one PeersChanged (~600 KiB) arrive intact")
        srv.hook("/test/send", {"PeersRemoved": [1000 + i for i in range(1500)]})
        ev = pr.wait(is_map(lambda e: len(e["want"]) == 1), 15)
        check(ev is not None and ev["want"] == [LAPTOP_WANT], "and leave again")

        n = srv.hook("/test/ping")["id"]
        ok = False
        for _ in range(30):
            pings = srv.hook("/test/state")["pings"]
            if any(p.get("method") == "HEAD" and p["target"].endswith("id=%d" % n) for p in pings):
                ok = True
                break
            time.sleep(0.1)
        check(ok, "PingRequest answered with HEAD")

        srv.hook("/test/drop", {})
        check(pr.wait(is_status(False)) is not None, "server drop noticed")
        check(pr.wait(is_status(True), 10) is not None, "reconnected after the drop")
        ev = pr.wait(is_map())
        check(ev is not None and ev["want"] == [LAPTOP_WANT] and ev["update"] == [],
              "full map after reconnect changes nothing")
        check(pr.stop() == 0, "clean teardown (exit 0; under ASan: no leaks)")

        for attempt in (1, 2):
            pr = Probe(srv.url, os.path.join(tmp, "once"), "oncekey", 5)
            check(pr.wait(is_status(True)) is not None, "single-use key, start %d (known node not re-validated)" % attempt)
            pr.stop()
    finally:
        srv.stop()

    reconnect_without_register(tmp)
    endpoints_kept(tmp)
    key_fetch(tmp)
    publish_zstd_rotate(tmp)
    if shutil.which("openssl"):
        tls_checks(tmp)
    else:
        skipped.append("TLS checks: no openssl CLI")

    srv = Server("--authkey", "goodkey", "--min-capver", "200")
    try:
        pr = Probe(srv.url, os.path.join(tmp, "capver"), "goodkey", 5)
        ev = pr.wait(is_status(False))
        check(ev is not None and "capability version" in ev["error"], "capver below minimum reported: %s" % (ev and ev["error"]))
        pr.stop()
    finally:
        srv.stop()
    shutil.rmtree(tmp)
    if failures:
        print("t_client: %d FAILED" % failures)
        return 1
    if skipped:
        # A part that could not run makes the whole test a counted skip (meson's 77), not a pass.
        print("SKIP: t_client: %s (every other check passed)" % "; ".join(skipped))
        return 77
    print("t_client: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
