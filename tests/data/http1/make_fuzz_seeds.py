#!/usr/bin/env python3
"""Writes the seed corpus of the h1 fuzz target (tests/fuzz/corpus/h1) from
the vector files in this folder.

Usage: make_fuzz_seeds.py OUT_DIR

Each seed is the target's two configuration bytes (see tests/fuzz/h1_fuzz.c:
bit 0 response, bits 1-2 the method a response answers, bit 3 tunnel on
pause, bit 4 small limits; then a split seed) followed by a message from
llhttp.vec or desync.vec, and a few hand-made ones.  Files are named by the
SHA-1 of their content, as libFuzzer names them.
"""
import hashlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def unquote(s):
    s = s.strip()
    assert s[0] == '"' and s[-1] == '"'
    out = bytearray()
    i = 1
    while i < len(s) - 1:
        c = s[i]
        if c == "\\":
            n = s[i + 1]
            if n == "x":
                out.append(int(s[i + 2:i + 4], 16))
                i += 4
                continue
            out.append(ord(n))
            i += 2
            continue
        out.append(ord(c))
        i += 1
    return bytes(out)


def vectors(name):
    kind = None
    with open(os.path.join(HERE, name), encoding="ascii") as f:
        for line in f:
            if line.startswith("type "):
                kind = "resp" if line[5:].startswith("response") else "req"
            elif line.startswith("input "):
                yield kind, unquote(line[6:].rstrip("\n"))


EXTRA = [
    ("req", b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
    ("req", b"GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x00"),
    ("resp", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"),
    ("resp", b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\nbody until close"),
]


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seen = set()
    items = list(vectors("llhttp.vec")) + list(vectors("desync.vec")) + EXTRA
    for i, (kind, data) in enumerate(items):
        cfg = 1 if kind == "resp" else 0
        cfg |= (i % 4) << 1        # vary the method a response answers
        cfg |= (i % 2) << 3        # tunnel or not after a pause
        if i % 5 == 0:
            cfg |= 0x10            # small limits
        seed = bytes([cfg, (i * 37) & 0xFF]) + data
        h = hashlib.sha1(seed).hexdigest()
        if h in seen:
            continue
        seen.add(h)
        with open(os.path.join(out, h), "wb") as f:
            f.write(seed)
    print("%d seeds" % len(seen))


if __name__ == "__main__":
    main()
