#!/usr/bin/env python3
"""replay_corpus: builds a reprise JSON-lines corpus from a live HTTP server.

Each distinct path is fetched once (on a keep-alive connection) and its real
response is written as many times as the plan asks, with request starts laid
out evenly over --span seconds and spread round-robin over --conns recorded
connections.  `reprise import` then stores it.  Used by the replay tests and
the benchmark where recording N exchanges in real time would only cost time;
the parity test records through `reprise proxy` instead.

usage: replay_corpus.py --base http://127.0.0.1:PORT --out FILE.jsonl
                        [--count N] [--conns C] [--span SECONDS] PATH...
"""
import argparse
import base64
import http.client
import json
import sys
import time
import urllib.parse


def fetch_all(base, paths):
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
    out = {}
    for p in paths:
        conn.request("GET", p, headers={"Accept": "*/*", "User-Agent": "replay-corpus"})
        r = conn.getresponse()
        body = r.read()
        out[p] = (r.status, r.reason, r.getheaders(), body)
    conn.close()
    return out, "%s:%d" % (u.hostname, u.port or 80)


def body_fields(body):
    try:
        text = body.decode("utf-8")
        if all(c >= " " or c in "\r\n\t" for c in text):
            return text, False
    except UnicodeDecodeError:
        pass
    return base64.b64encode(body).decode("ascii"), True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--conns", type=int, default=1)
    ap.add_argument("--span", type=float, default=1.0)
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    resp, authority = fetch_all(a.base, a.paths)
    n = a.count or len(a.paths)
    t0 = int(time.time()) * 1_000_000_000
    step = int(a.span * 1e9 / max(n - 1, 1)) if n > 1 else 0
    seq = [0] * a.conns
    with open(a.out, "w") as f:
        for i in range(n):
            p = a.paths[i % len(a.paths)]
            status, reason, headers, body = resp[p]
            start = t0 + i * step
            conn = i % a.conns + 1
            b, b64 = body_fields(body)
            rec = {
                "conn": conn, "stream": 0, "seq": seq[conn - 1], "proto": "h1.1", "flags": 0,
                "client": "127.0.0.1:%d" % (40000 + conn), "server": authority,
                "timing": {"req_start": start, "req_end": start + 1000,
                           "resp_start": start + 200000, "resp_end": start + 300000},
                "request": {"method": "GET", "scheme": "http", "authority": authority,
                            "target": p,
                            "headers": [["Host", authority], ["Accept", "*/*"],
                                        ["User-Agent", "replay-corpus"]],
                            "trailers": [], "body": "", "body_base64": False,
                            "content_encoding": "", "wire_len": 0, "orig_len": 0},
                "response": {"status": status, "reason": reason,
                             "headers": [[k, v] for k, v in headers], "trailers": [],
                             "body": b, "body_base64": b64, "content_encoding": "",
                             "wire_len": len(body), "orig_len": len(body)},
            }
            seq[conn - 1] += 1
            f.write(json.dumps(rec) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
