# proxy_recording: recording fails open and survives the worst.  With the
# recorder queue forced tiny (--record-queue 1), wrk traffic through the
# proxy is untouched (every answer 200, no socket errors) while the drops are
# counted on the metrics page and in the summary.  A proxy killed with
# SIGKILL under load leaves a corpus that opens, and whose every committed
# record decodes.  SIGTERM lets an in-flight download finish (and closes the
# listener at once); past --shutdown-timeout what is left is cut and
# recorded as failed.  The metrics page is Prometheus text on loopback.
. "$RP_SRCDIR/tests/lib.sh"
. "$RP_SRCDIR/tests/integration/proxy_lib.sh"
command -v wrk >/dev/null || { echo "skip: wrk not installed"; exit 77; }

WWW=$RP_TMP/www
mkdir -p "$WWW/slow"
printf 'hello\n' >"$WWW/small.txt"
head -c 16384 /dev/urandom >"$WWW/16k.bin"
head -c $((4 * 1024 * 1024)) /dev/urandom >"$WWW/slow/4m.bin"
ORIGIN=$(rp_free_port)
rp_nginx "$WWW" "$ORIGIN" 'location /slow/ { limit_rate 2m; }'

# --- the recorder queue forced full: traffic unaffected, drops counted
PX_METRICS=$(rp_free_port)
px_start "$RP_TMP/db-full" "$ORIGIN" --workers 2 --record-queue 1 --metrics "$PX_METRICS"
wrk -t2 -c32 -d2s "http://127.0.0.1:$PX_PORT/16k.bin" >"$RP_TMP/wrk.out" 2>&1
reqs=$(awk '/requests in/ { print $1 }' "$RP_TMP/wrk.out")
if [ "${reqs:-0}" -gt 1000 ] && ! grep -qE 'Non-2xx|Socket errors' "$RP_TMP/wrk.out"; then
	rp_ok "queue full: $reqs requests, all 200, no socket errors"
else
	rp_fail "queue full: traffic affected: $(cat "$RP_TMP/wrk.out")"
fi
sleep 0.3 # the recorder takes what is queued within a few ms
dropped=$(px_metric 'reprise_recorder_dropped_total{reason="queue_full"}')
recorded=$(px_metric 'reprise_recorder_recorded_total')
ok2xx=$(px_metric 'reprise_proxy_responses_total{class="2xx"}')
[ "${dropped:-0}" -gt 0 ] && rp_ok "drops counted on the metrics page ($dropped dropped, $recorded recorded)" ||
	rp_fail "no queue_full drops counted: $(curl -s "http://127.0.0.1:$PX_METRICS/metrics" | grep recorder)"
rp_expect_eq "every 2xx either recorded or dropped" "$ok2xx" "$((dropped + recorded))"
rp_expect_eq "histogram counts every upstream answer" "$ok2xx" \
	"$(px_metric 'reprise_proxy_upstream_latency_seconds_bucket{le="+Inf"}')"
curl -s "http://127.0.0.1:$PX_METRICS/metrics" >"$RP_TMP/metrics.txt"
for m in reprise_proxy_connections_active reprise_recorder_queue_depth reprise_store_bytes_total \
	'reprise_proxy_errors_total{kind="upstream_timeout"}' 'reprise_proxy_upstream_latency_seconds_sum'; do
	grep -qF "$m " "$RP_TMP/metrics.txt" && rp_ok "metrics has $m" || rp_fail "metrics lacks $m"
done
grep -q '^# TYPE reprise_proxy_upstream_latency_seconds histogram' "$RP_TMP/metrics.txt" &&
	rp_ok "latency is a Prometheus histogram" || rp_fail "no histogram TYPE line"
px_stop
rp_expect_eq "proxy exits 0" 0 "$PX_RC"
rp_expect_grep "summary reports the drops" "dropped [1-9][0-9]* \(queue_full=[1-9]" "$PX_LOG"
rp_expect_grep "drops logged, rate-limited" 'component=recorder event=drop reason=queue_full' "$PX_LOG"
[ "$(grep -c 'event=drop reason=queue_full' "$PX_LOG")" -le 2 ] && rp_ok "drop log line not repeated per exchange" ||
	rp_fail "drop log repeated: $(grep -c 'event=drop' "$PX_LOG") lines"
px_dump "$RP_TMP/db-full" "$RP_TMP/full.jsonl"
rp_expect_eq "recorded count matches the corpus" "$recorded" "$(wc -l <"$RP_TMP/full.jsonl")"

# --- SIGKILL under load: the corpus opens and every record decodes
px_start "$RP_TMP/db-kill" "$ORIGIN" --workers 2
wrk -t2 -c16 -d4s "http://127.0.0.1:$PX_PORT/small.txt" >/dev/null 2>&1 &
wpid=$!
sleep 2
kill -9 "$PX_PID"
wait "$PX_PID" 2>/dev/null
wait $wpid
px_dump "$RP_TMP/db-kill" "$RP_TMP/kill.jsonl"
rp_expect_eq "corpus after SIGKILL: every record decodes" 0 $?
n=$(wc -l <"$RP_TMP/kill.jsonl")
[ "$n" -gt 100 ] && rp_ok "corpus after SIGKILL holds $n exchanges" || rp_fail "only $n exchanges after SIGKILL"
grep -q '"error"' "$RP_TMP/kill.jsonl" && rp_fail "undecodable record after SIGKILL" || true

# --- SIGTERM: the in-flight download finishes; nothing new is accepted
px_start "$RP_TMP/db-term" "$ORIGIN" --workers 2
curl -s -o "$RP_TMP/slow.body" "http://127.0.0.1:$PX_PORT/slow/4m.bin" &
cpid=$!
sleep 0.5
kill -TERM "$PX_PID"
sleep 0.3
curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PX_PORT/small.txt"
rp_expect_eq "no new connection after SIGTERM (curl exit 7)" 7 $?
wait $cpid
rp_expect_eq "in-flight download completed" 0 $?
cmp -s "$RP_TMP/slow.body" "$WWW/slow/4m.bin" && rp_ok "in-flight body whole" || rp_fail "in-flight body differs"
wait "$PX_PID"
rp_expect_eq "proxy exits 0 after draining" 0 $?
px_dump "$RP_TMP/db-term" "$RP_TMP/term.jsonl"
rp_expect_grep "drained exchange recorded complete" '"flag_names":"complete".*"target":"/slow/4m.bin"' "$RP_TMP/term.jsonl"

# --- past the shutdown deadline what is left is cut and recorded as failed
px_start "$RP_TMP/db-cut" "$ORIGIN" --workers 1 --shutdown-timeout 500ms
curl -s -o "$RP_TMP/cut.body" "http://127.0.0.1:$PX_PORT/slow/4m.bin" &
cpid=$!
sleep 0.3
t0=$(date +%s%N)
kill -TERM "$PX_PID"
wait "$PX_PID"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait $cpid
rp_expect_eq "proxy exits 0 at the deadline" 0 "$rc"
[ "$ms" -lt 1500 ] && rp_ok "stopped at the deadline (${ms} ms)" || rp_fail "took ${ms} ms to stop"
rp_expect_grep "deadline logged" 'event=shutdown_deadline ended=1' "$PX_LOG"
px_dump "$RP_TMP/db-cut" "$RP_TMP/cut.jsonl"
rp_expect_grep "cut exchange recorded as failed" '"flag_names":"failed".*"target":"/slow/4m.bin"' "$RP_TMP/cut.jsonl"
rp_done
