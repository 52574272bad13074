# proxy_strict: requests that could smuggle a second request past the
# proxy, or that are too large, are refused with the right status (400,
# 414, 431, 501) and a log line saying why, never reach the upstream, and are
# recorded as failed anomalies; the proxy goes on serving.  Raw bytes are
# sent with python3 sockets, since curl would not send most of them.
. "$RP_SRCDIR/tests/lib.sh"
. "$RP_SRCDIR/tests/integration/proxy_lib.sh"

WWW=$RP_TMP/www
mkdir -p "$WWW"
printf 'ok\n' >"$WWW/ok.txt"
ORIGIN=$(rp_free_port)
rp_nginx "$WWW" "$ORIGIN" "access_log $RP_TMP/access.log;"
PX_METRICS=$(rp_free_port)
px_start "$RP_TMP/db" "$ORIGIN" --workers 2 --metrics "$PX_METRICS"

# refused WHAT STATUS REQUEST [LOG-PATTERN]: the proxy answers REQUEST with STATUS
n=0
refused() {
	local what=$1 want=$2 req=$3 pat=${4:-}
	local got
	got=$(printf "$req" | $RAWHTTP send "$PX_PORT" | head -1 | tr -d '\r')
	rp_expect_eq "$what" "HTTP/1.1 $want" "$(echo "$got" | cut -d' ' -f1-2)"
	n=$((n + 1))
	if [ -n "$pat" ]; then
		sleep 0.1
		rp_expect_grep "$what: logged" "$pat" "$PX_LOG"
	fi
}

refused "CL and TE" 400 'POST /smuggle-clte HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
	'event=bad_request status=400 .*reason="[^"]+" anomaly=cl-and-te'
refused "conflicting Content-Length" 400 'POST /smuggle-clcl HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde' \
	'anomaly=cl-conflict'
refused "Transfer-Encoding not ending in chunked" 400 'POST /smuggle-te HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'
refused "space before the colon" 400 'POST /smuggle-ws HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'
refused "obs-fold" 400 'GET /smuggle-fold HTTP/1.1\r\nHost: t\r\nX-A: a\r\n b\r\n\r\n'
refused "bare LF" 400 'GET /smuggle-lf HTTP/1.1\nHost: t\n\n'
refused "HTTP/1.1 without Host" 400 'GET /no-host HTTP/1.1\r\nAccept: */*\r\n\r\n' \
	'reason="HTTP/1.1 request without Host"'
refused "two Host fields" 400 'GET /two-hosts HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' 'reason="more than one Host field"'
refused "Connection naming Content-Length" 400 'POST /hop-cl HTTP/1.1\r\nHost: t\r\nConnection: close, Content-Length\r\nContent-Length: 3\r\n\r\nabc' \
	'reason="Connection names a framing field or Host"'
big=$(python3 -c 'print("X-Big: " + "a" * 70000)')
refused "header section over the limit" 431 "GET /big-head HTTP/1.1\r\nHost: t\r\n$big\r\n\r\n" \
	'event=bad_request status=431'
long=$(python3 -c 'print("/" + "a" * 9000)')
refused "request line over the limit" 414 "GET $long HTTP/1.1\r\nHost: t\r\n\r\n"
refused "CONNECT" 501 'CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n' 'status=501 .*reason="CONNECT'
refused "invalid chunk size mid-body" 400 'POST /bad-chunk HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' \
	'status=0 .*while="reading client request body"'
refused "HTTP/2 prior knowledge" 400 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n' 'note="HTTP/2 prior knowledge is not supported yet"'

rp_expect_eq "proxy still serves" ok "$(curl -s "http://127.0.0.1:$PX_PORT/ok.txt")"
rp_expect_eq "bad requests counted" "$n" "$(px_metric 'reprise_proxy_errors_total{kind="bad_request"}')"
# Only the request refused mid-body had its head forwarded.
if grep -E 'smuggle|no-host|two-hosts|hop-cl|big-head|aaaaaaaa|example.test' "$RP_TMP/access.log"; then
	rp_fail "a refused request reached the upstream"
else
	rp_ok "no refused request reached the upstream"
fi
px_stop
px_dump "$RP_TMP/db" "$RP_TMP/corpus.jsonl"
python3 - "$RP_TMP/corpus.jsonl" <<'PY' && rp_ok "refused requests recorded as failed anomalies" || rp_fail "refused records"
import json, sys
xs = [json.loads(l) for l in open(sys.argv[1])]
by = {x["target"]: x for x in xs}
for t, st in (("/smuggle-clte", 400), ("/smuggle-clcl", 400), ("/no-host", 400),
              ("/two-hosts", 400), ("/hop-cl", 400), ("/bad-chunk", 400)):
    x = by[t]
    assert x["status"] == st and "failed" in x["flag_names"] and "anomaly" in x["flag_names"], x
assert by["example.test:443"]["status"] == 501
assert by["/ok.txt"]["flags"] == 0
PY
rp_done
