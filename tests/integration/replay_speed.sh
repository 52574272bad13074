#!/bin/sh
# replay_speed: timing fidelity of --speed.  A session recorded through
# `reprise proxy` over five seconds (one request a second, each on a fresh
# connection) replays with --speed 1 in the recorded span ± 5%, and with
# --speed 2 in half of it ± 5%.  Measured on the wall clock around the whole
# command, less the command's fixed cost (start-up, corpus scan, exit: the
# quickest of three --speed 1000 runs of the same corpus), which sanitizers and a
# loaded machine stretch; the report's own elapsed time must agree too.
. "$RP_SRCDIR/tests/lib.sh"

W="$RP_TMP/www"
mkdir -p "$W"
printf '{"ok":true}\n' >"$W/ping.json"
chmod 755 "$RP_TMP"
chmod -R a+rX "$W"
port=$(rp_free_port)
pport=$(rp_free_port)
rp_nginx "$W" "$port" || exit 1
DB="$RP_TMP/corpus"
"$REPRISE" proxy --listen "127.0.0.1:$pport" --upstream "http://127.0.0.1:$port" --db "$DB" \
	--workers 1 2>"$RP_TMP/proxy.err" &
ppid=$!
rp_track "$ppid"
rp_wait_port "$pport" || { rp_fail "proxy did not start"; rp_done; }
for i in 0 1 2 3 4 5; do
	curl -s -o /dev/null "http://127.0.0.1:$pport/ping.json?n=$i" || rp_fail "curl $i"
	[ "$i" = 5 ] || sleep 1
done
kill -TERM "$ppid"
wait "$ppid"
"$REPRISE" ls --db "$DB" --json >"$RP_TMP/ls.json"
rp_expect_eq "6 exchanges recorded" 6 "$(wc -l <"$RP_TMP/ls.json")"
span=$(python3 -c '
import json, sys
s = [json.loads(l)["start_ns"] for l in open(sys.argv[1])]
print((max(s) - min(s)) / 1e9)' "$RP_TMP/ls.json")
echo "recorded span: $span s"

wall() { # SPEED: prints the ns the command took
	t0=$(date +%s%N)
	"$REPRISE" replay --db "$DB" --target "http://127.0.0.1:$port" --speed "$1" >/dev/null 2>&1
	echo $(( $(date +%s%N) - t0 ))
}
# the least of three runs: the fixed cost, without the neighbours' noise
base=$(wall 1000)
for i in 1 2; do b=$(wall 1000); [ "$b" -lt "$base" ] && base=$b; done
echo "fixed cost of a replay command: $((base / 1000000)) ms"

check() { # SPEED
	t0=$(date +%s%N)
	"$REPRISE" replay --db "$DB" --target "http://127.0.0.1:$port" --speed "$1" \
		--report "$RP_TMP/r.json" >"$RP_TMP/out" 2>&1
	rc=$?
	t1=$(date +%s%N)
	rp_expect_eq "--speed $1 exits 0" 0 "$rc"
	python3 - "$span" "$1" "$t0" "$((t1 - base))" "$RP_TMP/r.json" <<'PY' && rp_ok "--speed $1 within 5% of the scaled span" || rp_fail "--speed $1 timing"
import json, sys
span, speed, t0, t1 = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
want = span / speed
took = (t1 - t0) / 1e9
s = json.load(open(sys.argv[5]))["summary"]
print("speed %s: wanted %.3f s, took %.3f s beyond the fixed cost (report: %.3f s, lag p99 %.2f ms)" %
      (speed, want, took, s["elapsed_s"], s["lag_ms"]["p99"]))
assert abs(took - want) <= 0.05 * want, (took, want)
assert abs(s["elapsed_s"] - want) <= 0.05 * want, (s["elapsed_s"], want)
assert s["mode"] == "speed" and s["equal"] == 6
PY
}
check 1
check 2
rp_done
