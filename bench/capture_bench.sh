#!/bin/sh
# capture_bench: how fast `reprise capture -r` reads real HTTP/1.1 keep-alive
# traffic, next to tshark on the same file in the same run.
#
# The capture is made here and cached ($RP_BUILDDIR/bench-cache/): nginx, wrk
# and tcpdump run inside a network namespace made for the purpose, whose
# loopback has MTU 1500 and segmentation offload off, so segments are the
# size a real network carries (a plain loopback capture holds 64 KB segments,
# about 2 packets per exchange, which flatters any sniffer).  wrk asks for a
# mix of small JSON answers and multi-segment ones (6 KB, 64 KB) and is stopped
# when the capture reaches RP_BENCH_MB megabytes (default 300) or after 120 s,
# whichever comes first.
#
# Then, on the same file:
#   reprise capture -r FILE --db DIR        full path: reassembly, HTTP/1,
#                                           content decoding, masks, store
#   reprise capture -r FILE --db DIR --no-masks   the same without masking
#   reprise capture -r FILE --null-sink     parse only (no store)
#   tshark -r FILE -Y http.request -T fields -e http.request.uri
# and prints MB/s, packets/s, exchanges/s, the ratios, and whether the
# exchange counts are identical.  Goals: reprise >= 10x tshark with identical
# counts; parse-only > 1 GB/s per core.
#
# Needs root (network namespace, tcpdump), nginx, wrk, tcpdump, tshark.
# ethtool is used when present; without it the offloads are turned off
# through the SIOCETHTOOL ioctl from python3.
set -u
: "${REPRISE:?}" "${RP_BUILDDIR:?}"
MB=${RP_BENCH_MB:-300}
CACHE="$RP_BUILDDIR/bench-cache"
PCAP="$CACHE/capture-h1-mtu1500-${MB}M.pcap"
PORT=8080
mkdir -p "$CACHE"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/reprise-capbench.XXXXXX")
NS=""
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

skip() { echo "capture_bench: skipped: $*"; exit 0; }

# Turns TSO, GSO and GRO off on the namespace's loopback.
offload_off() {
	if command -v ethtool >/dev/null; then
		ip netns exec "$NS" ethtool -K lo tso off gso off gro off && return 0
	fi
	echo "  ethtool is missing: turning lo offloads off with the SIOCETHTOOL ioctl"
	cat >"$TMP/offload.py" <<'PY'
import ctypes, fcntl, socket, struct
SIOCETHTOOL = 0x8946
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for cmd in (0x1f, 0x24, 0x2c):          # ETHTOOL_STSO, ETHTOOL_SGSO, ETHTOOL_SGRO
    val = ctypes.create_string_buffer(struct.pack("II", cmd, 0))
    ifr = struct.pack("16sP", b"lo", ctypes.addressof(val))
    try:
        fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
    except OSError as e:
        print("  ioctl %#x: %s" % (cmd, e))
PY
	ip netns exec "$NS" python3 "$TMP/offload.py"
}

make_capture() {
	[ "$(id -u)" = 0 ] || skip "making the capture needs root"
	for t in nginx wrk tcpdump ip python3; do
		command -v $t >/dev/null || skip "$t is not installed"
	done
	NS="rp-capbench-$$"
	ip netns add "$NS" || skip "cannot create a network namespace"
	ip netns exec "$NS" ip link set lo up mtu 1500
	ip netns exec "$NS" ip link set lo gso_max_size 1500 gso_max_segs 1 2>/dev/null
	offload_off
	# Content: small JSON answers and multi-segment files.
	mkdir -p "$TMP/www/api" "$TMP/nginx/logs"
	chmod 755 "$TMP" # nginx workers run as nobody
	python3 - "$TMP/www" <<'PY'
import json, os, random, sys
root = sys.argv[1]
random.seed(6)
small = {"id": 42, "name": "Ada Lovelace", "email": "ada@example.com", "active": True,
         "roles": ["admin", "dev"], "score": 97.5}
open(os.path.join(root, "api", "user.json"), "w").write(json.dumps(small))
items = [{"id": i, "sku": "SKU-%05d" % i, "price": round(random.random() * 100, 2),
          "title": "item number %d" % i} for i in range(80)]
open(os.path.join(root, "api", "items.json"), "w").write(json.dumps({"items": items}))
words = [("%08x" % random.getrandbits(32)) for _ in range(8192)]
open(os.path.join(root, "page.html"), "w").write(("<p>" + " ".join(words) + "</p>\n")[:65536])
PY
	chmod -R a+rX "$TMP/www"
	cat >"$TMP/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    types { application/json json; text/html html; }
    server {
        listen 127.0.0.1:$PORT;
        root $TMP/www;
        location = /api/health { default_type application/json; return 200 '{"status":"ok"}'; }
    }
}
NGX
	cat >"$TMP/mix.lua" <<'LUA'
-- 45% tiny JSON, 25% small JSON, 18% 6 KB JSON, 12% 64 KB page.
local paths = {}
for i = 1, 45 do paths[#paths + 1] = "/api/health" end
for i = 1, 25 do paths[#paths + 1] = "/api/user.json" end
for i = 1, 18 do paths[#paths + 1] = "/api/items.json" end
for i = 1, 12 do paths[#paths + 1] = "/page.html" end
local k = 0
request = function()
  k = k % #paths + 1
  return wrk.format("GET", paths[(k * 37) % #paths + 1], {["Accept"] = "application/json"})
end
LUA
	ip netns exec "$NS" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" &
	PIDS="$PIDS $!"
	i=0
	until ip netns exec "$NS" python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 100 ] && skip "nginx did not start: $(cat "$TMP/nginx/logs/error.log")"; sleep 0.05
	done
	ip netns exec "$NS" tcpdump -i lo -s 0 -B 262144 -w "$TMP/cap.pcap" "tcp port $PORT" \
		2>"$TMP/tcpdump.err" &
	TD=$!
	PIDS="$PIDS $TD"
	sleep 1
	ip netns exec "$NS" wrk -t2 -c8 -d120s -s "$TMP/mix.lua" "http://127.0.0.1:$PORT/" \
		>"$TMP/wrk.out" 2>&1 &
	WRK=$!
	PIDS="$PIDS $WRK"
	while kill -0 $WRK 2>/dev/null; do
		[ "$(stat -c %s "$TMP/cap.pcap" 2>/dev/null || echo 0)" -ge $((MB * 1000000)) ] && break
		sleep 0.2
	done
	kill -INT $WRK 2>/dev/null; wait $WRK 2>/dev/null
	sleep 1.5 # tcpdump gets packets a block at a time, within its 1 s timeout
	kill -INT $TD; wait $TD 2>/dev/null
	cat "$TMP/tcpdump.err" | grep -E "captured|dropped" | sed 's/^/  tcpdump: /'
	grep -E "requests in" "$TMP/wrk.out" | sed 's/^/  wrk: /'
	if grep -qE "^[1-9][0-9]* packets dropped by kernel" "$TMP/tcpdump.err"; then
		echo "  note: tcpdump dropped packets; both readers see the same file all the same"
	fi
	mv "$TMP/cap.pcap" "$PCAP"
}

if [ ! -s "$PCAP" ]; then
	echo "capture_bench: making $PCAP (MTU 1500, offloads off, in a network namespace)"
	make_capture
fi
command -v tshark >/dev/null || skip "tshark is not installed"

echo "capture_bench: $PCAP ($(($(stat -c %s "$PCAP") / 1048576)) MiB)"
cat "$PCAP" >/dev/null # warm the page cache: no reader pays for the disk
python3 - "$REPRISE" "$PCAP" "$TMP" "$PORT" <<'PY'
import json, os, resource, shutil, subprocess, sys, time
reprise, pcap, tmp, port = sys.argv[1:5]
size = os.path.getsize(pcap)

def run(argv, out=subprocess.DEVNULL):
    """Wall and CPU (user + system) seconds of one run."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(argv, stdout=out, stderr=subprocess.DEVNULL, check=True)
    t1 = time.monotonic()
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t1 - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)

def best(argv, n=3, before=None):
    runs = []
    for _ in range(n):
        if before:
            before()
        runs.append(run(argv))
    return min(w for w, _ in runs), min(c for _, c in runs)

db = os.path.join(tmp, "db")
full_json, null_json = os.path.join(tmp, "full.json"), os.path.join(tmp, "null.json")
with open(os.path.join(tmp, "tshark.out"), "w") as out:
    tw, tc = run(["tshark", "-r", pcap, "-Y", "http.request", "-T", "fields", "-e",
                  "http.request.uri"], out)
tn = sum(1 for _ in open(os.path.join(tmp, "tshark.out")))
fw, fc = best([reprise, "capture", "-r", pcap, "--port", port, "--db", db, "-q",
               "--stats-json", full_json], before=lambda: shutil.rmtree(db, ignore_errors=True))
nw, nc = best([reprise, "capture", "-r", pcap, "--port", port, "--null-sink", "-q",
               "--stats-json", null_json])
raw_json = os.path.join(tmp, "raw.json")
rw, rc_ = best([reprise, "capture", "-r", pcap, "--port", port, "--db", db, "--no-masks", "-q",
                "--stats-json", raw_json], before=lambda: shutil.rmtree(db, ignore_errors=True))
full, null, raw = (json.load(open(p)) for p in (full_json, null_json, raw_json))
pk = full["packets"]
req = lambda s: s["exchanges"] - s["exchanges_no_request"]
print("  %d packets, %.1f MB, %.0f bytes/packet; 2 shared cores, best of 3 for reprise" %
      (pk, size / 1e6, size / pk))
print("  %-32s %7s %7s %9s %9s %11s %12s %9s" % ("reader", "wall s", "cpu s", "MB/s", "MB/s/cpu",
                                                  "packets/s", "exchanges/s", "exchanges"))
rows = [("reprise capture --db (full)", fw, fc, req(full)),
        ("reprise capture --db --no-masks", rw, rc_, req(raw)),
        ("reprise capture --null-sink", nw, nc, req(null)),
        ("tshark -Y http.request", tw, tc, tn)]
for name, w, c, n in rows:
    print("  %-32s %7.2f %7.2f %9.1f %9.1f %11.0f %12.0f %9d" % (
        name, w, c, size / 1e6 / w, size / 1e6 / c, pk / w, n / w, n))
print("  reprise vs tshark, wall: full %.1fx, unmasked %.1fx, parse-only %.1fx;  per cpu-second: "
      "full %.1fx, unmasked %.1fx, parse-only %.1fx" % (tw / fw, tw / rw, tw / nw, tc / fc, tc / rc_,
                                                     tc / nc))
same = req(full) == tn == req(null) == req(raw)
print("  identical exchange counts: %s (reprise %d, %d and %d, tshark %d)" % (
    "yes" if same else "NO", req(full), req(raw), req(null), tn))
ok = lambda x: "met" if x >= 10 and same else "MISSED"
print("  goal >= 10x tshark: with the default masks %s (%.1fx), without masks %s (%.1fx)" % (
    ok(tw / fw), tw / fw, ok(tw / rw), tw / rw))
print("  goal parse-only > 1 GB/s per core: %s (%.2f GB/s per cpu-second)" % (
    "met" if size / nc > 1e9 else "MISSED", size / nc / 1e9))
print("  the mask stage takes %.0f%% of the full path's CPU" % (100.0 * (fc - rc_) / fc))
print("  flags: gap %d, no response %d, no request %d; exchanges stored %d" % (
    full["exchanges_gap"], full["exchanges_no_response"], full["exchanges_no_request"],
    full["exchanges_recorded"]))
PY
