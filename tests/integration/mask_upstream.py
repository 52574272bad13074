#!/usr/bin/env python3
"""mask_upstream: the service behind nginx in the masking end-to-end tests.

  GET  /api/...     a JSON description of the request (path, query, headers),
                    with a Set-Cookie that renews the session cookie
  POST /echo        the request body back, with its Content-Type and
                    Content-Encoding (chunked request bodies understood)
  GET  /chunked     a JSON body with personal data, sent chunked
  POST /validate    422 unless the JSON body's "email" is a syntactically
                    valid address and every "card" (at any depth) is 13-19
                    digits passing Luhn: a staging service that checks input

Usage: mask_upstream.py PORT
"""
import gzip
import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def luhn(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        v = int(ch)
        if i % 2:
            v = v * 2 - 9 if v * 2 > 9 else v * 2
        total += v
    return total % 10 == 0


def cards(doc):
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "card":
                yield v
            else:
                yield from cards(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from cards(v)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b""

    def reply(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urlsplit(self.path)
        if u.path == "/chunked":
            doc = json.dumps({"customer": {"email": "marco.rossi@libero.it",
                                           "phone": "+14155550123",
                                           "cards": ["4111 1111 1111 1111"]}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(doc), 17):
                part = doc[i:i + 17]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
            return
        doc = {"path": u.path, "query": parse_qs(u.query),
               "headers": {k: v for k, v in self.headers.items()}}
        self.reply(200, json.dumps(doc).encode(),
                   extra=[("Set-Cookie", "session=sess-8c1f0e9a7b2d4c6e; Path=/; HttpOnly")])

    def do_POST(self):
        u = urlsplit(self.path)
        data = self.body()
        if u.path == "/echo":
            extra = []
            if self.headers.get("Content-Encoding"):
                extra.append(("Content-Encoding", self.headers["Content-Encoding"]))
            self.reply(200, data, self.headers.get("Content-Type", "application/octet-stream"),
                       extra)
            return
        if u.path == "/validate":
            if self.headers.get("Content-Encoding", "") == "gzip":
                data = gzip.decompress(data)
            why = []
            try:
                doc = json.loads(data)
            except ValueError as e:
                self.reply(422, json.dumps({"error": "json: %s" % e}).encode())
                return
            if not EMAIL.match(str(doc.get("email", ""))):
                why.append("email")
            found = list(cards(doc))
            if not found:
                why.append("no card")
            for c in found:
                d = re.sub(r"[ -]", "", str(c))
                if not (d.isdigit() and 13 <= len(d) <= 19 and luhn(d)):
                    why.append("card")
            self.reply(422 if why else 200, json.dumps({"ok": not why, "why": why}).encode())
            return
        self.reply(404, b"{}")


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
