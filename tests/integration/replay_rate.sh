#!/bin/sh
# replay_rate: --rate is open loop and holds its rate.  20000 exchanges over
# 20 recorded connections replay at --rate 2000 against a real nginx: the
# sends span 10 s and their rate is 2000/s within 2%, with no failures.
. "$RP_SRCDIR/tests/lib.sh"

W="$RP_TMP/www"
mkdir -p "$W/api"
printf '{"id":1,"name":"a"}\n' >"$W/api/a.json"
printf '<p>b</p>\n' >"$W/b.html"
chmod 755 "$RP_TMP"
chmod -R a+rX "$W"
port=$(rp_free_port)
rp_nginx "$W" "$port" "keepalive_requests 100000;" || exit 1
python3 "$RP_SRCDIR/tests/integration/replay_corpus.py" --base "http://127.0.0.1:$port" \
	--out "$RP_TMP/c.jsonl" --count 20000 --conns 20 --span 60 /api/a.json /b.html ||
	rp_fail "corpus"
"$REPRISE" import --db "$RP_TMP/corpus" --create "$RP_TMP/c.jsonl" >/dev/null || rp_fail "import"
rp_expect_exit "--rate 2000 exits 0" 0 "$REPRISE" replay --db "$RP_TMP/corpus" \
	--target "http://127.0.0.1:$port" --rate 2000 --report "$RP_TMP/r.json"
python3 - "$RP_TMP/r.json" <<'PY' && rp_ok "rate held within 2% over 10 s" || rp_fail "rate not held"
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
print("sent %d, send rate %.1f/s, elapsed %.3f s, lag p50 %.3f ms p99 %.3f ms, failures %s" %
      (s["replayed"], s["send_rate"], s["elapsed_s"], s["lag_ms"]["p50"], s["lag_ms"]["p99"],
       s["failures"]))
assert s["replayed"] == 20000 and s["equal"] == 20000, s
assert abs(s["send_rate"] - 2000) <= 40, s["send_rate"]
assert 9.8 <= s["elapsed_s"] <= 10.3, s["elapsed_s"]
PY
rp_done
