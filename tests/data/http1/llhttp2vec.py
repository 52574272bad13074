#!/usr/bin/env python3
"""Convert nodejs/llhttp's markdown test cases into reprise's compact HTTP/1
vector format (see README in this folder).

Usage: llhttp2vec.py LLHTTP_TEST_DIR > llhttp.vec

Each llhttp case is a markdown section holding a `<!-- meta={...} -->` line,
an ```http block (the raw message) and a ```log block (the events llhttp's
test fixture printed).  The raw message is rebuilt the way llhttp's own
harness (test/md-test.ts) does it, in the same order:

  1. the block's final newline is dropped;
  2. a backslash at the end of a line joins it to the next line;
  3. every remaining line break becomes CRLF;
  4. the escapes \\r \\n \\t \\f \\xHH and \\NNN (octal) are expanded;
  5. the string is encoded as UTF-8 (so "\\xff" becomes C3 BF, as in
     llhttp's fixture, which writes the JavaScript string to the parser).

The log is folded into what our parser's results can be compared with:
per message the start line, the header fields (values with surrounding
whitespace removed, as we report them), whether the header section
completed, chunked or Content-Length framing, the body bytes, the trailer
fields, whether the message completed; then how the input ended (ok, a
protocol error, llhttp's "pause on CONNECT/Upgrade", the HTTP/2 preface, or
the result of llhttp_finish()).
"""
import json
import os
import re
import sys

FILES = [
    "request/sample.md", "request/connection.md", "request/content-length.md",
    "request/finish.md", "request/invalid.md",
    "request/lenient-header-value-relaxed.md", "request/lenient-headers.md",
    "request/lenient-version.md", "request/method.md", "request/pausing.md",
    "request/pipelining.md", "request/transfer-encoding.md", "request/uri.md",
    "response/sample.md", "response/connection.md",
    "response/content-length.md", "response/finish.md", "response/invalid.md",
    "response/lenient-version.md", "response/pausing.md",
    "response/pipelining.md", "response/transfer-encoding.md",
]


def http_input(block):
    s = block
    if s.endswith("\n"):
        s = s[:-1]
    s = re.sub(r"\\(\r\n|\r|\n)", "", s)
    s = re.sub(r"\r\n|\r|\n", "\r\n", s)
    s = s.replace("\\r", "\r").replace("\\n", "\n")
    s = s.replace("\\t", "\t").replace("\\f", "\f")
    s = re.sub(r"\\x([0-9a-fA-F]+)", lambda m: chr(int(m.group(1), 16)), s)
    s = re.sub(r"\\([0-7]{1,3})", lambda m: chr(int(m.group(1), 8)), s)
    if "${" in s:
        raise ValueError("inline JavaScript is not supported")
    return s.encode("utf-8")


def log_string(v):
    """A span value as printed in the log: "..." with \\t \\f escapes
    (md-test.ts expands those in the expected text too), or cr / lf."""
    if v == "cr":
        return b"\r"
    if v == "lf":
        return b"\n"
    assert v.startswith('"') and v.endswith('"'), v
    v = v[1:-1].replace("\\t", "\t").replace("\\f", "\f")
    return v.encode("utf-8")


OWS = b" \t"


class Msg:
    def __init__(self):
        self.method = self.url = self.reason = None
        self.version = None
        self.status = None
        self.fields = []        # (name, value) completed header fields
        self.trailers = []
        self.cur_name = None
        self.cur_value = None
        self.in_trailers = False
        self.headers_done = False
        self.flags = 0
        self.clen = 0
        self.body = b""
        self.complete = False
        self.proto = b""
        self.vers = b""


def parse_log(lines, kind):
    msgs = []
    m = None
    end = ("ok", "")
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        mo = re.match(r"off=(\d+|NULL) (.*)$", line)
        if not mo:
            raise ValueError("bad log line: " + line)
        ev = mo.group(2)
        if ev == "message begin":
            m = Msg()
            msgs.append(m)
            continue
        if ev in ("reset", "pause", "skip body") or ev.startswith("chunk header") \
                or ev == "chunk complete" or ev.startswith("span[chunk_extension") \
                or "chunk_extension" in ev:
            continue
        sm = re.match(r"len=(\d+) span\[(\w+)\]=(.*)$", ev)
        if sm:
            what, val = sm.group(2), log_string(sm.group(3))
            assert len(val) == int(sm.group(1)) or what == "body", line
            if what == "method":
                m.method = (m.method or b"") + val
            elif what == "url":
                m.url = (m.url or b"") + val
            elif what == "protocol":
                m.proto += val
            elif what == "version":
                m.vers += val
            elif what == "status":
                m.reason = (m.reason or b"") + val
            elif what == "header_field":
                if m.cur_value is not None:
                    raise ValueError("field after value without complete")
                m.cur_name = (m.cur_name or b"") + val
            elif what == "header_value":
                m.cur_value = (m.cur_value or b"") + val
            elif what == "body":
                m.body += val
            else:
                raise ValueError("unknown span " + what)
            continue
        if ev in ("method complete", "url complete", "protocol complete",
                  "version complete", "status complete", "header_field complete"):
            continue
        if ev == "header_value complete":
            lst = m.trailers if m.headers_done else m.fields
            lst.append((m.cur_name or b"", (m.cur_value or b"").strip(OWS)))
            m.cur_name = m.cur_value = None
            continue
        hm = re.match(r"headers complete (method|status)=(\d+) v=(\d+)/(\d+) "
                      r"flags=([0-9a-f]+) content_length=(\d+)$", ev)
        if hm:
            m.headers_done = True
            if hm.group(1) == "status":
                m.status = int(hm.group(2))
            m.version = (int(hm.group(3)), int(hm.group(4)))
            m.flags = int(hm.group(5), 16)
            m.clen = int(hm.group(6))
            continue
        if ev == "message complete":
            m.complete = True
            continue
        em = re.match(r'error code=(\d+) reason="(.*)"$', ev)
        if em:
            code = int(em.group(1))
            if code == 22:
                end = ("tunnel", em.group(2))
            elif code == 23:
                end = ("h2preface", em.group(2))
            else:
                end = ("error", em.group(2))
            continue
        fm = re.match(r"finish=(\d+)$", ev)
        if fm:
            end = {"0": ("ok", ""), "1": ("finish_complete", "")}.get(
                fm.group(1), ("finish_error", "finish=" + fm.group(1)))
            continue
        raise ValueError("unknown log event: " + line)
    return msgs, end


def cstr(b):
    out = []
    for c in b:
        if c == 0x22 or c == 0x5c:
            out.append("\\" + chr(c))
        elif 0x20 <= c < 0x7f:
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return '"' + "".join(out) + '"'


def sections(path):
    """Yields (line, heading, meta, http, log) for each case in a file."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    heading = ""
    meta = None
    meta_line = 0
    i = 0
    http = log = None
    while i < len(lines):
        ln = lines[i]
        if ln.startswith("#"):
            heading = ln.lstrip("#").strip()
        mm = re.match(r"<!-- meta=(.*) -->\s*$", ln)
        if mm:
            meta = json.loads(mm.group(1))
            meta_line = i + 1
            http = log = None
        fm = re.match(r"```(\w+)\s*$", ln)
        if fm:
            kind = fm.group(1)
            j = i + 1
            body = []
            while lines[j] != "```":
                body.append(lines[j])
                j += 1
            text = "".join(l + "\n" for l in body)
            if kind == "http":
                http = text
            elif kind == "log":
                log = body
                if meta is None or http is None:
                    raise ValueError("%s:%d: log without meta/http" % (path, i + 1))
                yield meta_line, heading, meta, http, log
                meta = http = log = None
            i = j
        i += 1


def main():
    root = sys.argv[1]
    print("# Generated by llhttp2vec.py from nodejs/llhttp test/ (MIT, see README).")
    print("# Do not edit: regenerate instead.")
    n = 0
    for rel in FILES:
        for line, heading, meta, http, log in sections(os.path.join(root, rel)):
            ty = meta["type"]
            kind = "req" if ty.startswith("request") else "resp"
            data = http_input(http)
            msgs, end = parse_log(log, kind)
            if end[0] == "finish_complete" and msgs:
                # llhttp_finish() in state "safe with callback" completes
                # the message that was being read until EOF.
                msgs[-1].complete = True
            n += 1
            print("case %s:%d" % (rel, line))
            print("name %s" % cstr(heading.encode("utf-8")))
            print("type %s" % ty)
            opts = []
            if meta.get("skipBody"):
                opts.append("head")
            if ty.endswith("-finish"):
                opts.append("finish")
            if "pause" in meta:
                opts.append("pause")
            if opts:
                print("opts " + " ".join(opts))
            print("input %s" % cstr(data))
            for m in msgs:
                print("msg")
                if kind == "req":
                    if m.method is not None:
                        print(" method %s" % cstr(m.method))
                    if m.url is not None:
                        print(" url %s" % cstr(m.url))
                else:
                    if m.reason is not None:
                        print(" reason %s" % cstr(m.reason))
                for name, value in m.fields:
                    print(" hdr %s %s" % (cstr(name), cstr(value)))
                if m.headers_done:
                    if kind == "resp":
                        print(" status %d" % m.status)
                    print(" version %d %d" % m.version)
                    if m.flags & 0x08:
                        print(" chunked")
                    elif m.flags & 0x20 and not m.flags & 0x200:
                        print(" length %d" % m.clen)
                    print(" headers_done")
                for name, value in m.trailers:
                    print(" trl %s %s" % (cstr(name), cstr(value)))
                if m.body:
                    print(" body %s" % cstr(m.body))
                if m.complete:
                    print(" complete")
            print("end %s %s" % (end[0], cstr(end[1].encode("utf-8"))))
            print()
    print("# %d cases" % n)


if __name__ == "__main__":
    main()
