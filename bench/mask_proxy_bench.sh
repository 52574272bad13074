# bench/mask_proxy_bench.sh — what default masks cost the recording proxy
# (make bench).
#
# One nginx origin (1 worker) serves a JSON API mix: an order list with
# customers' emails and phones (1.6 KB), a user profile with a card and an
# IBAN (0.4 KB), a search result without personal data (4 KB), and a
# script (8 KB, a static asset masks leave alone).  Requests carry a bearer
# token, a session cookie and an email in the query string.  wrk (bounded:
# -t2 -c${RP_BENCH_CONNS:-32} -d${RP_BENCH_SECS:-5}s) drives `reprise proxy`
# (1 worker, 1 recorder thread) with --no-masks, then with default.rules and
# a key, in interleaved rounds (RP_BENCH_ROUNDS, default 3); each round gets a
# fresh corpus.  Printed: req/s (best round, spread), p99, and how many
# exchanges each run recorded and dropped — recording fails open, so a mask
# stage that cannot keep up shows as drops, not as lost requests.
#
# Goal (issue 5): masks on cost under 15% of req/s.  Needs nginx and wrk;
# skips (exit 77) without them.  Loopback only; servers stopped by pid.
set -u
. "$RP_SRCDIR/tests/lib.sh"
for t in nginx wrk; do
	command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
done
SECS=${RP_BENCH_SECS:-5}
ROUNDS=${RP_BENCH_ROUNDS:-3}
CONNS=${RP_BENCH_CONNS:-32}

chmod 755 "$RP_TMP"
WWW=$RP_TMP/www
mkdir -p "$WWW/api" "$WWW/static"
python3 - "$WWW" <<'PY'
import json, sys
www = sys.argv[1]
orders = {"page": 1, "orders": [
    {"id": 1000 + i, "status": "shipped", "amount": 12.5 + i, "currency": "EUR",
     "customer": {"name": "Customer %d" % i, "email": "user%d@mail%d.com" % (i, i % 5),
                  "phone": "+44 20 7946 %04d" % (100 + i)},
     "items": [{"sku": "SKU-%05d" % i, "qty": 1 + i % 3}]} for i in range(8)]}
open(www + "/api/orders.json", "w").write(json.dumps(orders))
user = {"id": 42, "email": "jane.doe+shop@gmail.com", "password_hash": "x",
        "payment": {"card": "4111 1111 1111 1111", "iban": "DE89370400440532013000"},
        "address": {"city": "Berlin", "zip": "10115"}, "roles": ["buyer"]}
open(www + "/api/user.json", "w").write(json.dumps(user))
search = {"query": "red shoes", "results": [
    {"sku": "SKU-%05d" % i, "title": "Red running shoe model %d" % i, "price": 59.9 + i,
     "rating": 4.2, "stock": i * 3, "tags": ["shoes", "running", "red"]} for i in range(30)]}
open(www + "/api/search.json", "w").write(json.dumps(search))
open(www + "/static/app.js", "w").write(
    "/* app */\n" + "".join("function f%d(a){return a*%d+'v1.2.3.4';}\n" % (i, i) for i in range(200)))
PY
ORIGIN=$(rp_free_port)
rp_nginx "$WWW" "$ORIGIN" "keepalive_requests 1000000;"
head -c 32 /dev/urandom >"$RP_TMP/mask.key"

cat >"$RP_TMP/mix.lua" <<'LUA'
local paths = {"/api/orders.json", "/api/user.json", "/api/search.json", "/api/orders.json",
               "/api/user.json", "/static/app.js"}
local i = 0
request = function()
	i = i + 1
	return wrk.format("GET", paths[(i % #paths) + 1] .. "?email=jane.doe%40gmail.com&page=" .. (i % 10),
		{["Authorization"] = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
		 ["Cookie"] = "sid=8c1f0e9a7b2d4c6e; theme=dark"})
end
LUA

to_ms() {
	awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}

# run MODE ROUND: a fresh proxy and corpus, one wrk run, the proxy stopped
run() {
	mode=$1
	port=$(rp_free_port)
	db=$RP_TMP/corpus-$mode-$2
	if [ "$mode" = masks ]; then flags="--mask-key-file $RP_TMP/mask.key"; else flags=--no-masks; fi
	"$REPRISE" proxy --listen 127.0.0.1:$port --upstream http://127.0.0.1:$ORIGIN --db "$db" \
		--workers 1 --record-threads 1 $flags 2>"$db.log" &
	pid=$!
	rp_wait_port "$port" || { echo "reprise did not start: $(cat "$db.log")" >&2; exit 1; }
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$RP_TMP/mix.lua" "http://127.0.0.1:$port" \
		>"$RP_TMP/wrk.out" 2>&1
	kill -INT $pid
	wait $pid
	rps=$(awk '/^Requests\/sec/ { print $2 }' "$RP_TMP/wrk.out")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$RP_TMP/wrk.out")")
	rec=$(sed -n 's/.*recorded \([0-9]*\) exchanges.*/\1/p' "$db.log")
	drop=$(sed -n 's/.*dropped \([0-9]*\) .*/\1/p' "$db.log")
	echo "$mode ${rps:-0} ${p99:-0} ${rec:-0} ${drop:-0}" >>"$RP_TMP/results"
	rm -rf "$db"
}

: >"$RP_TMP/results"
echo "mask proxy benchmark: wrk -t2 -c$CONNS -d${SECS}s, JSON API mix, $ROUNDS rounds, 1 proxy worker, 1 recorder thread"
for r in $(seq "$ROUNDS"); do
	run plain "$r"
	run masks "$r"
done
python3 - "$RP_TMP/results" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    mode, rps, p99, rec, drop = line.split()
    rows[mode].append((float(rps), float(p99), int(rec), int(drop)))
print(f"  {'recording':10} {'req/s':>9} {'spread':>7} {'p99 ms':>8} {'recorded':>9} {'dropped':>8}")
best = {}
for mode, label in (("plain", "--no-masks"), ("masks", "masked")):
    v = rows[mode]
    b = max(v)
    lo, hi = min(x[0] for x in v), max(x[0] for x in v)
    best[mode] = b
    print(f"  {label:10} {b[0]:9.0f} {(hi - lo) / hi * 100 if hi else 0:6.1f}% {b[1]:8.3f} {b[2]:9d} {b[3]:8d}")
cost = 1 - best["masks"][0] / best["plain"][0] if best["plain"][0] else 0
print(f"  masks cost {cost * 100:.1f}% of req/s (goal < 15%: {'met' if cost < 0.15 else 'MISSED'})")
PY
exit 0
