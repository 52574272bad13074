#!/bin/bash
# replay_bench: `reprise replay --max`, diffing every response, against wrk
# on the same nginx target, the same request mix (three files: small JSON,
# HTML, 4 KB binary, in turn) and the same number of connections: prints
# both request rates, their ratio, and the CPU each client spent per
# request.  The goal is at least 90% of wrk.  Both clients get one thread;
# nginx gets one worker.  On a shared machine the rates drift with the
# neighbours' load, so the two clients run alternately, BENCH_ROUNDS times
# each, and the medians are compared; CPU per request does not depend on
# the neighbours.
#
# Environment: BENCH_CONNS (10), BENCH_SECONDS (4: one wrk round; the corpus
# is sized to keep a replay round busy about as long), BENCH_ROUNDS (3),
# BENCH_REQUESTS (override the corpus size).  Bounded: about
# 2 x ROUNDS x SECONDS plus building the corpus.  The corpus is imported
# with --no-masks: this measures replay and diff, not masking.
. "$RP_SRCDIR/tests/lib.sh"

conns=${BENCH_CONNS:-10}
secs=${BENCH_SECONDS:-4}
rounds=${BENCH_ROUNDS:-3}
command -v wrk >/dev/null || { echo "wrk not installed: skipped"; exit 0; }

W="$RP_TMP/www"
mkdir -p "$W/api"
printf '{"id":42,"name":"widget","price":9.99,"tags":["a","b","c"],"stock":{"eu":3,"us":5}}\n' >"$W/api/item.json"
python3 -c 'print("<html><body>" + "<p>reprise replay benchmark</p>" * 30 + "</body></html>")' >"$W/page.html"
head -c 4096 /dev/urandom >"$W/blob.bin"
chmod 755 "$RP_TMP"
chmod -R a+rX "$W"
port=$(rp_free_port)
rp_nginx "$W" "$port" "keepalive_requests 1000000;" || exit 1
T="http://127.0.0.1:$port"
paths="/api/item.json /page.html /blob.bin"

# wrk first: its rate sizes the corpus
cat >"$RP_TMP/mix.lua" <<LUA
local paths = {"/api/item.json", "/page.html", "/blob.bin"}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i - 1) % #paths + 1], {["Accept"] = "*/*", ["User-Agent"] = "replay-corpus"})
end
LUA
wrk_round() {
	/usr/bin/time -f "%U %S" -o "$RP_TMP/wrk.cpu" \
		wrk -t1 -c"$conns" -d"${secs}s" -s "$RP_TMP/mix.lua" "$T" >"$RP_TMP/wrk.out" 2>&1
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$RP_TMP/wrk.out")
	reqs=$(awk '/requests in/ {print $1}' "$RP_TMP/wrk.out")
	[ -n "$rps" ] || { cat "$RP_TMP/wrk.out"; exit 1; }
	echo "wrk $rps $reqs $(cat "$RP_TMP/wrk.cpu")" >>"$RP_TMP/rounds"
}
replay_round() {
	/usr/bin/time -f "%U %S" -o "$RP_TMP/replay.cpu" \
		"$REPRISE" replay --db "$RP_TMP/corpus" --target "$T" --max --concurrency "$conns" \
		--report "$RP_TMP/r.json" >"$RP_TMP/replay.out" 2>&1
	rc=$?
	[ "$rc" = 0 ] || { echo "replay exit $rc"; cat "$RP_TMP/replay.out"; exit 1; }
	python3 - "$RP_TMP/r.json" "$(cat "$RP_TMP/replay.cpu")" >>"$RP_TMP/rounds" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
assert s["equal"] == s["replayed"], s
print("replay %.1f %d %s" % (s["replayed"] / s["elapsed_s"], s["replayed"], sys.argv[2]))
PY
}

: >"$RP_TMP/rounds"
wrk_round
wrk_rps=$(awk '{print $2}' "$RP_TMP/rounds")
# sized from wrk's first round, at least 100k so a round is not over in a
# blink, at most 400k so building the corpus stays quick
n=${BENCH_REQUESTS:-$(python3 -c "print(min(400000, max(100000, int(float('$wrk_rps') * $secs))))")}
python3 "$RP_SRCDIR/tests/integration/replay_corpus.py" --base "$T" --out "$RP_TMP/c.jsonl" \
	--count "$n" --conns "$conns" --span 60 $paths || exit 1
"$REPRISE" import --db "$RP_TMP/corpus" --create --no-masks "$RP_TMP/c.jsonl" >/dev/null || exit 1
rm -f "$RP_TMP/c.jsonl"
replay_round
i=1
while [ "$i" -lt "$rounds" ]; do
	wrk_round
	replay_round
	i=$((i + 1))
done
python3 - "$RP_TMP/rounds" "$conns" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
def pick(who):
    r = [x for x in rows if x[0] == who]
    rps = [float(x[1]) for x in r]
    cpu = sum(float(x[3]) + float(x[4]) for x in r) / sum(int(x[2]) for x in r) * 1e6
    return statistics.median(rps), rps, cpu
w, wl, wc = pick("wrk")
p, pl, pc = pick("replay")
print("request mix: 3 files in turn; %s connections; nginx 1 worker; one client thread each"
      % sys.argv[2])
print("wrk:            %8.0f req/s median of %s; CPU %.1f us/request" %
      (w, " ".join("%.0f" % x for x in wl), wc))
print("reprise replay: %8.0f req/s median of %s; CPU %.1f us/request, every response diffed"
      % (p, " ".join("%.0f" % x for x in pl), pc))
print("ratio:          %8.1f%%  (goal: at least 90%%)" % (100 * p / w))
PY
