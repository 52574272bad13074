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
#                                           content decoding, store
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
	sleep 0.5
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

size=$(stat -c %s "$PCAP")
secs() { python3 -c "import sys; print('%.3f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$2"; }
now() { date +%s.%N; }

echo "capture_bench: $PCAP ($((size / 1048576)) MiB)"
# Warm the page cache so that no reader pays for the disk.
cat "$PCAP" >/dev/null

t0=$(now)
tshark -r "$PCAP" -Y http.request -T fields -e http.request.uri >"$TMP/tshark.out" 2>/dev/null
t1=$(now)
tshark_n=$(wc -l <"$TMP/tshark.out")
tshark_s=$(secs "$t0" "$t1")

rm -rf "$TMP/db"
t0=$(now)
"$REPRISE" capture -r "$PCAP" --port $PORT --db "$TMP/db" -q --stats-json "$TMP/full.json"
t1=$(now)
full_s=$(secs "$t0" "$t1")

t0=$(now)
"$REPRISE" capture -r "$PCAP" --port $PORT --null-sink -q --stats-json "$TMP/null.json"
t1=$(now)
null_s=$(secs "$t0" "$t1")

python3 - "$size" "$TMP/full.json" "$TMP/null.json" "$full_s" "$null_s" "$tshark_s" "$tshark_n" <<'PY'
import json, sys
size = int(sys.argv[1])
full, null = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
fs, ns, ts, tn = float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
pk = full["packets"]
def requests(s):
    return s["exchanges"] - s["exchanges_no_request"]
print("  packets %d, %.1f MB, %.0f bytes/packet" % (pk, size / 1e6, size / pk))
print("  %-34s %8s %10s %12s %12s %9s" % ("reader", "seconds", "MB/s", "packets/s", "exchanges/s", "exchanges"))
rows = [("reprise capture (full: store)", fs, requests(full)),
        ("reprise capture --null-sink", ns, requests(null)),
        ("tshark -Y http.request", ts, tn)]
for name, s, n in rows:
    print("  %-34s %8.2f %10.1f %12.0f %12.0f %9d" % (name, s, size / 1e6 / s, pk / s, n / s, n))
print("  full path vs tshark: %.1fx   parse-only vs tshark: %.1fx" % (ts / fs, ts / ns))
same = requests(full) == tn == requests(null)
print("  identical exchange counts: %s (reprise %d, %d; tshark %d)" % (
    "yes" if same else "NO", requests(full), requests(null), tn))
print("  goals: >= 10x tshark: %s; parse-only > 1 GB/s per core: %s (%.2f GB/s)" % (
    "met" if ts / fs >= 10 else "missed", "met" if size / ns > 1e9 else "missed", size / ns / 1e9))
print("  reprise flags: gap %d, no response %d, no request %d; store committed %d" % (
    full["exchanges_gap"], full["exchanges_no_response"], full["exchanges_no_request"],
    full["exchanges_recorded"]))
PY
