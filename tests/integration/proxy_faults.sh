# proxy_faults: what the proxy does when a side misbehaves — the upstream
# is down (502 with a log line saying why), the upstream accepts and never
# answers (504 after --upstream-timeout, memory flat across many stalled
# requests), a client resets mid-body (the proxy goes on serving, the
# exchange is recorded as failed), and a slow client reading a large body
# (backpressure keeps the proxy's memory bounded while the body passes
# intact).
. "$RP_SRCDIR/tests/lib.sh"
. "$RP_SRCDIR/tests/integration/proxy_lib.sh"
# Under AddressSanitizer freed memory waits in a quarantine (256 MB by
# default), which would read as growth below; keep it small.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"

WWW=$RP_TMP/www
mkdir -p "$WWW"
printf 'ok\n' >"$WWW/ok.txt"
head -c $((48 * 1024 * 1024)) /dev/urandom >"$WWW/big.bin"
ORIGIN=$(rp_free_port)
rp_nginx "$WWW" "$ORIGIN"

# --- upstream down: 502 and a log line saying why
DOWN=$(rp_free_port)
px_start "$RP_TMP/db-down" "$DOWN" --workers 1
rp_expect_eq "upstream down: 502" 502 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PX_PORT/x")"
sleep 0.2
rp_expect_grep "upstream down: logged with the reason" \
	'event=upstream_connect_failed status=502 .*while="connecting to upstream".*err="Connection refused"' "$PX_LOG"
px_stop
px_dump "$RP_TMP/db-down" "$RP_TMP/down.jsonl"
rp_expect_grep "upstream down: recorded as failed with its 502" '"flag_names":"[^"]*failed.*"status":502,"reason":"Bad Gateway"' \
	"$RP_TMP/down.jsonl"

# --- upstream stalls: 504 after the timeout, memory flat
STALL=$(rp_free_port)
$RAWHTTP stall "$STALL" &
rp_track $!
rp_wait_port "$STALL"
px_start "$RP_TMP/db-stall" "$STALL" --workers 1 --upstream-timeout 1s
t0=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PX_PORT/slow")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
rp_expect_eq "upstream stall: 504" 504 "$code"
if [ "$ms" -ge 900 ] && [ "$ms" -lt 5000 ]; then rp_ok "504 after the 1 s timeout (${ms} ms)"; else
	rp_fail "504 after ${ms} ms, wanted about 1000"; fi
rp_expect_grep "upstream stall: logged" 'event=upstream_timeout status=504 .*while="waiting for upstream response header"' "$PX_LOG"
rss0=$(px_rss "$PX_PID")
for round in 1 2 3; do
	seq 100 | xargs -P 50 -I{} curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$PX_PORT/s{}" \
		>>"$RP_TMP/stall.codes"
done
rss1=$(px_rss "$PX_PID")
rp_expect_eq "300 stalled requests all answered 504" "300" "$(grep -c '^504$' "$RP_TMP/stall.codes")"
if [ $((rss1 - rss0)) -lt 8192 ]; then rp_ok "memory flat across stalled requests (${rss0} -> ${rss1} KB)"; else
	rp_fail "memory grew from ${rss0} to ${rss1} KB across stalled requests"; fi
px_stop

# --- a pooled connection closed by the upstream as a request goes out:
# a bodiless request is sent again, once, on a new connection
FLAKY=$(rp_free_port)
$RAWHTTP flaky "$FLAKY" &
rp_track $!
rp_wait_port "$FLAKY"
PX_METRICS=$(rp_free_port)
px_start "$RP_TMP/db-flaky" "$FLAKY" --workers 1 --metrics "$PX_METRICS"
out=$(curl -s "http://127.0.0.1:$PX_PORT/a" "http://127.0.0.1:$PX_PORT/b" "http://127.0.0.1:$PX_PORT/c")
rp_expect_eq "stale pooled connection: every request answered" "first first first " "$(echo $out) "
rp_expect_eq "stale pooled connection: resent twice" 2 "$(px_metric reprise_proxy_upstream_retries_total)"
px_stop

# --- an upstream whose bodies end with the connection (HTTP/1.0, no length)
EOFS=$(rp_free_port)
$RAWHTTP eof "$EOFS" &
rp_track $!
rp_wait_port "$EOFS"
px_start "$RP_TMP/db-eof" "$EOFS" --workers 1
curl -s -D "$RP_TMP/eof.hdr" -o "$RP_TMP/eof.body" "http://127.0.0.1:$PX_PORT/e"
rp_expect_eq "close-delimited body passes whole" 14000 "$(wc -c <"$RP_TMP/eof.body")"
rp_expect_grep "client told the connection closes" '^Connection: close' "$RP_TMP/eof.hdr"
px_stop
px_dump "$RP_TMP/db-eof" "$RP_TMP/eof.jsonl"
rp_expect_grep "close-delimited exchange recorded complete" '"flag_names":"complete".*"resp_body_len":14000' "$RP_TMP/eof.jsonl"

# --- a client resets mid-body; the proxy goes on
px_start "$RP_TMP/db-abort" "$ORIGIN" --workers 1 --max-body 1M
got=$($RAWHTTP abort "$PX_PORT" /big.bin 2000000)
[ "${got:-0}" -ge 2000000 ] && rp_ok "client read $got bytes then reset" || rp_fail "abort client read ${got:-0}"
sleep 0.3
rp_expect_eq "proxy still serves after a client reset" "ok" "$(curl -s "http://127.0.0.1:$PX_PORT/ok.txt")"
curl -s "http://127.0.0.1:$PX_PORT/big.bin" | cmp -s - "$WWW/big.bin" &&
	rp_ok "and serves the large body whole again" || rp_fail "large body after reset differs"
px_stop
px_dump "$RP_TMP/db-abort" "$RP_TMP/abort.jsonl"
python3 - "$RP_TMP/abort.jsonl" <<'PY' && rp_ok "reset exchange recorded as failed, the next ones complete" || rp_fail "abort records"
import json, sys
xs = [json.loads(l) for l in open(sys.argv[1])]
big = [x for x in xs if x["target"] == "/big.bin"]
assert len(big) == 2, big
assert "failed" in big[0]["flag_names"] and big[0]["status"] == 200, big[0]
assert big[1]["flag_names"] == "resp-truncated" and big[1]["resp_wire_len"] == 48 << 20, big[1]
assert [x["status"] for x in xs if x["target"] == "/ok.txt"] == [200]
PY

# --- a slow client: the body passes whole, the proxy's memory stays bounded
px_start "$RP_TMP/db-slow" "$ORIGIN" --workers 1 --max-body 256K
curl -s -o /dev/null "http://127.0.0.1:$PX_PORT/ok.txt"
rss0=$(px_rss "$PX_PID")
curl -s --limit-rate 16M -o "$RP_TMP/slow.body" "http://127.0.0.1:$PX_PORT/big.bin" &
cpid=$!
peak=$rss0
while kill -0 $cpid 2>/dev/null; do
	r=$(px_rss "$PX_PID"); [ "$r" -gt "$peak" ] && peak=$r
	sleep 0.1
done
wait $cpid
cmp -s "$RP_TMP/slow.body" "$WWW/big.bin" && rp_ok "48 MB to a 16 MB/s client arrives whole" ||
	rp_fail "slow client body differs"
if [ $((peak - rss0)) -lt 16384 ]; then rp_ok "memory bounded under a slow client (peak +$((peak - rss0)) KB for 48 MB)"; else
	rp_fail "memory grew by $((peak - rss0)) KB while 48 MB passed to a slow client"; fi
px_stop
rp_done
