#!/bin/sh
# replay_parity: a corpus recorded through `reprise proxy` in front of a real
# nginx replays at 100% parity and exits 0; after one file nginx serves
# changes, the replay exits 1 and the JSON report, the JUnit file and the
# summary name that route and the differing JSON path; a noise rule
# silences it (exit 0, listed as noise); a malformed rule file exits 2
# naming file, line and column; selection flags pick what they say; a target
# that is down exits 3 with a clear message.
. "$RP_SRCDIR/tests/lib.sh"

W="$RP_TMP/www"
mkdir -p "$W/api/users" "$W/static"
for i in 1 2 3; do
	printf '{"id":%d,"name":"user %d","plan":"basic","tags":["a","b"],"score":%d.5}\n' "$i" "$i" "$i" >"$W/api/users/$i.json"
done
printf '<html><body><h1>shop</h1>\n<p>hello</p>\n</body></html>\n' >"$W/index.html"
head -c 5000 /dev/urandom >"$W/static/logo.bin"
# large enough for nginx to gzip it
python3 -c 'import json; print(json.dumps({"items": [{"sku": i, "price": i * 1.25} for i in range(200)]}))' >"$W/api/catalog.json"

# nginx workers run unprivileged: let them read what they serve
chmod 755 "$RP_TMP"
chmod -R a+rX "$W"
port=$(rp_free_port)
pport=$(rp_free_port)
rp_nginx "$W" "$port" "gzip on; gzip_types application/json; gzip_min_length 100;" || exit 1

DB="$RP_TMP/corpus"
"$REPRISE" proxy --listen "127.0.0.1:$pport" --upstream "http://127.0.0.1:$port" --db "$DB" \
	--workers 1 2>"$RP_TMP/proxy.err" &
ppid=$!
rp_track "$ppid"
rp_wait_port "$pport" || { rp_fail "proxy did not start: $(cat "$RP_TMP/proxy.err")"; rp_done; }
P="http://127.0.0.1:$pport"
for round in 1 2; do
	curl -s -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
		"$P/api/users/1.json" "$P/api/users/2.json" "$P/api/users/3.json" "$P/index.html" ||
		rp_fail "curl through the proxy"
	curl -s --compressed -o /dev/null "$P/api/catalog.json" || rp_fail "curl gzip"
	curl -s -o /dev/null -o /dev/null "$P/static/logo.bin" "$P/missing" || rp_fail "curl"
done
kill -TERM "$ppid"
wait "$ppid"
rp_expect_eq "proxy stopped cleanly" 0 $?
n=$("$REPRISE" ls --db "$DB" --json | wc -l)
rp_expect_eq "14 exchanges recorded through the proxy" 14 "$n"
"$REPRISE" ls --db "$DB" --json | grep -q '"target":"/api/catalog.json"' || rp_fail "catalog recorded"

T="http://127.0.0.1:$port"
R="$RP_TMP/r.json"
rp_expect_exit "unchanged target: parity, exit 0" 0 \
	"$REPRISE" replay --db "$DB" --target "$T" --speed 20 --report "$R" --junit "$RP_TMP/r.xml"
rp_expect_grep "summary says 100% parity" 'parity 100.00%: 14 equal, 0 differ, 0 failed' "$RP_TMP/last.out"
python3 - "$R" <<'PY' || rp_fail "JSON report of the clean run"
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
assert s["replayed"] == 14 and s["equal"] == 14 and s["passed"] is True, s
assert r["diffs"] == [], r["diffs"]
routes = {x["route"]: x for x in r["routes"]}
assert routes["GET /api/users/{id}.json"]["requests"] == 6, routes
PY
rp_expect_grep "JUnit: no failures" 'tests="5" failures="0" errors="0"' "$RP_TMP/r.xml"

# one file changes: a regression on one route, at one JSON path
printf '{"id":2,"name":"user 2","plan":"premium","tags":["a","b"],"score":2.5}\n' >"$W/api/users/2.json"
rp_expect_exit "one changed file: exit 1" 1 \
	"$REPRISE" replay --db "$DB" --target "$T" --max --report "$R" --junit "$RP_TMP/r.xml"
rp_expect_grep "summary shows the parity drop" 'parity 85.71%: 12 equal, 2 differ' "$RP_TMP/last.out"
rp_expect_grep "summary names the route and path" 'GET /api/users/\{id\}\.json +6 +66.7%.*\$\.plan \(2\)' "$RP_TMP/last.out"
rp_expect_grep "summary shows the change" 'changed \$\.plan: "basic" -> "premium"' "$RP_TMP/last.out"
python3 - "$R" <<'PY' || rp_fail "JSON report names the route and the path"
import json, sys
r = json.load(open(sys.argv[1]))
d = r["diffs"]
assert len(d) == 2, d
for e in d:
    assert e["route"] == "GET /api/users/{id}.json" and e["target"] == "/api/users/2.json", e
    assert e["id"] > 0 and e["result"] == "differ", e
    assert [(i["path"], i["op"], i["expected"], i["actual"]) for i in e["items"]] == \
        [("$.plan", "changed", '"basic"', '"premium"')], e["items"]
assert r["summary"]["passed"] is False and r["summary"]["differ"] == 2
PY
rp_expect_grep "JUnit: one failing route" 'tests="5" failures="1"' "$RP_TMP/r.xml"
rp_expect_grep "JUnit failure carries the path" 'differs at \$\.plan in 2 exchanges' "$RP_TMP/r.xml"
rp_expect_exit "--fail-under 80 tolerates it" 0 \
	"$REPRISE" replay --db "$DB" --target "$T" --max --fail-under 80

# the same verdict however it is sent
rp_expect_exit "--no-order: exit 1" 1 "$REPRISE" replay --db "$DB" --target "$T" --max --no-order
rp_expect_grep "--no-order: same verdict" 'parity 85.71%: 12 equal, 2 differ' "$RP_TMP/last.out"
rp_expect_exit "--rate: exit 1" 1 "$REPRISE" replay --db "$DB" --target "$T" --rate 200 \
	--host keep --set-header 'X-Replay: 1' --drop-header Accept
rp_expect_grep "--rate: same verdict" 'parity 85.71%: 12 equal, 2 differ' "$RP_TMP/last.out"
# a path rewrite reaches the target: user 2's requests now fetch user 3
rp_expect_exit "--rewrite-path: exit 1" 1 "$REPRISE" replay --db "$DB" --target "$T" --max \
	--rewrite-path '^/api/users/2\.json$=>/api/users/3.json' --report "$R"
python3 - "$R" <<'PY' || rp_fail "--rewrite-path: user 2 answered with user 3"
import json, sys
d = json.load(open(sys.argv[1]))["diffs"]
paths = sorted({i["path"] for e in d for i in e["items"]})
assert paths == ["$.id", "$.name", "$.score"], paths
PY

# a target that accepts but never answers: each request is a timeout result
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(64); print(s.getsockname()[1], flush=True)
held = []
end = time.time() + 30
s.settimeout(0.2)
while time.time() < end:
    try: held.append(s.accept()[0])
    except OSError: pass
' >"$RP_TMP/mute.port" &
rp_track $!
i=0; while [ ! -s "$RP_TMP/mute.port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
mute=$(cat "$RP_TMP/mute.port")
rp_expect_exit "silent target: exit 1" 1 "$REPRISE" replay --db "$DB" --target "http://127.0.0.1:$mute" \
	--max --concurrency 14 --timeout 300ms --limit 4 --report "$R"
rp_expect_grep "timeouts are results, not retries" 'parity 0.00%: 0 equal, 0 differ, 4 failed' "$RP_TMP/last.out"
rp_expect_grep "the failure is named" 'failures: 4 timeout; first: exchange [0-9]+ GET /[^ ]*: timeout: no complete response within the timeout' "$RP_TMP/last.out"

# noise rules
printf '# plans are being migrated\nignore json $.plan\n' >"$RP_TMP/ok.noise"
rp_expect_exit "noise rule silences it: exit 0" 0 \
	"$REPRISE" replay --db "$DB" --target "$T" --max --noise "$RP_TMP/ok.noise"
rp_expect_grep "silenced difference listed as noise" 'noise ignored: GET /api/users/\{id\}\.json \$\.plan \(2\)' "$RP_TMP/last.out"
printf 'ignore json $.plan\ntolerance json $.price abc\n' >"$RP_TMP/bad.noise"
rp_expect_exit "malformed noise file: exit 2" 2 \
	"$REPRISE" replay --db "$DB" --target "$T" --noise "$RP_TMP/bad.noise"
rp_expect_grep "error names file, line and column" "bad.noise:2:24: expected a non-negative number" "$RP_TMP/last.err"

# selection
sel() { "$REPRISE" replay --db "$DB" --target "$T" --max --report "$R" "$@" >/dev/null 2>&1
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["replayed"])' "$R"; }
rp_expect_eq "--filter" 6 "$(sel --filter 'path=/api/users/*')"
rp_expect_eq "--limit" 3 "$(sel --limit 3)"
rp_expect_eq "--id" 1 "$(sel --id 4)"
first=$("$REPRISE" ls --db "$DB" --json | head -1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["conn"])')
inconn=$("$REPRISE" ls --db "$DB" --json | grep -c "\"conn\":$first,")
rp_expect_eq "--conn" "$inconn" "$(sel --conn "$first")"
rp_expect_eq "--to +0s selects nothing" 0 "$(sel --to +0s)"
a=$(sel --sample 50)
rp_expect_eq "--sample is deterministic" "$a" "$(sel --sample 50)"
rp_expect_eq "--sample 100 is everything" 14 "$(sel --sample 100)"

# the target is down
dead=$(rp_free_port)
rp_expect_exit "target down: exit 3" 3 "$REPRISE" replay --db "$DB" --target "http://127.0.0.1:$dead"
rp_expect_grep "clear message" "target 127.0.0.1:$dead unreachable: connect to 127.0.0.1 port $dead: Connection refused" "$RP_TMP/last.err"
rp_expect_exit "usage: two schedules" 2 "$REPRISE" replay --db "$DB" --target "$T" --max --rate 5
rp_expect_exit "usage: https target" 2 "$REPRISE" replay --db "$DB" --target "https://127.0.0.1:1"
rp_done
