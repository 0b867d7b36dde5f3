#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""t_local.py - meshgate's DERP client (derpharness) against the independent test server
(derpd.py) over TLS on loopback, with a throwaway CA made by openssl.

  t_local.py path/to/derpharness

Cases (each prints PASS:/FAIL:):
 1. home region: the client connects, verifies the certificate against the CA file, sends
    ClientInfo {"version":2,"CanAckPings":true}, NotePreferred(1), answers the server's Ping.
 2. relaying: a Python DERP client sends 40 packets (1..1400 and 65536 bytes) to the harness's
    node key; the harness gets each with the right source and echoes it; all come back in order.
 3. on demand: a packet for a second region dials it (no NotePreferred there) and the packet
    arrives; after the (shortened) idle time the connection closes.
 4. reconnect: the home server restarts (new server key, same port); the client is back and
    relays again.
 5. certificates: without the CA file the client never connects; a wrong CertName fails;
    CertName "sha256-raw:<leaf hash>" and InsecureForTests connect without the CA.
Needs openssl and python3-nacl; exit 77 (skip) without them.
"""
import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    from nacl.public import PrivateKey
    import derpd
except ImportError:
    print("SKIP: t_derp_local: python3-nacl missing")
    sys.exit(77)

FAILS = 0


def check(name, ok, detail=""):
    global FAILS
    # detail may be any object, a tuple included: format it as one value
    print(("PASS: " if ok else "FAIL: ") + name + ("" if ok or not detail else " (%s)" % (detail,)))
    if not ok:
        FAILS += 1


class Lines:
    """A child process whose stdout lines are collected by a thread, for waiting on."""

    def __init__(self, argv, env=None, stdin=False):
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  env=env, stdin=subprocess.PIPE if stdin else None, bufsize=1)
        self.lines, self.err = [], []
        self.cv = threading.Condition()
        self.readers = [threading.Thread(target=self._read, args=(f, into), daemon=True)
                        for f, into in ((self.p.stdout, self.lines), (self.p.stderr, self.err))]
        for r in self.readers:
            r.start()

    def _read(self, f, into):
        for ln in f:
            with self.cv:
                into.append(ln.rstrip("\n"))
                self.cv.notify_all()

    def wait(self, pred, timeout=10, start=0, stream=None):
        end = time.monotonic() + timeout
        lines = self.lines if stream is None else stream
        with self.cv:
            while True:
                for ln in lines[start:]:
                    if pred(ln):
                        return ln
                left = end - time.monotonic()
                if left <= 0:
                    return None
                self.cv.wait(left)

    def wait_err(self, pred, timeout=10):
        """Like wait, on stderr: its lines come through their own pipe and thread, so one the
        child wrote before a stdout line may still be on its way when that line is seen."""
        return self.wait(pred, timeout, 0, self.err)

    def drain(self, timeout=5):
        """After the child exited: every line it wrote is in lines/err once the readers end."""
        for r in self.readers:
            r.join(timeout)

    def mark(self):
        with self.cv:
            return len(self.lines)

    def send(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()


def make_certs(d):
    def run(*a):
        subprocess.run(a, check=True, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=meshgate test DERP CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=derp.test")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:derp.test,IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "ext.cnf")
    der = subprocess.run(["openssl", "x509", "-in", os.path.join(d, "leaf.pem"), "-outform", "DER"],
                         check=True, stdout=subprocess.PIPE).stdout
    return hashlib.sha256(der).hexdigest()


def start_server(d, port=0, evil=None, extra=()):
    s = Lines([sys.executable, os.path.join(HERE, "derpd.py"), "serve", "--listen", "127.0.0.1:%d" % port,
               "--cert", os.path.join(d, "leaf.pem"), "--key", os.path.join(d, "leaf.key"),
               "--ping-clients", "--keepalive", "5"] + (["--evil", evil] if evil else []) + list(extra))
    ln = s.wait(lambda l: l.startswith("READY"), 10)
    if not ln:
        raise RuntimeError("derpd did not start: %s" % s.err[-3:])
    return s, int(ln.split()[1])


def region(rid, port, **node):
    n = {"Name": "%da" % rid, "RegionID": rid, "HostName": "derp.test", "IPv4": "127.0.0.1", "DERPPort": port}
    n.update(node)
    return {"RegionID": rid, "RegionCode": "t%d" % rid, "Nodes": [n]}


def harness(exe, d, name, regions, priv, seconds, ca=True, extra=()):
    path = os.path.join(d, name + ".json")
    with open(path, "w") as f:
        json.dump({str(r["RegionID"]): r for r in regions}, f)
    env = dict(os.environ)
    if ca:
        env["DERP_CA_FILE"] = os.path.join(d, "ca.pem")
    else:
        env.pop("DERP_CA_FILE", None)
    return Lines([exe, path, bytes(priv).hex(), str(seconds)] + list(extra), env=env, stdin=True)


def get(q, timeout):
    try:
        return q.get(timeout=timeout)
    except queue.Empty:
        return None


def main():
    if len(sys.argv) != 2 or not shutil.which("openssl"):
        print("SKIP: t_derp_local: usage t_local.py DERPHARNESS, and openssl is needed")
        return 77
    exe = sys.argv[1]
    d = tempfile.mkdtemp(prefix="derp-local-")
    procs = []
    try:
        leaf_hash = make_certs(d)
        s1, p1 = start_server(d)
        s2, p2 = start_server(d)
        procs += [s1, s2]
        hpriv = PrivateKey.generate()
        hpub = bytes(hpriv.public_key).hex()
        h = harness(exe, d, "main", [region(900, p1), region(901, p2)], hpriv, 60,
                    extra=["--echo", "--idle-ms", "2000"])
        procs.append(h)

        # 1. home region handshake.
        check("home region is the lowest id (900)", h.wait(lambda l: l == "HOME 900", 5) is not None)
        check("client connects to the home region over verified TLS",
              h.wait(lambda l: l == "UP 900 home=1", 10) is not None, h.err[-3:])
        check("server saw ClientInfo version=2 CanAckPings=true",
              s1.wait(lambda l: l == "CONNECT %s version=2 canackpings=true" % hpub, 5) is not None, s1.lines[-3:])
        check("NotePreferred(1) on the home region", s1.wait(lambda l: l == "PREFERRED %s 1" % hpub, 5) is not None)
        check("server Ping answered with the same 8 bytes",
              s1.wait(lambda l: l.startswith("PONG " + hpub), 5) == "PONG %s ok" % hpub)

        # 2. relaying through the home region, echoed by the harness.
        cpriv = PrivateKey.generate()
        c = derpd.DerpClient("127.0.0.1", p1, cpriv, cafile=os.path.join(d, "ca.pem"), server_name="derp.test")
        c.connect()
        sizes = list(range(1, 1401, 36)) + [65536]
        sent = [os.urandom(n) for n in sizes]
        for pkt in sent:
            c.send(bytes.fromhex(hpub), pkt)
        got = []
        while len(got) < len(sent):
            m = get(c.rx, 10)
            if not m:
                break
            got.append(m)
        check("%d packets (1..1400 and 65536 bytes) relayed to the client and echoed back in order" % len(sent),
              [p for _, p in got] == sent and all(src.hex() == hpub for src, _ in got),
              "%d of %d back" % (len(got), len(sent)))
        check("the harness saw the right source key",
              h.wait(lambda l: l.startswith("RECV 900 %s " % bytes(cpriv.public_key).hex()), 2) is not None)

        # 3. on-demand region: dialled by a send, no NotePreferred, closed when idle.
        c2priv = PrivateKey.generate()
        c2 = derpd.DerpClient("127.0.0.1", p2, c2priv, cafile=os.path.join(d, "ca.pem"), server_name="derp.test")
        c2.connect()
        h.send("SEND 901 %s %s" % (bytes(c2priv.public_key).hex(), "cafe" * 8))
        m = get(c2.rx, 10)
        check("a packet for a non-home region dials it and arrives",
              m is not None and m[0].hex() == hpub and m[1] == bytes.fromhex("cafe" * 8), repr(m))
        check("the non-home connection is up, not home", h.wait(lambda l: l == "UP 901 home=0", 5) is not None)
        time.sleep(0.5)
        check("no NotePreferred(1) on the non-home region",
              not any(l.startswith("PREFERRED %s 1" % hpub) for l in s2.lines))
        check("the idle non-home region is closed (idle 2 s here, 60 s in meshgate)",
              h.wait(lambda l: l == "DOWN 901", 8) is not None)
        check("server 901 saw the client go", s2.wait(lambda l: l == "GONE " + hpub, 5) is not None)
        check("the home region stays up meanwhile", not any(l == "DOWN 900" for l in h.lines))

        # 4. the home server restarts (new server key): reconnect with backoff, relay again.
        c.close()
        s1.stop()
        check("server gone: client notices", h.wait(lambda l: l == "DOWN 900", 10) is not None)
        mark = h.mark()
        s1b, _ = start_server(d, p1)
        procs.append(s1b)
        check("client reconnects to the restarted server",
              h.wait(lambda l: l == "UP 900 home=1", 15, mark) is not None, h.err[-3:])
        c = derpd.DerpClient("127.0.0.1", p1, cpriv, cafile=os.path.join(d, "ca.pem"), server_name="derp.test")
        c.connect()
        c.send(bytes.fromhex(hpub), b"after restart")
        m = get(c.rx, 10)
        check("relaying works after the reconnect", m is not None and m[1] == b"after restart", repr(m))
        c.close()
        c2.close()

        # 6. a misbehaving server: an oversized unknown frame is skipped (the connection stays and
        #    relays); a length over the 1 MiB limit ends the connection, the client retries.
        s3, p3 = start_server(d, evil="bigskip")
        s4, p4 = start_server(d, evil="toolarge")
        procs += [s3, s4]
        epriv = PrivateKey.generate()
        epub = bytes(epriv.public_key).hex()
        he = harness(exe, d, "evil", [region(910, p3), region(911, p4)], epriv, 8, extra=["--echo"])
        procs.append(he)
        check("a 200 kB frame of unknown type is skipped: connected", he.wait(lambda l: l == "UP 910 home=1", 5) is not None)
        c3 = derpd.DerpClient("127.0.0.1", p3, cpriv, cafile=os.path.join(d, "ca.pem"), server_name="derp.test")
        c3.connect()
        c3.send(bytes.fromhex(epub), b"after the big frame")
        m = get(c3.rx, 5)
        check("...and still relaying after it", m is not None and m[1] == b"after the big frame", repr(m))
        c3.close()
        he.send("SEND 911 %s 00" % epub)
        time.sleep(3)
        check("a frame length over 1 MiB ends the connection (protocol error, retried, process alive)",
              he.wait_err(lambda e: "region 911" in e and "protocol error" in e, 2) is not None and
              he.p.poll() is None and
              len([l for l in s4.lines if l.startswith("CONNECT " + epub)]) >= 2, he.err[-2:])

        # 4b. Restarting: come back after reconnect-in, not the 1 s backoff.
        s5, p5 = start_server(d, extra=["--restart-frame", "2500,5000"])
        procs.append(s5)
        hr = harness(exe, d, "restart", [region(920, p5)], PrivateKey.generate(), 12)
        procs.append(hr)
        up = hr.wait(lambda l: l == "UP 920 home=1", 5) is not None
        down = hr.wait(lambda l: l == "DOWN 920", 5) is not None
        t_down = time.monotonic()
        back = hr.wait(lambda l: l == "UP 920 home=1", 8, hr.mark()) is not None
        gap = time.monotonic() - t_down
        check("a Restarting frame (reconnect in 2.5 s) is honoured: back after %.1f s, not ~1 s" % gap,
              up and down and back and 2.3 <= gap <= 4.5, (up, down, back, gap, hr.err[-2:]))
        check("...and it was no protocol error", not any("protocol error" in e for e in hr.err), hr.err[-2:])
        hr.send("QUIT")

        # 4c. A home server that goes silent without closing (host gone): our Ping after 1 s of
        # quiet (--probe-ms; 10 s in meshgate) is not answered within 0.5 s -> reconnect.
        s6, p6 = start_server(d, extra=["--freeze-after", "1.5"])
        procs.append(s6)
        hf = harness(exe, d, "freeze", [region(921, p6)], PrivateKey.generate(), 12, extra=["--probe-ms", "1000"])
        procs.append(hf)
        up = hf.wait(lambda l: l == "UP 921 home=1", 5) is not None
        frozen = s6.wait(lambda l: l.startswith("FROZEN"), 5) is not None
        t_frozen = time.monotonic()
        mark = hf.mark()
        down = hf.wait(lambda l: l == "DOWN 921", 6, mark) is not None
        gap = time.monotonic() - t_frozen
        check("a silent home server is noticed by our unanswered Ping after %.1f s (quiet 1 s + 0.5 s)" % gap,
              up and frozen and down and gap <= 3.5 and
              hf.wait_err(lambda e: "no answer to our ping" in e, 2) is not None,
              (up, frozen, down, gap, hf.err[-2:]))
        check("...and the client reconnects", hf.wait(lambda l: l == "UP 921 home=1", 6, mark) is not None,
              hf.lines[-3:])
        hf.send("QUIT")

        # 5. certificate checks (short runs, no echo).
        def conn_ok(name, regions, ca, secs=4):
            hh = harness(exe, d, name, regions, PrivateKey.generate(), secs, ca=ca)
            procs.append(hh)
            ok = hh.wait(lambda l: l.startswith("UP "), secs + 1) is not None
            hh.p.wait(secs + 5)
            hh.drain()
            return ok, hh.err
        ok, err = conn_ok("noca", [region(900, p1)], ca=False)
        check("without the CA file the self-signed server is refused", not ok and any("TLS" in e for e in err), err[-2:])
        ok, err = conn_ok("wrongname", [region(900, p1, CertName="other.test")], ca=True)
        check("a certificate for another name is refused (CertName other.test)", not ok, err[-2:])
        ok, err = conn_ok("pin", [region(900, p1, CertName="sha256-raw:" + leaf_hash)], ca=False)
        check("CertName sha256-raw:<leaf hash> connects without the CA", ok, err[-2:])
        ok, err = conn_ok("badpin", [region(900, p1, CertName="sha256-raw:" + "00" * 32)], ca=False)
        check("a wrong sha256-raw pin is refused", not ok, err[-2:])
        ok, err = conn_ok("insecure", [region(900, p1, InsecureForTests=True)], ca=False)
        check("InsecureForTests connects without the CA", ok, err[-2:])
        ok, err = conn_ok("dns", [region(900, p1, HostName="localhost", IPv4="", CertName="derp.test")], ca=True)
        check("HostName without IPv4 is looked up off the loop (localhost) and CertName checked", ok, err[-2:])
        ok, err = conn_ok("nxdomain", [region(900, p1, HostName="no-such-host.invalid", IPv4="")], ca=True)
        check("an unresolvable HostName fails and retries", not ok and any("cannot resolve" in e for e in err), err[-2:])
        # Under a sanitizer build (tests/sanitize.sh), any report fails the run.
        for hx in (h, he):
            if hx.p.poll() is None:
                hx.send("QUIT")
            hx.p.wait(10)
        check("the harness exits cleanly when told to", h.p.returncode == 0 and he.p.returncode == 0,
              (h.p.returncode, he.p.returncode))
        time.sleep(0.5)
        reports = [e for p in procs for e in p.err if "Sanitizer" in e or "runtime error" in e]
        check("no sanitizer report from any harness run", not reports, reports[:3])
    finally:
        for p in procs:
            p.stop()
        shutil.rmtree(d, ignore_errors=True)
    print("t_derp_local: %d failure(s)" % FAILS)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
