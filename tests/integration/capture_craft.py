#!/usr/bin/env python3
"""Crafted segment orderings for reprise capture.

Writes one small pcap per reassembly case with a minimal pcap writer (Ethernet,
IPv4/IPv6, TCP, nanosecond timestamps), runs `reprise capture -r` on it and
compares what it printed (method, target, host, status, body length, flags, in
output order) and some of its --stats-json counters with what the case expects.

usage: capture_craft.py REPRISE TMPDIR
"""
import json, os, struct, subprocess, sys

CLIENT4, SERVER4 = bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])
CLIENT6 = bytes.fromhex("20010db8000000000000000000000001")
SERVER6 = bytes.fromhex("20010db8000000000000000000000002")
SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp_hdr(sport, dport, seq, ack, flags, win=65535):
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4,
                       flags, win, 0, 0)


def ipv4(src, dst, payload, proto=6, ident=1, frag=0):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, frag, 64, proto, 0, src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ipv6(src, dst, payload, nh=6, ext=b""):
    return struct.pack("!IHBB16s16s", 6 << 28, len(ext) + len(payload), nh if not ext else 0, 64,
                       src, dst) + ext + payload


def eth(payload, ethertype=0x0800, tags=()):
    h = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01"
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", ethertype) + payload


class Conn:
    """One TCP connection; builds frames with explicit sequence numbers."""

    def __init__(self, isn_c=1000, isn_s=5000, cport=40000, sport=80, v6=False, tags=()):
        self.isn = [isn_c, isn_s]
        self.next = [isn_c + 1, isn_s + 1]
        self.port = [cport, sport]
        self.v6, self.tags = v6, tags

    def frame(self, d, seq, payload, flags, ack=None):
        src, dst = (0, 1) if d == 0 else (1, 0)
        if ack is None:
            ack = self.next[1 - d]
        seg = tcp_hdr(self.port[src], self.port[dst], seq, ack, flags) + payload
        if self.v6:
            a = [CLIENT6, SERVER6]
            ip = ipv6(a[src], a[dst], seg)
            return eth(ip, 0x86DD, self.tags)
        a = [CLIENT4, SERVER4]
        return eth(ipv4(a[src], a[dst], seg), 0x0800, self.tags)

    def handshake(self):
        return [self.frame(0, self.isn[0], b"", SYN, ack=0),
                self.frame(1, self.isn[1], b"", SYN | ACK),
                self.frame(0, self.next[0], b"", ACK)]

    def seg(self, d, data, flags=ACK | PSH, advance=True):
        """The next segment of direction d (0 client, 1 server)."""
        f = self.frame(d, self.next[d], data, flags)
        if advance:
            self.next[d] += len(data) + (1 if flags & FIN else 0)
        return f

    def segs(self, d, data, sizes):
        """data cut into pieces of the given sizes (the last takes the rest)."""
        out, i = [], 0
        for n in sizes + [len(data)]:
            if i >= len(data):
                break
            piece = data[i:i + n]
            out.append(self.seg(d, piece))
            i += len(piece)
        return out

    def fin(self, d):
        return self.seg(d, b"", FIN | ACK)

    def ack(self, d):
        return self.frame(d, self.next[d], b"", ACK)


def write_pcap(path, frames, snaplen=None):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        t = 1700000000 * 10 ** 9
        for fr in frames:
            if isinstance(fr, tuple):  # (frame, captured length)
                fr, cap = fr
            else:
                cap = len(fr) if snaplen is None else min(snaplen, len(fr))
            t += 1000000  # 1 ms apart
            f.write(struct.pack("<IIII", t // 10 ** 9, t % 10 ** 9, cap, len(fr)) + fr[:cap])


def req(method, target, body=b"", extra=""):
    h = "%s %s HTTP/1.1\r\nHost: example.test\r\n%s" % (method, target, extra)
    if body:
        h += "Content-Length: %d\r\n" % len(body)
    return (h + "\r\n").encode() + body


def resp(status, body=b"", extra="", length=True):
    h = "HTTP/1.1 %d X\r\n%s" % (status, extra)
    if length:
        h += "Content-Length: %d\r\n" % len(body)
    return (h + "\r\n").encode() + body


def line(method, target, status, n, flags="complete", host="example.test"):
    return "\t".join([method, target, host, str(status), str(n), flags])


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


@case
def out_of_order():
    c = Conn()
    body = bytes(range(256)) * 20
    q = c.segs(0, req("GET", "/ooo"), [10, 10])
    r = c.segs(1, resp(200, body), [1000, 1000, 1000, 1000])
    frames = c.handshake() + [q[2], q[0], q[1]] + [r[3], r[1], r[4], r[0], r[2]] + [c.fin(0), c.fin(1)]
    return frames, [line("GET", "/ooo", 200, len(body))], {"tcp_out_of_order_segments": lambda v: v >= 4}


@case
def duplicates():
    c = Conn()
    q = c.segs(0, req("GET", "/dup"), [7])
    r = c.segs(1, resp(200, b"x" * 3000), [1400, 1400])
    frames = c.handshake() + [q[0], q[0], q[1], q[0], q[1]] + [r[0], r[0], r[1], r[2], r[1], r[2]]
    frames += [c.fin(0), c.fin(1)]
    return frames, [line("GET", "/dup", 200, 3000)], {"tcp_dup_bytes": lambda v: v > 0,
                                                       "tcp_overlap_conflicts": 0}


@case
def overlap_conflict_first_wins():
    # The target's bytes "/bbbb" arrive first, out of order; a later segment
    # carrying the whole line says "/aaaa" there.  The first copy wins.
    c = Conn()
    real = req("GET", "/aaaa")
    first = c.frame(0, c.next[0] + 4, b"/bbbb", ACK)
    whole = c.seg(0, real)
    r = c.seg(1, resp(200, b"ok"))
    frames = c.handshake() + [first, whole, r, c.fin(0), c.fin(1)]
    return frames, [line("GET", "/bbbb", 200, 2, "anomaly")], {"tcp_overlap_conflicts": 1}


@case
def sequence_wraparound():
    c = Conn(isn_c=0xFFFFFFF0, isn_s=0xFFFFFE00)
    frames = c.handshake()
    for i in range(3):
        frames += c.segs(0, req("POST", "/wrap%d" % i, b"y" * 100), [30])
        frames += c.segs(1, resp(200, b"z" * 700), [200, 200])
    frames += [c.fin(0), c.fin(1)]
    return frames, [line("POST", "/wrap%d" % i, 200, 700) for i in range(3)], {}


@case
def missing_syn_midstream():
    # The capture starts inside a response body: no handshake, no request.
    c = Conn()
    c.next = [77777, 99999]
    frames = [c.seg(1, b"tail of an earlier body, no status line here\n" * 3)]
    frames += c.segs(0, req("GET", "/after"), [5])
    frames += c.segs(1, resp(200, b"q" * 500), [100])
    frames += [c.fin(0), c.fin(1)]
    return frames, [line("GET", "/after", 200, 500)], {"flows_midstream": 1, "resyncs": 2}


@case
def missing_syn_response_first_bytes():
    # Mid-stream, and the side that looks like the server by port is the
    # client: the first bytes (a response) put it right.
    c = Conn(cport=80, sport=40001)
    c.next = [1, 1]
    frames = c.segs(1, resp(204), [])
    frames += c.segs(0, req("GET", "/second"), [])
    frames += c.segs(1, resp(200, b"abc"), [])
    frames += [c.fin(0), c.fin(1)]
    return frames, [line("", "", 204, 0, "no-request", host=""), line("GET", "/second", 200, 3)], {}


@case
def gap_in_body_then_resync():
    c = Conn()
    frames = c.handshake()
    frames += c.segs(0, req("GET", "/one"), [])
    frames += c.segs(1, resp(200, b"1" * 1000), [])
    frames += c.segs(0, req("GET", "/two"), [])
    r = c.segs(1, resp(200, b"2" * 4000), [1000, 1000, 1000])
    frames += [r[0], r[2], r[3]]           # r[1] never captured
    frames += [c.ack(0), c.ack(0)]         # the client acknowledged it all
    frames += c.segs(0, req("GET", "/three"), [])
    frames += c.segs(1, resp(200, b"3" * 10), [])
    frames += [c.fin(0), c.fin(1)]
    # The hole is inside a Content-Length body: /two keeps the 3000 body
    # bytes around it, flagged, and the parser stays in step.
    return frames, [line("GET", "/one", 200, 1000), line("GET", "/two", 200, 3000, "gap"),
                    line("GET", "/three", 200, 10)], {"flows_with_gaps": 1, "tcp_gaps": 1,
                                                      "resyncs": 0}


@case
def response_lost_whole():
    # The second response never reaches the capture; the connection never
    # pipelined, so the third response answers the third request.
    c = Conn()
    frames = c.handshake()
    frames += c.segs(0, req("GET", "/a"), []) + c.segs(1, resp(200, b"a" * 10), [])
    frames += c.segs(0, req("GET", "/b"), [])
    lost = c.segs(1, resp(200, b"b" * 20), [])
    frames += [c.ack(0), c.ack(0)]
    frames += c.segs(0, req("GET", "/c"), []) + c.segs(1, resp(200, b"c" * 30), [])
    frames += [c.fin(0), c.fin(1)]
    assert lost
    return frames, [line("GET", "/a", 200, 10), line("GET", "/b", 0, 0, "no-response,gap"),
                    line("GET", "/c", 200, 30)], {}


@case
def rst_before_fin():
    c = Conn()
    frames = c.handshake()
    frames += c.segs(0, req("GET", "/rst", extra="Connection: close\r\n"), [])
    # HTTP/1.0-style body delimited by the close, ended by a reset.
    frames += c.segs(1, b"HTTP/1.0 200 OK\r\n\r\n" + b"r" * 300, [100])
    frames += [c.seg(1, b"", RST | ACK, advance=False), c.fin(0), c.seg(0, b"late", ACK | PSH)]
    return frames, [line("GET", "/rst", 200, 300)], {"tcp_after_end": lambda v: v >= 1,
                                                      "flows": 1}


@case
def fin_then_rst():
    c = Conn()
    frames = c.handshake()
    frames += c.segs(0, req("GET", "/fr"), []) + c.segs(1, resp(200, b"k" * 5), [])
    frames += [c.fin(1), c.seg(0, b"", RST | ACK, advance=False)]
    return frames, [line("GET", "/fr", 200, 5)], {"flows_closed": 1}


@case
def pipelining_across_segments():
    c = Conn()
    frames = c.handshake()
    reqs = req("GET", "/p1") + req("HEAD", "/p2") + req("POST", "/p3", b"body3") + req("GET", "/p4")
    frames += c.segs(0, reqs, [len(req("GET", "/p1")) + 3, 60])
    rs = (resp(200, b"one") + resp(200, b"", "Content-Length: 1000\r\n", length=False) +
          resp(201, b"three" * 100) + resp(404, b"four"))
    frames += c.segs(1, rs, [10, 50, 300])
    frames += [c.fin(0), c.fin(1)]
    return frames, [line("GET", "/p1", 200, 3), line("HEAD", "/p2", 200, 0),
                    line("POST", "/p3", 201, 500), line("GET", "/p4", 404, 4)], {}


@case
def unanswered_request():
    c = Conn()
    frames = c.handshake() + c.segs(0, req("GET", "/nobody"), []) + [c.fin(0), c.fin(1)]
    return frames, [line("GET", "/nobody", 0, 0, "no-response")], {}


@case
def expect_100_continue():
    c = Conn()
    body = b"u" * 5000
    frames = c.handshake()
    head = req("PUT", "/up", body, "Expect: 100-continue\r\n")
    frames += c.segs(0, head[:len(head) - len(body)], [])
    frames += c.segs(1, b"HTTP/1.1 100 Continue\r\n\r\n", [])
    frames += c.segs(0, body, [1400, 1400, 1400])
    frames += c.segs(1, resp(201, b"done"), [])
    frames += [c.fin(0), c.fin(1)]
    return frames, [line("PUT", "/up", 201, 4)], {}


@case
def ip_fragments():
    c = Conn()
    frames = c.handshake()
    data = req("POST", "/frag", b"f" * 600)
    seg = tcp_hdr(40000, 80, c.next[0], c.next[1], ACK | PSH) + data
    c.next[0] += len(data)
    # Three fragments, sent last first.
    parts = [(0, seg[:208]), (208, seg[208:416]), (416, seg[416:])]
    fr = []
    for off, p in parts:
        more = 0x2000 if off + len(p) < len(seg) else 0
        fr.append(eth(ipv4(CLIENT4, SERVER4, p, ident=77, frag=more | (off // 8))))
    frames += [fr[2], fr[0], fr[1]]
    frames += c.segs(1, resp(200, b"ok"), []) + [c.fin(0), c.fin(1)]
    return frames, [line("POST", "/frag", 200, 2)], {"ip_reassembled": 1}


@case
def ipv6_ext_headers_in_qinq():
    c = Conn(v6=True, tags=((0x88A8, 100), (0x8100, 200)))
    hbh = bytes([6, 0, 1, 4, 0, 0, 0, 0])  # next: TCP, PadN
    def f6(d, payload, flags):
        src, dst = (0, 1) if d == 0 else (1, 0)
        a = [CLIENT6, SERVER6]
        seg = tcp_hdr(c.port[src], c.port[dst], c.next[d], c.next[1 - d], flags) + payload
        c.next[d] += len(payload) + (1 if flags & (SYN | FIN) else 0)
        return eth(ipv6(a[src], a[dst], seg, ext=hbh), 0x86DD, c.tags)
    c.next = [c.isn[0], c.isn[1]]
    frames = [f6(0, b"", SYN), f6(1, b"", SYN | ACK)]
    frames += [f6(0, req("GET", "/v6"), ACK | PSH), f6(1, resp(200, b"six"), ACK | PSH)]
    frames += [f6(0, b"", FIN | ACK), f6(1, b"", FIN | ACK)]
    return frames, [line("GET", "/v6", 200, 3)], {}


@case
def h2_preface_counted_not_decoded():
    c = Conn()
    pre = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
    frames = c.handshake() + c.segs(0, pre, []) + c.segs(1, bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]), [])
    frames += [c.fin(0), c.fin(1)]
    return frames, [], {"flows_h2_not_decoded": 1, "exchanges": 0}


@case
def not_http_at_all():
    c = Conn()
    frames = c.handshake() + c.segs(0, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 20, [])
    frames += c.segs(1, b"\x16\x03\x03\x00\x5a\x02" * 30, []) + [c.fin(0), c.fin(1)]
    return frames, [], {"flows_other": 1, "exchanges": 0}


@case
def snaplen_cut_body():
    c = Conn()
    frames = c.handshake() + c.segs(0, req("GET", "/big"), [])
    r = c.segs(1, resp(200, b"s" * 3000), [1000, 1000])
    frames += [r[0], (r[1], 200), r[2]]     # the second segment cut to 200 bytes
    frames += c.segs(0, req("GET", "/next"), []) + c.segs(1, resp(200, b"n"), [])
    frames += [c.fin(0), c.fin(1)]
    # 146 of the second segment's 1000 bytes were captured.
    return frames, [line("GET", "/big", 200, 3000 - (1000 - (200 - 54)), "gap"),
                    line("GET", "/next", 200, 1)], {}


@case
def memory_ceiling_flushes_oldest():
    # 200 connections, each with a hole and 40 KB buffered behind it, under a
    # 1 MiB ceiling: the oldest are flushed (counted), memory stays bounded.
    frames, expect = [], []
    for i in range(200):
        c = Conn(cport=20000 + i)
        frames += c.handshake() + c.segs(0, req("GET", "/m%d" % i), [])
        r = c.segs(1, resp(200, b"m" * 40000), [1000] * 40)
        frames += r[1:]                    # r[0], with the status line, held back
    return frames, None, {"flows_evicted": lambda v: v > 100,
                          "memory_peak": lambda v: v <= (1 << 20) + 64 * 1024,
                          "exchanges": 200}


ARGS = {"memory_ceiling_flushes_oldest": ["--max-flow-memory", "1M"]}


def main():
    reprise, tmp = sys.argv[1], sys.argv[2]
    fails = 0
    for fn in CASES:
        name = fn.__name__
        frames, expect, stats = fn()
        path = os.path.join(tmp, name + ".pcap")
        write_pcap(path, frames)
        sj = os.path.join(tmp, name + ".json")
        r = subprocess.run([reprise, "capture", "-r", path, "--port", "80", "--null-sink", "--print",
                            "-q", "--stats-json", sj] + ARGS.get(name, []),
                           capture_output=True, text=True, timeout=60)
        got = ["\t".join(l.split("\t")[2:]) for l in r.stdout.splitlines()]
        problems = []
        if r.returncode != 0:
            problems.append("exit %d: %s" % (r.returncode, r.stderr[-300:]))
        if expect is not None:
            expect = [e for e in expect if e is not None]
            if got != expect:
                problems.append("printed %r, expected %r" % (got, expect))
        st = json.load(open(sj)) if os.path.exists(sj) else {}
        for k, v in stats.items():
            have = st.get(k)
            ok = v(have) if callable(v) else have == v
            if not ok:
                problems.append("%s = %r" % (k, have))
        print("%-36s %s" % (name, "ok" if not problems else "FAIL: " + "; ".join(problems)))
        fails += bool(problems)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
