#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""check_layers.py - the include rules of docs/ARCHITECTURE.md, checked on the source tree.

1. Every quoted #include resolves to a file of the tree (through the same include directories the
   build uses), and points to a layer at or below the including file's layer.
2. Nothing under dataplane/ or bpf/ reaches control/ (also not by a relative path).
3. control/ includes one dataplane header for the device (dataplane.h); the rest of dataplane/'s
   top level (worker, nat, io/, ...) is private to it. The pure core (wireguard/, crypto/, base/,
   netlink/) is open to both layers.
4. No circles between modules, where a module is foo.c with foo.h (a file's header and its source
   count as one), and a header that declares functions another file defines counts as an edge to
   that file: a cycle means two files call each other, directly or around a ring.

Prints one line per violation and exits 1 if there is any; prints a summary otherwise.
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))

# Layers, lowest first. A file may include only headers of its own layer or a lower one.
LAYERS = [
    ("base", ["dataplane/base/"]),
    ("bpf", ["bpf/"]),
    ("crypto", ["dataplane/crypto/"]),
    ("wireguard", ["dataplane/wireguard/"]),
    ("netlink", ["dataplane/netlink/"]),
    ("dataplane", ["dataplane/"]),
    ("conf", ["control/conf/"]),
    ("control-rooms", ["control/headscale/", "control/derp/", "control/disco/", "control/cli/"]),
    ("control", ["control/"]),
]
# Include directories, in the order the compiler searches them after the including file's own.
INC_DIRS = ["", "dataplane", "dataplane/base", "control", "control/conf", "bpf"]
# What control may include from dataplane/ (outside the pure core).
CONTROL_MAY_INCLUDE = {"dataplane/dataplane.h"}
PURE = ("dataplane/base/", "dataplane/crypto/", "dataplane/wireguard/", "dataplane/netlink/", "bpf/")
GENERATED = {"mg_config.h"}


def layer_of(rel):
    for i, (_, prefixes) in enumerate(LAYERS):
        if any(rel.startswith(p) for p in prefixes):
            return i
    return None


def sources():
    for top in ("dataplane", "control", "bpf"):
        for dirpath, _, names in os.walk(os.path.join(ROOT, top)):
            for n in names:
                if n.endswith((".c", ".h")):
                    yield os.path.relpath(os.path.join(dirpath, n), ROOT)


INC_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def resolve(rel, name):
    here = os.path.dirname(rel)
    for d in [here] + INC_DIRS:
        cand = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(os.path.join(ROOT, cand)):
            return cand
    return None


def module(rel):
    return rel[:-2]


PROTO_RE = re.compile(r'^(?!static|typedef|#|extern\s+"|\s)[A-Za-z_][\w\s\*]*?\b(\w+)\s*\([^;{]*\)\s*(?:__attribute__\s*\(\(.*\)\))?\s*;', re.M)
DEF_RE = re.compile(r'^(?!static|typedef|#|\s)[A-Za-z_][\w\s\*]*?\b(\w+)\s*\([^;{]*\)\s*\{', re.M)


def strip_comments(text):
    return re.sub(r'/\*.*?\*/', '', text, flags=re.S)


def foreign_declarations(files):
    """Headers that declare functions another module defines: a header speaks for its own .c."""
    defined = {}
    for rel in files:
        if rel.endswith(".c"):
            text = strip_comments(open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace").read())
            for name in DEF_RE.findall(text):
                defined.setdefault(name, rel)
    out = []
    for rel in files:
        if not rel.endswith(".h"):
            continue
        text = strip_comments(open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace").read())
        for name in PROTO_RE.findall(text):
            src = defined.get(name)
            if src and module(src) != module(rel):
                out.append((rel, name, src))
    return out


def rel_is_source(mod, files):
    return mod + ".c" in files


def main():
    errors = []
    files = sorted(sources())
    graph = {}
    for rel in files:
        text = open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace").read()
        me = layer_of(rel)
        for name in INC_RE.findall(text):
            if name in GENERATED:
                continue
            tgt = resolve(rel, name)
            if tgt is None:
                errors.append(f"{rel}: #include \"{name}\" resolves to no file of the tree")
                continue
            if tgt.startswith("control/") and not rel.startswith("control/"):
                errors.append(f"{rel}: includes {tgt}: dataplane/ and bpf/ never include control/")
            lt = layer_of(tgt)
            if me is not None and lt is not None and lt > me:
                errors.append(f"{rel} ({LAYERS[me][0]}) includes {tgt} ({LAYERS[lt][0]}): points up")
            if (rel.startswith("control/") and tgt.startswith("dataplane/") and
                    not tgt.startswith(PURE) and tgt not in CONTROL_MAY_INCLUDE):
                errors.append(f"{rel}: includes {tgt}: control sees the dataplane through dataplane.h only")
            a, b = module(rel), module(tgt)
            if a != b:
                graph.setdefault(a, set()).add(b)
        graph.setdefault(module(rel), set())

    # A header that declares another file's functions (a room's shared header) is an edge from
    # every file that includes it to the file that defines them: who includes it may call them.
    texts = {}
    for rel in files:
        body = strip_comments(open(os.path.join(ROOT, rel), encoding="utf-8", errors="replace").read())
        texts[module(rel)] = texts.get(module(rel), "") + body
    for h, name, src in foreign_declarations(files):
        graph.setdefault(module(src), set())
        call = re.compile(r"\b" + re.escape(name) + r"\s*\(")
        for a, outs in graph.items():
            if a == module(src) or not (module(h) in outs or a == module(h)):
                continue
            if a == module(h) and not rel_is_source(a, files):
                continue
            if call.search(texts.get(a, "")):
                outs.add(module(src))

    # Tarjan's strongly connected components: every component of more than one module is a circle.
    index, low, stack, on, comps = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    for comp in comps:
        errors.append("include circle: " + " <-> ".join(comp))

    for e in errors:
        print("FAIL:", e)
    if errors:
        print(f"layers: {len(errors)} violations in {len(files)} files")
        return 1
    edges = sum(len(s) for s in graph.values())
    print(f"layers: {len(files)} files, {len(graph)} modules, {edges} module edges; no upward include, no circle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
