#!/usr/bin/env python3
"""reprise capture against an independent dissector.

For every capture NAME.gz with tshark's exchanges NAME.gt in the data folders
given, runs `reprise capture -r` (the whole path: reassembly, HTTP/1, content
decoding, the store) with --print, and compares the multiset of (method, URI,
host, status, response body length) with tshark's.  They must agree, except
where POLICY below says why they cannot; the verdict of every capture is
printed as a table.

usage: capture_tshark.py REPRISE TMPDIR DATADIR...
exit: 0 all agree (or as the policy says), 1 otherwise
"""
import collections, gzip, os, shutil, subprocess, sys

# How a capture is compared, when not exactly:
#   gap:   exchanges reprise flags "gap" are compared on the request side only
#          (method, URI, host): tshark drops a message broken by a lost segment,
#          reprise keeps what it saw of it, flagged;
#   fix:   tshark tuples replaced by the tuple reprise must give (None: reprise
#          must not report it), each for the reason given;
#   skip:  not compared at all.
POLICY = {
    "zeek_bro.org.pcap": {
        "gap": "a segment of the response to /js/jquery.cycle.all.min.js was never "
               "captured: tshark reports that request unanswered, reprise keeps the "
               "200 and the 6940 body bytes it saw, flagged gap, and resynchronises",
    },
    "suricata_http-pipeline-files-with-gap.pcap": {
        "gap": "the response to skip-link-focus-fix.js loses segments: tshark drops it, "
               "reprise keeps its status line, flagged gap",
        "fix": [(("GET", "/wp-content/uploads/2015/04/NSL-InvestorPitch-9.007-420x420.jpg",
                  "www.annaharrison.com", 0, 0),
                 ("GET", "/wp-content/uploads/2015/04/NSL-InvestorPitch-9.007-420x420.jpg",
                  "www.annaharrison.com", 200, 34152),
                 "tshark stalls at the gap and sees no later response; reprise "
                 "resynchronises on the next status line and reads the JPEG whole "
                 "(34152 bytes, as its Content-Length says)")],
    },
    "suricata_bug-2511_layered_content_encoding.pcap": {
        "fix": [(("GET", "/", "192.168.235.101:8080", 200, 0),
                 ("GET", "/", "192.168.235.101:8080", 200, 24),
                 "Content-Encoding 'identity, identity, gzip, identity, gzip, gzip': tshark "
                 "leaves the body undecoded (0), gunzip three times gives the 24-byte text")],
    },
    "zeek_mixed-vlan-mpls.pcap": {
        "fix": [(("GET", "/", "", 0, 0), None,
                 "'GET /' without a version (HTTP/0.9, answered with bare HTML) on VLAN "
                 "4093: not HTTP/1; reprise counts the flow as not HTTP")],
    },
}


def load_gt(path):
    ms = collections.Counter()
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        ms[(f[0], f[1], f[2], int(f[3]), int(f[4]))] += 1
    return ms


def run_reprise(reprise, tmp, name, gz):
    cap = os.path.join(tmp, name)
    with gzip.open(gz, "rb") as fi, open(cap, "wb") as fo:
        shutil.copyfileobj(fi, fo)
    db = os.path.join(tmp, "db-" + name)
    r = subprocess.run([reprise, "capture", "-r", cap, "--port", "any", "--db", db, "--no-masks", "--print", "-q"],
                       capture_output=True, text=True, timeout=300)
    os.unlink(cap)
    shutil.rmtree(db, ignore_errors=True)
    full, gap = collections.Counter(), collections.Counter()
    for line in r.stdout.splitlines():
        f = line.split("\t")
        t = (f[2], f[3], f[4], int(f[5]), int(f[6]))
        full[t] += 1
        if "gap" in f[7].split(","):
            gap[t] += 1
    return r.returncode, full, gap, r.stderr


def compare(name, want, got, gap):
    pol = POLICY.get(name, {})
    want = collections.Counter(want)
    for old, new, _ in pol.get("fix", []):
        if want[old] <= 0:
            return "policy out of date: %r not in tshark's list" % (old,)
        want[old] -= 1
        if new:
            want[new] += 1
    want = +want
    if "gap" in pol:
        exact = got - gap
        missing = want - exact
        left = collections.Counter()
        for t, n in gap.items():
            for _ in range(n):
                # A gap exchange matches any tshark tuple of the same request.
                m = next((w for w in missing if missing[w] > 0 and w[:3] == t[:3]), None)
                if m is None:
                    left[t] += 1
                else:
                    missing[m] -= 1
        missing = +missing
        if missing or left:
            return "tshark only %s / reprise only %s" % (dict(list(missing.items())[:4]),
                                                         dict(list(left.items())[:4]))
        return None
    if want != got:
        return "tshark only %s / reprise only %s" % (dict(list((want - got).items())[:4]),
                                                     dict(list((got - want).items())[:4]))
    return None


def main():
    reprise, tmp, dirs = sys.argv[1], sys.argv[2], sys.argv[3:]
    failures = 0
    rows = []
    for d in dirs:
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".gt"):
                continue
            name = fn[:-3]
            gz = os.path.join(d, name + ".gz")
            if not os.path.exists(gz):
                continue
            want = load_gt(os.path.join(d, fn))
            rc, got, gap, err = run_reprise(reprise, tmp, name, gz)
            why = "exit %d: %s" % (rc, err[-300:]) if rc else compare(name, want, got, gap)
            pol = POLICY.get(name)
            verdict = "agree" if not why and not pol else (
                "listed: " + "; ".join(v if isinstance(v, str) else "; ".join(x[2] for x in v)
                                       for v in pol.values()) if not why else "FAIL: " + why)
            if why:
                failures += 1
            rows.append("%-50s %5d %5d  %s" % (name, sum(want.values()), sum(got.values()), verdict))
    print("%-50s %5s %5s  %s" % ("capture", "tshark", "ours", "verdict"))
    print("\n".join(rows))
    if not rows:
        print("no captures found in", dirs)
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
