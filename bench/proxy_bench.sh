# bench/proxy_bench.sh — proxy overhead on loopback (make bench).
#
# One nginx origin (1 worker) serves a small response and a 16 KB one.  wrk
# (bounded: -t2 -c64 -d${RP_BENCH_SECS:-5}s) runs against, in turn: the
# origin directly, nginx as a reverse proxy, haproxy, and reprise proxy with
# recording on.  Every proxy gets ONE worker (nginx worker_processes 1,
# haproxy nbthread 1, reprise --workers 1): on two cores shared with wrk and
# the origin that is the fair choice.  Both proxies keep upstream
# connections alive (nginx: keepalive + HTTP/1.1; haproxy: its default
# reuse), as reprise does.  Rounds (RP_BENCH_ROUNDS, default 3) interleave
# the targets; the best round and the spread are printed, with each proxy's
# CPU time per request (the figure least disturbed by other load on the
# machine), then syscalls per request from strace -c -f on a short run.
#
# Needs nginx, haproxy, wrk; skips (exit 77) without them.  Loopback only;
# every server is stopped by pid.
set -u
. "$RP_SRCDIR/tests/lib.sh"
for t in nginx haproxy wrk; do
	command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
done
SECS=${RP_BENCH_SECS:-5}
ROUNDS=${RP_BENCH_ROUNDS:-3}
CONNS=${RP_BENCH_CONNS:-64}

chmod 755 "$RP_TMP" # nginx workers may run as nobody
WWW=$RP_TMP/www
mkdir -p "$WWW"
printf 'hello from the origin\n' >"$WWW/small.txt"
head -c 16384 /dev/urandom >"$WWW/16k.bin"

ORIGIN=$(rp_free_port)
rp_nginx "$WWW" "$ORIGIN" "keepalive_requests 1000000;"
ORIGIN_PID=$RP_NGINX_PID

# nginx as a reverse proxy
NGXP=$(rp_free_port)
d=$RP_TMP/nginx-proxy; mkdir -p "$d/logs"
cat >"$d/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $d/body; proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi; uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
    keepalive_requests 1000000;
    upstream origin { server 127.0.0.1:$ORIGIN; keepalive 64; keepalive_requests 1000000; }
    server {
        listen 127.0.0.1:$NGXP;
        location / {
            proxy_pass http://origin;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
        }
    }
}
NGX
nginx -c "$d/nginx.conf" -p "$d" &
NGXP_PID=$!; rp_track $NGXP_PID
rp_wait_port "$NGXP" || { echo "nginx proxy did not start" >&2; exit 1; }

# haproxy
HAP=$(rp_free_port)
cat >"$RP_TMP/haproxy.cfg" <<HAC
global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
frontend f
    bind 127.0.0.1:$HAP
    default_backend b
backend b
    http-reuse always
    server o 127.0.0.1:$ORIGIN
HAC
haproxy -f "$RP_TMP/haproxy.cfg" -db >"$RP_TMP/haproxy.log" 2>&1 &
HAP_PID=$!; rp_track $HAP_PID
rp_wait_port "$HAP" || { echo "haproxy did not start: $(cat "$RP_TMP/haproxy.log")" >&2; exit 1; }

# reprise, recording on
RPP=$(rp_free_port)
"$REPRISE" proxy --listen 127.0.0.1:$RPP --upstream http://127.0.0.1:$ORIGIN \
	--db "$RP_TMP/corpus" --workers 1 --no-masks 2>"$RP_TMP/reprise.log" &
RPP_PID=$!; rp_track $RPP_PID
rp_wait_port "$RPP" || { echo "reprise did not start: $(cat "$RP_TMP/reprise.log")" >&2; exit 1; }

# to_ms VALUE: wrk's "812.00us" / "1.23ms" / "1.02s" in milliseconds
to_ms() {
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# cpu_ticks PID: user + system clock ticks of the process, all threads
cpu_ticks() { [ -n "$1" ] && awk '{ print $14 + $15 }' /proc/"$1"/stat 2>/dev/null || echo 0; }

# run NAME PORT PATH [PID]: one wrk run; appends "name path rps p50 p99
# cpu_us_per_request" to $RP_TMP/results (CPU of PID, the proxy process)
run() {
	local out=$RP_TMP/wrk.out
	local t0 t1
	t0=$(cpu_ticks "${4:-}")
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$2$3" >"$out" 2>&1
	t1=$(cpu_ticks "${4:-}")
	local rps p50 p99 errs reqs cpu
	rps=$(awk '/^Requests\/sec/ { print $2 }' "$out")
	p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
	errs=$(awk '/Non-2xx|Socket errors/ { print }' "$out" | tr '\n' ' ')
	[ -n "$errs" ] && echo "  note: $1 $3: $errs" >&2
	reqs=$(awk '/requests in/ { print $1 }' "$out")
	cpu=$(awk -v a="$t0" -v b="$t1" -v n="${reqs:-0}" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.1f", n ? (b - a) / hz * 1e6 / n : 0 }')
	echo "$1 $3 ${rps:-0} ${p50:-0} ${p99:-0} $cpu" >>"$RP_TMP/results"
}

: >"$RP_TMP/results"
echo "proxy benchmark: wrk -t2 -c$CONNS -d${SECS}s --latency, $ROUNDS rounds, 1 worker per proxy"
for r in $(seq "$ROUNDS"); do
	for path in /small.txt /16k.bin; do
		run direct "$ORIGIN" $path "$(pgrep -P "$ORIGIN_PID" | head -1)"
		run nginx "$NGXP" $path "$(pgrep -P "$NGXP_PID" | head -1)"
		run haproxy "$HAP" $path "$HAP_PID"
		run reprise "$RPP" $path "$RPP_PID"
	done
done

python3 - "$RP_TMP/results" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, path, rps, p50, p99, cpu = line.split()
    rows[(name, path)].append((float(rps), float(p50), float(p99), float(cpu)))
print("\nbest of the rounds: highest req/s, lowest p50 and p99, lowest CPU;")
print("spread = (max - min) / max of req/s over the rounds.  CPU is the target")
print("process's user+system time per request (the origin's for 'direct';")
print("reprise's includes its recorder and store threads).")
for path in ("/small.txt", "/16k.bin"):
    print(f"\n{path}")
    print(f"  {'target':8} {'req/s':>10} {'spread':>7} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11}")
    res = {}
    for name in ("direct", "nginx", "haproxy", "reprise"):
        v = rows[(name, path)]
        rps = max(x[0] for x in v)
        lo = min(x[0] for x in v)
        spread = (rps - lo) / rps * 100 if rps else 0
        p50 = min(x[1] for x in v)
        p99 = min(x[2] for x in v)
        cpu = min(x[3] for x in v)
        res[name] = (rps, p50, p99, cpu)
        print(f"  {name:8} {rps:10.0f} {spread:6.1f}% {p50:8.3f} {p99:8.3f} {cpu:11.1f}")
    r, n, h = res["reprise"], res["nginx"], res["haproxy"]
    print(f"  reprise/nginx-proxy: throughput {r[0]/n[0]:.2f}  p99 {r[2]/n[2]:.2f}  CPU {r[3]/n[3]:.2f}")
    print(f"  reprise/haproxy:     throughput {r[0]/h[0]:.2f}  p99 {r[2]/h[2]:.2f}  CPU {r[3]/h[3]:.2f}")
    ok = r[0] >= 0.85 * n[0] and r[2] <= 1.2 * n[2]
    print(f"  goal (>= 0.85x nginx-proxy req/s, p99 <= 1.2x): {'met' if ok else 'MISSED'}")
PY

# syscalls per request: strace -c -f on a short run of each proxy
if command -v strace >/dev/null; then
	echo
	for path in /small.txt /16k.bin; do
	echo "syscalls per request (strace -c -f, wrk -t1 -c16 -d2s, $path):"
	for t in nginx:$NGXP:$NGXP_PID haproxy:$HAP:$HAP_PID reprise:$RPP:$RPP_PID; do
		name=${t%%:*}; rest=${t#*:}; port=${rest%%:*}; pid=${rest#*:}
		# nginx serves from its worker, a child of the master we started
		[ "$name" = nginx ] && pid=$(pgrep -P "$NGXP_PID" | head -1)
		strace -q -c -f -p "$pid" -o "$RP_TMP/strace.$name" 2>/dev/null &
		spid=$!
		sleep 0.5
		wrk -t1 -c16 -d2s "http://127.0.0.1:$port$path" >"$RP_TMP/wrk.strace" 2>&1
		kill -INT $spid; wait $spid 2>/dev/null
		reqs=$(awk '/requests in/ { print $1 }' "$RP_TMP/wrk.strace")
		python3 - "$RP_TMP/strace.$name" "$name" "${reqs:-0}" <<'PY'
import sys
path, name, reqs = sys.argv[1], sys.argv[2], int(sys.argv[3])
calls = {}
for line in open(path):
    f = line.split()
    if len(f) >= 5 and f[-1] not in ("total", "syscall") and f[0][0].isdigit():
        try:
            n = int(f[3])
        except ValueError:
            continue
        calls[f[-1]] = n
total = sum(calls.values())
top = sorted(calls.items(), key=lambda kv: -kv[1])[:6]
per = lambda n: n / reqs if reqs else 0
print(f"  {name:8} {per(total):5.2f}/req over {reqs} requests: " +
      ", ".join(f"{k} {per(v):.2f}" for k, v in top))
PY
	done
	done
fi
exit 0
