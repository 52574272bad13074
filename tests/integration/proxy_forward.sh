# proxy_forward: responses through `reprise proxy` are the ones the origin
# sends directly — chunked gzip (framing byte for byte), a 50 MB body, HEAD,
# 304, 404, POST with JSON and form bodies, 100-continue, an HTTP/1.0
# client, pipelined requests on one raw connection — and every one of them
# is in the corpus afterwards with the right method, target, status,
# bodies (decoded), flags, timings, endpoints and position on its
# connection.  The origin is a real nginx on loopback.
. "$RP_SRCDIR/tests/lib.sh"
. "$RP_SRCDIR/tests/integration/proxy_lib.sh"

WWW=$RP_TMP/www
mkdir -p "$WWW"
printf 'hello, proxy\n' >"$WWW/small.txt"
python3 -c '
import json
print(json.dumps([{"id": i, "name": "user%d" % i, "tags": ["a", "b", "c"]} for i in range(400)]))
' >"$WWW/data.json"
head -c $((50 * 1024 * 1024)) /dev/urandom >"$WWW/big.bin"
head -c $((20 * 1024 * 1024)) "$WWW/big.bin" >"$WWW/big20.bin"
head -c 3000 /dev/urandom | base64 -w0 >"$RP_TMP/continue.txt"
printf '{"user":"ann","items":[1,2,3]}' >"$RP_TMP/post.json"

ORIGIN=$(rp_free_port)
rp_nginx "$WWW" "$ORIGIN" '
    gzip on; gzip_types text/plain application/json; gzip_min_length 1;
    client_max_body_size 0;
    location = /post { return 200 "posted\n"; }
    location = /form { return 201 "form\n"; }'
px_start "$RP_TMP/db" "$ORIGIN" --max-body 1M --workers 2

D=http://127.0.0.1:$ORIGIN
P=http://127.0.0.1:$PX_PORT

# fetch NAME URL [CURL ARGS]: body to $RP_TMP/NAME.body, headers to .hdr
fetch() {
	local name=$1 url=$2; shift 2
	rm -f "$RP_TMP/$name.body" "$RP_TMP/$name.hdr"
	touch "$RP_TMP/$name.body"
	curl -s -o "$RP_TMP/$name.body" -D "$RP_TMP/$name.hdr" "$@" "$url"
}

# end-to-end headers, in order: hop-by-hop fields and Date left out
e2e() { grep -viE '^(date|connection|keep-alive|via):' "$1" | tr -d '\r'; }

# same WHAT PATH [CURL ARGS]: direct and proxied answers are identical
same() {
	local what=$1 path=$2; shift 2
	fetch direct "$D$path" "$@"
	fetch proxied "$P$path" "$@"
	case " $* " in *" -I "*) # HEAD: curl writes the head as the body
		e2e "$RP_TMP/direct.body" >"$RP_TMP/direct.body2"; mv "$RP_TMP/direct.body2" "$RP_TMP/direct.body"
		e2e "$RP_TMP/proxied.body" >"$RP_TMP/proxied.body2"; mv "$RP_TMP/proxied.body2" "$RP_TMP/proxied.body";;
	esac
	if cmp -s "$RP_TMP/direct.body" "$RP_TMP/proxied.body" &&
	   [ "$(e2e "$RP_TMP/direct.hdr")" = "$(e2e "$RP_TMP/proxied.hdr")" ]; then
		rp_ok "$what: identical ($(head -1 "$RP_TMP/proxied.hdr" | tr -d '\r'), $(wc -c <"$RP_TMP/proxied.body") bytes)"
	else
		rp_fail "$what: differs"
		diff <(e2e "$RP_TMP/direct.hdr") <(e2e "$RP_TMP/proxied.hdr") >&2
	fi
}

same "small GET" /small.txt
same "gzip, chunked" /data.json -H 'Accept-Encoding: gzip'
rp_expect_grep "gzip answer is chunked" '^Transfer-Encoding: chunked' "$RP_TMP/proxied.hdr"
same "50 MB body" /big.bin
same "HEAD" /big.bin -I
same "304" /small.txt -H "If-None-Match: $(awk -F': ' 'tolower($1) == "etag" { print $2 }' \
	<(curl -s -D - -o /dev/null "$D/small.txt") | tr -d '\r')"
rp_expect_grep "304 status" '^HTTP/1.1 304' "$RP_TMP/proxied.hdr"
same "404" /missing
same "POST JSON" /post -H 'Content-Type: application/json' --data-binary @"$RP_TMP/post.json"
same "POST form" /form --data-urlencode 'name=Ann_Example' --data-urlencode 'note=a&b=c'
# a 20 MB upload: nginx answers at once and discards the body as it comes;
# the proxy still forwards it all (the upstream connection stays usable)
same "POST 20 MB, answered before its body" /post --data-binary @"$WWW/big20.bin"
same "HTTP/1.0 client" /data.json --http1.0
# The proxy speaks HTTP/1.1 upstream, so nginx compresses for it (it does not
# for 1.0) and chunks; the 1.0 client gets the data unchunked, then a close.
fetch proxied "$P/data.json" --http1.0 -H 'Accept-Encoding: gzip'
if ! grep -qi '^transfer-encoding' "$RP_TMP/proxied.hdr" && grep -qi '^connection: close' "$RP_TMP/proxied.hdr" &&
   gzip -dc <"$RP_TMP/proxied.body" | cmp -s - "$WWW/data.json"; then
	rp_ok "HTTP/1.0 client gets a chunked gzip answer de-chunked"
else
	rp_fail "HTTP/1.0 client, chunked answer: $(cat "$RP_TMP/proxied.hdr")"
fi

# the chunked framing itself passes byte for byte
REQ='GET /data.json HTTP/1.1\r\nHost: t\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n'
printf "$REQ" | $RAWHTTP send "$ORIGIN" | $RAWHTTP split GET >"$RP_TMP/raw.direct"
printf "$REQ" | $RAWHTTP send "$PX_PORT" | $RAWHTTP split GET >"$RP_TMP/raw.proxied"
rp_expect_eq "chunked framing byte for byte" "$(cat "$RP_TMP/raw.direct")" "$(cat "$RP_TMP/raw.proxied")"

# 100-continue: the interim response reaches the client, then the answer
curl -sv -o "$RP_TMP/cont.body" -H 'Expect: 100-continue' --expect100-timeout 10 \
	--data-binary @"$RP_TMP/continue.txt" "$P/post" 2>"$RP_TMP/cont.err"
rp_expect_grep "100 Continue through the proxy" '^< HTTP/1.1 100 Continue' "$RP_TMP/cont.err"
rp_expect_eq "answer after 100-continue" "posted" "$(cat "$RP_TMP/cont.body")"

# pipelined requests on one connection, answered in order
PIPE='GET /small.txt HTTP/1.1\r\nHost: t\r\n\r\nHEAD /big.bin HTTP/1.1\r\nHost: t\r\n\r\n'
PIPE=$PIPE'GET /missing HTTP/1.1\r\nHost: t\r\n\r\nPOST /post HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello'
PIPE=$PIPE'GET /data.json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n'
printf "$PIPE" | $RAWHTTP send "$ORIGIN" | $RAWHTTP split GET HEAD GET POST GET >"$RP_TMP/pipe.direct"
printf "$PIPE" | $RAWHTTP send "$PX_PORT" | $RAWHTTP split GET HEAD GET POST GET >"$RP_TMP/pipe.proxied"
rp_expect_eq "pipelined answers" "$(cat "$RP_TMP/pipe.direct")" "$(cat "$RP_TMP/pipe.proxied")"
rp_expect_eq "five pipelined answers" 5 "$(wc -l <"$RP_TMP/pipe.proxied")"

# IPv6 loopback, when the machine has it
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	P6=$(rp_free_port)
	"$REPRISE" proxy --listen "[::1]:$P6" --upstream "http://127.0.0.1:$ORIGIN" --db "$RP_TMP/db6" \
		--no-masks --workers 1 2>"$RP_TMP/p6.log" &
	P6PID=$!
	rp_track $P6PID
	for i in $(seq 50); do curl -s -g -o /dev/null "http://[::1]:$P6/" && break; sleep 0.1; done
	rp_expect_eq "IPv6 listener" "hello, proxy" "$(curl -s -g "http://[::1]:$P6/small.txt")"
	kill -TERM $P6PID; wait $P6PID
	"$CORPUS_DUMP" "$RP_TMP/db6" >"$RP_TMP/db6.jsonl"
	rp_expect_grep "IPv6 client endpoint recorded" '"client":"\[::1\]:[0-9]+"' "$RP_TMP/db6.jsonl"
else
	echo "note: no IPv6 loopback here; IPv6 listener not tested"
fi

px_stop
rp_expect_eq "proxy exits 0 on SIGTERM" 0 "$PX_RC"
rp_expect_grep "summary says what was recorded" 'recorded [0-9]+ exchanges .* dropped 0' "$PX_LOG"

px_dump "$RP_TMP/db" "$RP_TMP/corpus.jsonl"
rp_expect_eq "every record decodes" 0 $?
"$CORPUS_DUMP" "$RP_TMP/db" --conns >"$RP_TMP/conns.jsonl"

python3 - "$RP_TMP" "$ORIGIN" <<'PY' || rp_fail "corpus checks"
import hashlib, json, sys
tmp, origin = sys.argv[1], sys.argv[2]
xs = [json.loads(l) for l in open(tmp + "/corpus.jsonl")]
conns = {c["conn_id"]: c for c in (json.loads(l) for l in open(tmp + "/conns.jsonl"))}
sha = lambda b: hashlib.sha256(b).hexdigest()
www = tmp + "/www/"
fails = 0
def check(what, cond):
    global fails
    print(("ok: " if cond else "FAIL: ") + "corpus: " + what)
    fails += 0 if cond else 1
def find(method, target, n=None, **kw):
    r = [x for x in xs if x["method"] == method and x["target"] == target and
         all(x.get(k) == v for k, v in kw.items())]
    return r if n is None else (r[n] if len(r) > n else None)

small = open(www + "small.txt", "rb").read()
data = open(www + "data.json", "rb").read()
big = open(www + "big.bin", "rb").read()

x = find("GET", "/small.txt", 0)
check("small GET recorded complete", x and x["status"] == 200 and x["flags"] == 0)
check("small GET body", x and x["resp_sha256"] == sha(small) and x["resp_body_len"] == len(small))
check("authority from Host", x and x["authority"].startswith("127.0.0.1:"))
check("scheme http, proto h1.1", x and x["scheme"] == "http" and x["proto"] == "h1.1")
check("endpoints: client loopback, server the origin",
      x and x["client"].startswith("127.0.0.1:") and x["server"] == "127.0.0.1:" + origin)
check("timings ordered", x and 0 < x["req_start"] <= x["req_end"] <= x["resp_start"] <= x["resp_end"])
check("request headers as sent", x and [h[0] for h in x["req_headers"]] == ["Host", "User-Agent", "Accept"])
check("connection recorded", x and x["conn_id"] in conns and not conns[x["conn_id"]].get("missing"))

g = [x for x in find("GET", "/data.json") if x["resp_encoding"] == "gzip"]
check("gzip body stored decoded, coding remembered",
      len(g) >= 2 and all(x["resp_sha256"] == sha(data) and x["flags"] == 0 for x in g))
check("gzip wire length kept", g and all(0 < x["resp_wire_len"] < len(data) for x in g))

b = find("GET", "/big.bin", 0)
check("50 MB body recorded up to --max-body, flagged",
      b and b["status"] == 200 and b["resp_body_len"] == 1 << 20 and
      "resp-truncated" in b["flag_names"] and b["resp_wire_len"] == len(big) and
      b["resp_sha256"] == sha(big[:1 << 20]))
h = find("HEAD", "/big.bin")
check("HEAD recorded without body", h and all(x["status"] == 200 and x["resp_body_len"] == 0 for x in h))
n = find("GET", "/small.txt", None)
check("304 recorded", any(x["status"] == 304 and x["resp_body_len"] == 0 for x in n))
check("404 recorded", any(x["status"] == 404 for x in find("GET", "/missing")))
post = open(tmp + "/post.json", "rb").read()
p = find("POST", "/post")
check("POST JSON request body", any(x["req_sha256"] == sha(post) and x["status"] == 200 for x in p))
big20 = big[:20 << 20]
check("20 MB upload recorded up to --max-body, flagged, whole length known",
      any(x["req_body_len"] == 1 << 20 and x["req_wire_len"] == len(big20) and
          x["req_sha256"] == sha(big20[:1 << 20]) and x["flag_names"] == "req-truncated" for x in p))
cont = open(tmp + "/continue.txt", "rb").read()
check("100-continue request body (answered before it ended)",
      any(x["req_sha256"] == sha(cont) and x["status"] == 200 and x["flags"] == 0 for x in p))
f = find("POST", "/form", 0)
check("form body", f and f["status"] == 201 and
      f["req_sha256"] == sha(b"name=Ann_Example&note=a%26b%3Dc"))
h10 = [x for x in xs if x["proto"] == "h1.0"]
check("HTTP/1.0 exchange", h10 and h10[0]["resp_sha256"] == sha(data))

# the pipelined five share a connection, in order
pipe = [x for x in xs if x["authority"] == "t"]
byconn = {}
for x in pipe:
    byconn.setdefault(x["conn_id"], []).append(x)
five = [v for v in byconn.values() if len(v) == 5]
check("pipelined exchanges on one connection", len(five) >= 1)
if five:
    v = sorted(five[-1], key=lambda x: x["conn_seq"])
    check("pipelined order and positions",
          [(x["method"], x["target"], x["conn_seq"]) for x in v] ==
          [("GET", "/small.txt", 0), ("HEAD", "/big.bin", 1), ("GET", "/missing", 2),
           ("POST", "/post", 3), ("GET", "/data.json", 4)])
    check("pipelined POST body", v[3]["req_sha256"] == sha(b"hello"))
ids = [x["conn_id"] for x in xs]
check("connection ids distinct per connection", len(set(ids)) >= 10)
sys.exit(1 if fails else 0)
PY
rp_done
