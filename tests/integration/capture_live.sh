#!/bin/bash
# capture_live: real traffic, captured for real.  nginx on loopback, curl and
# wrk as clients.
#   1. tcpdump writes the traffic to a file; reprise capture -r records it:
#      every curl transfer is there with its method, status and size (the
#      gzip one decoded), and at least as many wrk exchanges as wrk counted.
#   2. reprise capture -i lo records the same kind of traffic live and stops
#      cleanly on SIGINT, and again on SIGTERM, with its counters.
#   3. In a network namespace whose loopback has MTU 1500 and no offloads,
#      a 300 KB body spans hundreds of real-sized segments and comes out whole.
# Needs root for capturing; skipped (77) when tcpdump cannot capture.
. "$RP_SRCDIR/tests/lib.sh"
for t in tcpdump nginx curl python3; do
	command -v $t >/dev/null || { echo "$t missing"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "capturing needs root"; exit 77; }
chmod 755 "$RP_TMP"

WWW="$RP_TMP/www"
mkdir -p "$WWW"
python3 - "$WWW" <<'PY'
import os, random, sys
root = sys.argv[1]
random.seed(1)
open(os.path.join(root, "small.json"), "w").write('{"ok": true, "n": 42}')
open(os.path.join(root, "page.html"), "w").write("<p>" + "hello capture " * 4000 + "</p>\n")
open(os.path.join(root, "big.bin"), "wb").write(bytes(random.getrandbits(8) for _ in range(300000)))
PY
chmod -R a+rX "$WWW"
PORT=$(rp_free_port)
rp_nginx "$WWW" "$PORT" "gzip on; gzip_types text/html; gzip_min_length 100; location = /post { return 201 'made'; }" || exit 1
URL="http://127.0.0.1:$PORT"

# start_tcpdump FILE [ns]: capture port $PORT on lo until stop_tcpdump.
start_tcpdump() {
	local pre=""
	[ -n "${2:-}" ] && pre="ip netns exec $2"
	$pre tcpdump -i lo -n -s 0 -B 131072 -w "$1" "tcp port $PORT" 2>"$1.err" &
	TCPDUMP=$!
	rp_track $TCPDUMP
	for i in $(seq 100); do grep -q "listening on" "$1.err" && return 0; sleep 0.05; done
	echo "tcpdump cannot capture: $(cat "$1.err")"
	exit 77
}
# stop_tcpdump: stops it; DROPS is what the kernel dropped.  libpcap hands
# packets over a block at a time, a block at the latest one timeout (1 s)
# after its first packet: what sits in an unfinished block at SIGINT is lost,
# so wait for the last one first.
stop_tcpdump() {
	sleep 1.2
	kill -INT $TCPDUMP
	wait $TCPDUMP 2>/dev/null
	DROPS=$(awk '/dropped by kernel/ { print $1 }' "$RP_TMP"/*.pcap.err | tail -1)
	echo "tcpdump: $(grep -h captured "$RP_TMP"/*.pcap.err | tail -1), dropped ${DROPS:-?}"
}

# curl_mix: seven transfers on one keep-alive connection, written to $1.
curl_mix() {
	curl -s -o /dev/null -w '%{method} %{url_effective} %{http_code} %{size_download}\n' \
		"$URL/small.json" \
		--next -s -o /dev/null -I -w '%{method} %{url_effective} %{http_code} 0\n' "$URL/small.json" \
		--next -s -o /dev/null --compressed -w '%{method} %{url_effective} %{http_code} %{size_download}\n' "$URL/page.html" \
		--next -s -o /dev/null -w '%{method} %{url_effective} %{http_code} %{size_download}\n' "$URL/big.bin" \
		--next -s -o /dev/null -w '%{method} %{url_effective} %{http_code} %{size_download}\n' "$URL/missing" \
		--next -s -o /dev/null -d 'a=1&b=2' -w '%{method} %{url_effective} %{http_code} %{size_download}\n' "$URL/post" \
		--next -s -o /dev/null -w '%{method} %{url_effective} %{http_code} %{size_download}\n' "$URL/small.json?q=1" \
		>"$1"
}

# check_curl PRINTED CURL_LOG WHAT: every curl transfer is among the lines.
check_curl() {
	local printed=$1 log=$2 what=$3 method url code size path
	while read -r method url code size; do
		path=${url#"$URL"}
		# --compressed: curl counts the gzip bytes; reprise stores decoded
		[ "$path" = /page.html ] && size=$(stat -c %s "$WWW/page.html")
		if awk -F'\t' -v m="$method" -v p="$path" -v c="$code" -v s="$size" \
			'$3 == m && $4 == p && $6 == c && $7 == s && $8 == "complete" { f = 1 } END { exit !f }' "$printed"; then
			rp_ok "$what: $method $path $code $size"
		else
			rp_fail "$what: $method $path $code $size not recorded: $(grep -F "$path" "$printed" | head -3)"
		fi
	done <"$log"
}

# ---- 1. tcpdump file, then reprise capture -r ----
start_tcpdump "$RP_TMP/lo.pcap"
curl_mix "$RP_TMP/curl1.log"
WRK_N=0
if command -v wrk >/dev/null; then
	wrk -t1 -c4 -d1s "$URL/small.json" >"$RP_TMP/wrk.out" 2>&1
	WRK_N=$(awk '/requests in/ { print $1 }' "$RP_TMP/wrk.out")
fi
stop_tcpdump
rp_expect_exit "capture -r of the tcpdump file" 0 \
	"$REPRISE" capture -r "$RP_TMP/lo.pcap" --port "$PORT" --db "$RP_TMP/db1" --no-masks --print \
	--stats-json "$RP_TMP/s1.json"
cp "$RP_TMP/last.out" "$RP_TMP/p1.txt"
check_curl "$RP_TMP/p1.txt" "$RP_TMP/curl1.log" "from the file"
if [ "$WRK_N" -gt 0 ] && [ "${DROPS:-1}" != 0 ]; then
	echo "tcpdump dropped packets: the wrk count cannot be compared"
elif [ "$WRK_N" -gt 0 ]; then
	got=$(awk -F'\t' '$4 == "/small.json" && $6 == 200 { n++ } END { print n + 0 }' "$RP_TMP/p1.txt")
	# wrk counts the responses it read; curl asked /small.json once more.
	if [ "$got" -ge "$WRK_N" ]; then rp_ok "wrk: $got exchanges recorded for $WRK_N counted by wrk"
	else rp_fail "wrk: only $got exchanges recorded, wrk counted $WRK_N"; fi
fi
rp_expect_grep "stored as many as parsed" '"exchanges_dropped": 0' "$RP_TMP/s1.json"

# ---- 2. live on lo, stopped by SIGINT, then by SIGTERM ----
for sig in INT TERM; do
	"$REPRISE" capture -i lo --port "$PORT" --db "$RP_TMP/db-$sig" --no-masks --print \
		--stats-json "$RP_TMP/s-$sig.json" >"$RP_TMP/p-$sig.txt" 2>"$RP_TMP/e-$sig.txt" &
	pid=$!
	rp_track $pid
	for i in $(seq 100); do grep -q "listening on" "$RP_TMP/e-$sig.txt" && break; sleep 0.05; done
	sleep 0.3 # the kernel filter is attached once pcap is active
	curl_mix "$RP_TMP/curl-$sig.log"
	sleep 0.5
	kill -$sig $pid
	wait $pid
	rc=$?
	rp_expect_eq "SIG$sig: clean exit" 0 "$rc"
	check_curl "$RP_TMP/p-$sig.txt" "$RP_TMP/curl-$sig.log" "live, SIG$sig"
	rp_expect_grep "SIG$sig: summary names kernel drops" "dropped by the kernel" "$RP_TMP/e-$sig.txt"
	rp_expect_grep "SIG$sig: 7 exchanges in the counters" '"exchanges": 7,' "$RP_TMP/s-$sig.json"
	rp_expect_grep "SIG$sig: 7 recorded" '"exchanges_recorded": 7,' "$RP_TMP/s-$sig.json"
done

# ---- 3. real segment sizes in a network namespace ----
NS="rp-captest-$$"
if ip netns add "$NS" 2>/dev/null; then
	trap 'ip netns del "$NS" 2>/dev/null; rp_cleanup' EXIT
	ip netns exec "$NS" ip link set lo up mtu 1500
	ip netns exec "$NS" ip link set lo gso_max_size 1500 gso_max_segs 1 2>/dev/null
	if command -v ethtool >/dev/null; then
		ip netns exec "$NS" ethtool -K lo tso off gso off gro off 2>/dev/null
	else
		ip netns exec "$NS" python3 -c '
import ctypes, fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for cmd in (0x1f, 0x24, 0x2c):  # ETHTOOL_STSO, _SGSO, _SGRO: off
    v = ctypes.create_string_buffer(struct.pack("II", cmd, 0))
    try: fcntl.ioctl(s.fileno(), 0x8946, struct.pack("16sP", b"lo", ctypes.addressof(v)))
    except OSError: pass'
	fi
	sed "s|listen 127.0.0.1:$PORT;|listen 127.0.0.1:$PORT;|; s|pid .*;|pid $RP_TMP/ns-nginx.pid;|" \
		"$RP_TMP/nginx-$PORT/nginx.conf" >"$RP_TMP/ns-nginx.conf"
	ip netns exec "$NS" nginx -c "$RP_TMP/ns-nginx.conf" -p "$RP_TMP/nginx-$PORT" &
	rp_track $!
	for i in $(seq 100); do
		ip netns exec "$NS" curl -s -o /dev/null "$URL/small.json" && break; sleep 0.05
	done
	start_tcpdump "$RP_TMP/ns.pcap" "$NS"
	ip netns exec "$NS" bash -c "$(declare -f curl_mix); URL=$URL; curl_mix $RP_TMP/curl3.log"
	stop_tcpdump
	maxlen=$(python3 - "$RP_TMP/ns.pcap" <<'PY'
import struct, sys
d = open(sys.argv[1], "rb").read()
off, m, n = 24, 0, 0
while off + 16 <= len(d):
    incl, orig = struct.unpack("<II", d[off + 8:off + 16])
    m, n, off = max(m, orig), n + 1, off + 16 + incl
print(m, n)
PY
)
	rp_expect_eq "namespace: frames no larger than MTU 1500 + Ethernet" 1514 "${maxlen% *}"
	rp_expect_exit "capture -r, real segment sizes" 0 \
		"$REPRISE" capture -r "$RP_TMP/ns.pcap" --port "$PORT" --db "$RP_TMP/db3" --no-masks --print
	cp "$RP_TMP/last.out" "$RP_TMP/p3.txt"
	check_curl "$RP_TMP/p3.txt" "$RP_TMP/curl3.log" "MTU 1500 (${maxlen#* } packets)"
else
	echo "no network namespaces here: part 3 skipped"
fi
rp_done
