#!/usr/bin/env python3
"""Copies the HTTP/1 captures reprise capture is checked against from the shared
data set (captures + tshark 4.0.17 ground truth) into this folder: each capture
gzip-compressed (NAME.gz, the test unpacks it), and tshark's HTTP/1 exchanges
reduced to what the test compares, one line per exchange (NAME.gt):

    method <TAB> uri <TAB> host <TAB> status <TAB> response body length (decoded)

Fields tshark did not have are empty (a request without response has status 0
and length 0).  The ground truth is tshark's, untouched: any disagreement the
test accepts is listed, with its reason, in tests/integration/capture_tshark.py.

usage: prepare.py SHARED_DATA_DIR   (e.g. /work/shared/data; writes here)
"""
import gzip, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))

# (folder, file): every HTTP/1 capture of the shared set but those listed in
# SKIPPED, plus two HTTP/2-only captures that must yield no HTTP/1 exchange.
FILES = [
    ("own", "derived_h1_http10_vlan200.pcap"),
    ("own", "derived_h1_keepalive_reordered_dup.pcap"),
    ("own", "h1_chunked_request_upload.pcap"),
    ("own", "h1_curl_keepalive_mixed_v4.pcap"),
    ("own", "h1_curl_keepalive_mixed_v6.pcap"),
    ("own", "h1_dumpcap_native.pcapng"),
    ("own", "h1_http10_curl.pcap"),
    ("own", "h1_pipelined_raw_client.pcap"),
    ("own", "h1_snaplen200_truncated.pcap"),
    ("own", "h1_wrk_keepalive.pcap"),
    ("own", "h2c_upgrade_curl_nghttp.pcap"),
    ("public", "arkime_v6-http.pcap"),
    ("public", "arkime_wireshark-retrans.pcap"),
    ("public", "suricata_bug-2511_layered_content_encoding.pcap"),
    ("public", "suricata_http-ipv6_null_linktype.pcap"),
    ("public", "suricata_http-pipeline-files-with-gap.pcap"),
    ("public", "suricata_http-pipelined-40-requests.pcap"),
    ("public", "suricata_http2-errorcode.pcap"),
    ("public", "suricata_http2-h2c-upgrade_wireshark-wiki.pcap"),
    ("public", "suricata_http2-range_curl_upgrade.pcap"),
    ("public", "zeek_100-continue.pcap"),
    ("public", "zeek_1000-requests-one-dropped-response.pcap"),
    ("public", "zeek_206_example_b.pcap"),
    ("public", "zeek_bro.org.pcap"),
    ("public", "zeek_communityid_tcp_snaplen96.pcap"),
    ("public", "zeek_cooper-grill-dvwa.pcapng"),
    ("public", "zeek_get-gzip.pcap"),
    ("public", "zeek_handshake-reorder.pcap"),
    ("public", "zeek_http-on-irc-port-missing-syn.pcapng"),
    ("public", "zeek_http-post-large.pcap"),
    ("public", "zeek_http-qinq-0.pcap"),
    ("public", "zeek_http-vlan-0.pcap"),
    ("public", "zeek_keepalive-5-requests.pcap"),
    ("public", "zeek_mixed-vlan-mpls.pcap"),
    ("public", "zeek_retransmit-fast009_headers_only.pcap"),
    ("public", "zeek_wikipedia.pcap"),
    ("public", "zeek_zero-length-bodies-with-drops.pcap"),
    ("public", "suricata_http2-continuation.pcap"),
    ("public", "suricata_doh-http2-post-34-streams.pcap"),
]

SKIPPED = {
    "h1_large_body_5mb_expect100.pcap": "7.4 MB of incompressible body; run it from the shared set (RP_SHARED_DATA)",
    "tls12_h1_wireshark_bug_dump.pcapng": "HTTP/1 inside TLS: needs key-log decryption, not part of issue 6",
    "tls12_h2_and_h1_curl_nginx.pcap": "HTTP/1 and h2 inside TLS: needs key-log decryption, not part of issue 6",
}


def gt_lines(js):
    out = []
    for e in js["http1_exchanges"]:
        rq, rs = e.get("request") or {}, e.get("response") or {}
        out.append("\t".join([rq.get("method", ""), rq.get("uri", ""), rq.get("host", "") or "",
                              str(rs.get("status", 0) or 0), str(rs.get("body_len_decoded", 0) or 0)]))
    return sorted(out)


def main(shared):
    prov = {}
    for folder in ("public", "own"):
        p = os.path.join(shared, folder, "provenance.json")
        if os.path.exists(p):
            for r in json.load(open(p)):
                prov[r["file"]] = r
    rows = []
    for folder, name in FILES:
        src = os.path.join(shared, folder, name)
        js = json.load(open(src + ".tshark.json"))
        data = open(src, "rb").read()
        with gzip.GzipFile(os.path.join(HERE, name + ".gz"), "wb", 9, mtime=0) as f:
            f.write(data)
        lines = gt_lines(js)
        with open(os.path.join(HERE, name + ".gt"), "w") as f:
            f.write("".join(l + "\n" for l in lines))
        r = prov.get(name)
        if r:
            source = "%s `%s` @ %s" % (r["repository"].replace("https://github.com/", ""), r["path"],
                                      r["last_commit_touching_file"][:12])
            lic = r["license"].split(" (")[0]
        else:
            source = "shared data set, own/ (recorded on loopback for reprise; see its README)"
            lic = "same as reprise"
        c = js["counts"]
        rows.append("| `%s` | %s | %s | %d | H1 %d req / %d resp |" % (
            name, source, lic, len(data), c["http1_requests"], c["http1_responses"]))
    readme = open(os.path.join(HERE, "README.md.in")).read()
    readme = readme.replace("@TABLE@", "\n".join(rows)).replace(
        "@SKIPPED@", "\n".join("* `%s`: %s" % kv for kv in SKIPPED.items()))
    open(os.path.join(HERE, "README.md"), "w").write(readme)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/work/shared/data")
