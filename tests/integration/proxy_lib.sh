# tests/integration/proxy_lib.sh — helpers shared by the proxy_*.sh tests,
# sourced after tests/lib.sh.  Starts `reprise proxy` under our pid, reads
# its memory from /proc, dumps its corpus with the corpus_dump helper.

RAWHTTP="python3 $RP_SRCDIR/tests/integration/rawhttp.py"
CORPUS_DUMP="$RP_BUILDDIR/tests/integration/corpus_dump"
# nginx workers may run as nobody: let them read what we serve
chmod 755 "$RP_TMP"

for t in nginx curl python3; do
	command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
done

# px_start DB UPSTREAM_PORT [FLAGS...]: starts the proxy on a free port with
# corpus DB; sets PX_PORT, PX_PID, PX_LOG.
px_start() {
	local db=$1 up=$2; shift 2
	PX_PORT=$(rp_free_port)
	PX_LOG=$RP_TMP/proxy-$PX_PORT.log
	"$REPRISE" proxy --listen 127.0.0.1:$PX_PORT --upstream http://127.0.0.1:$up \
		--db "$db" --no-masks "$@" 2>"$PX_LOG" &
	PX_PID=$!
	rp_track $PX_PID
	rp_wait_port "$PX_PORT" || { echo "proxy did not start: $(cat "$PX_LOG")" >&2; exit 1; }
}

# px_stop: SIGTERM, wait; sets PX_RC and checks that the proxy stopped
# cleanly (exit 0, no sanitizer report in its log)
px_stop() {
	kill -TERM "$PX_PID" 2>/dev/null
	wait "$PX_PID"
	PX_RC=$?
	rp_expect_eq "proxy on :$PX_PORT stopped cleanly" 0 "$PX_RC"
	if grep -qE 'Sanitizer|runtime error' "$PX_LOG"; then
		rp_fail "sanitizer report from the proxy: $(grep -m3 -E 'Sanitizer|runtime error' "$PX_LOG")"
	fi
}

# px_rss PID: resident set in KB
px_rss() { awk '/^VmRSS/ { print $2 }' /proc/"$1"/status; }

# px_metric NAME_AND_LABELS: a value from the metrics page at $PX_METRICS
px_metric() {
	curl -s "http://127.0.0.1:$PX_METRICS/metrics" | awk -v k="$1" '$1 == k { print $2 }'
}

# px_dump DB OUT: the corpus as JSON lines (exit status of corpus_dump)
px_dump() { "$CORPUS_DUMP" "$1" >"$2"; }
