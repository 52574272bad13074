#!/bin/sh
# mask_proxy: personal data seeded in every place masking reaches, sent through
# `reprise proxy` (default masks, a key file) in front of a real nginx, which
# serves static JSON gzipped and chunked and passes the rest to a small
# python3 service (tests/integration/mask_upstream.py: echo and validation).
# Afterwards:
#   - the raw LMDB data file holds none of the seeded values, byte for byte,
#     and neither do its zstd body frames decompressed, nor the export;
#   - reprise audit finds nothing (exit 0);
#   - the same email in two requests became the same fake, the same session
#     cookie the same token, in requests and in the response that set it;
#   - the masked request to /validate, sent again to the validating service,
#     is still accepted (its fake card passes Luhn, its fake email parses);
#   - every record is flagged masked, Content-Length matches the stored body,
#     and the corpus names the rules' digest and the key's fingerprint.
# An unmasked recording (--no-masks) of the same traffic is the control: there
# every seeded value is found, so the scan itself is shown to work.
. "$RP_SRCDIR/tests/lib.sh"
for t in nginx curl python3; do
	command -v $t >/dev/null || { echo "skip: $t not installed"; exit 77; }
done
R=$REPRISE
TOOL=$RP_BUILDDIR/tests/integration/mask_tool
chmod 755 "$RP_TMP"

# ---- the upstream: nginx in front of the python service ----------------------------
PY=$(rp_free_port)
python3 "$RP_SRCDIR/tests/integration/mask_upstream.py" "$PY" &
rp_track $!
rp_wait_port "$PY" || { echo "python upstream did not start" >&2; exit 1; }
WWW=$RP_TMP/www
mkdir -p "$WWW/static"
cat >"$WWW/static/profile.json" <<'EOF'
{"profile": {"email": "jane.doe+shop@gmail.com", "phone": "(212) 555-0199",
 "iban": "DE89370400440532013000", "padding": "................................................................"}}
EOF
NGX=$(rp_free_port)
rp_nginx "$WWW" "$NGX" "
    location /static/ { gzip on; gzip_types application/json; gzip_min_length 1; }
    location / { proxy_pass http://127.0.0.1:$PY; proxy_http_version 1.1;
                 proxy_set_header Connection \"\"; }"

# ---- the seeded values ------------------------------------------------------------------
EMAIL=jane.doe+shop@gmail.com
EMAIL2=marco.rossi@libero.it
CARD='4111 1111 1111 1111'
CARD2=5555555555554444
CARD3=378282246310005
SSN=219-45-6789
IBAN=DE89370400440532013000
PHONE=+14155550123
PHONE2='(212) 555-0199'
JWT=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIiwiZW1haWwiOiJqYW5lQGdtYWlsLmNvbSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ
BEARER=s3cr3tB3arerT0kenValue42
AWS=AKIAZ3MFXQ7P4NDR6W2K
IP=81.2.69.160
SESSION=sess-8c1f0e9a7b2d4c6e
PASSWORD=hunter2-Sup3r
IDN=用户@例子.广告
printf '%s\n' "$EMAIL" "$EMAIL2" "$CARD" "$CARD2" "$CARD3" "$SSN" "$IBAN" "$PHONE" \
	"$PHONE2" "$JWT" "$BEARER" "$AWS" "$IP" "$SESSION" "$PASSWORD" "$IDN" \
	"jane.doe%2Bshop%40gmail.com" "%2B14155550123" >"$RP_TMP/seeds"

openssl rand -hex 32 >"$RP_TMP/mask.key" 2>/dev/null || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RP_TMP/mask.key"
chmod 600 "$RP_TMP/mask.key"

# traffic PORT: the same requests, every location
traffic() {
	B=http://127.0.0.1:$1
	C="curl -s -o /dev/null -w %{http_code} --max-time 10"
	# path, query, Authorization, Cookie, X-Forwarded-For, an API key header
	$C "$B/api/users/$EMAIL2/profile?email=jane.doe%2Bshop%40gmail.com&phone=%2B14155550123&page=2" \
		-H "Authorization: Bearer $BEARER" -H "Cookie: session=$SESSION; theme=dark" \
		-H "X-Forwarded-For: $IP" -H "X-Api-Key: $AWS" >/dev/null
	# JSON nested in arrays
	cat >"$RP_TMP/order.json" <<EOF
{"customer": {"email": "$EMAIL", "password": "$PASSWORD", "phone": "$PHONE", "alt": "$IDN"},
 "items": [{"sku": "A-1", "card": "$CARD"}, {"sku": "B-2", "card": $CARD2},
           {"sku": "C-3", "payment": {"card": "$CARD3", "iban": "$IBAN"}}],
 "notes": ["ssn $SSN", "reach me at $PHONE2 or $EMAIL2", "token $JWT", "from $IP"]}
EOF
	$C -X POST "$B/echo" -H 'Content-Type: application/json' --data-binary @"$RP_TMP/order.json" >/dev/null
	# urlencoded form
	$C -X POST "$B/echo" --data-urlencode "email=$EMAIL" --data-urlencode "password=$PASSWORD" \
		--data-urlencode "card_number=$CARD" --data-urlencode "note=ssn $SSN from $IP" >/dev/null
	# multipart
	printf 'name,iban\nJane,%s\n' "$IBAN" >"$RP_TMP/upload.csv"
	$C -X POST "$B/echo" -F "email=$EMAIL2" -F "comment=card $CARD3 thanks" \
		-F "statement=@$RP_TMP/upload.csv;type=text/csv" >/dev/null
	# plain text
	$C -X POST "$B/echo" -H 'Content-Type: text/plain' \
		--data-binary "Hi, $EMAIL here, card $CARD, aws $AWS, Authorization: Bearer $BEARER" >/dev/null
	# gzip and br request bodies (echoed back with the same coding)
	"$TOOL" encode gzip <"$RP_TMP/order.json" >"$RP_TMP/order.json.gz"
	$C -X POST "$B/echo" -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' \
		--data-binary @"$RP_TMP/order.json.gz" >/dev/null
	"$TOOL" encode br <"$RP_TMP/order.json" >"$RP_TMP/order.json.br"
	$C -X POST "$B/echo" -H 'Content-Type: application/json' -H 'Content-Encoding: br' \
		--data-binary @"$RP_TMP/order.json.br" >/dev/null
	# a chunked request body, and a chunked response
	$C -X POST "$B/echo" -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' \
		--data-binary @"$RP_TMP/order.json" >/dev/null
	$C "$B/chunked" >/dev/null
	# gzip + chunked response from nginx itself
	$C "$B/static/profile.json" -H 'Accept-Encoding: gzip' >/dev/null
	# the same email again, in a second request
	$C "$B/api/lookup?email=jane.doe%2Bshop%40gmail.com" -H "Cookie: session=$SESSION" >/dev/null
	# a request a validating staging service checks
	printf '{"email": "%s", "card": "%s", "items": [{"card": %s}]}' "$EMAIL" "$CARD" "$CARD2" \
		>"$RP_TMP/validate.json"
	code=$($C -X POST "$B/validate" -H 'Content-Type: application/json' \
		--data-binary @"$RP_TMP/validate.json")
	rp_expect_eq "the original request is valid (port $1)" 200 "$code"
}

# record PORT DB ARGS...: run the proxy, send the traffic, stop it by pid
record() {
	port=$1; db=$2; shift 2
	"$R" proxy --listen 127.0.0.1:$port --upstream http://127.0.0.1:$NGX --db "$db" --workers 1 \
		"$@" 2>"$db.log" &
	pid=$!
	rp_track $pid
	rp_wait_port "$port" || { echo "proxy did not start: $(cat "$db.log")" >&2; exit 1; }
	traffic "$port"
	kill -INT $pid
	wait $pid
	rp_expect_eq "proxy exits 0" 0 "$?"
}

# scan DB: every seeded value found in the raw file, the body frames, the export
scan() {
	db=$1
	"$TOOL" zframes "$db/data.mdb" >"$db.frames" 2>"$db.frames.log"
	"$R" export --db "$db" --format jsonl -o "$db.jsonl" >/dev/null 2>&1
	: >"$db.found"
	while IFS= read -r v; do
		for f in "$db/data.mdb" "$db.frames" "$db.jsonl"; do
			n=$(grep -c -a -F -- "$v" "$f")
			[ "$n" -gt 0 ] && echo "$v in $(basename "$f") ($n)" >>"$db.found"
		done
		# JSON escapes: the export writes / and non-ASCII as they are, but the
		# email with + might be escaped nowhere else; check decoded JSON too
		python3 -c 'import json,sys
v=sys.argv[1]
for l in open(sys.argv[2], encoding="utf-8"):
    if v in json.dumps(json.loads(l), ensure_ascii=False): print(v, "in export (decoded)"); break' \
			"$v" "$db.jsonl" >>"$db.found"
	done <"$RP_TMP/seeds"
}

# ---- the control: unmasked ------------------------------------------------------------
P0=$(rp_free_port)
record "$P0" "$RP_TMP/plain" --no-masks
scan "$RP_TMP/plain"
missing=0
while IFS= read -r v; do
	grep -qF -- "$v" "$RP_TMP/plain.found" || { echo "control: $v not found" >&2; missing=$((missing + 1)); }
done <"$RP_TMP/seeds"
rp_expect_eq "control: every seeded value is found unmasked" 0 "$missing"
rp_expect_exit "control: audit finds personal data" 1 "$R" audit --db "$RP_TMP/plain"
rp_expect_grep "control: the audit names exchange and place" \
	'^exchange [0-9]+  request body json \$\.customer\.email  email' "$RP_TMP/last.out"
if grep -qF -- "$EMAIL" "$RP_TMP/last.out"; then rp_fail "audit printed a value"; else rp_ok "audit prints no values"; fi

# ---- masked -----------------------------------------------------------------------------
P1=$(rp_free_port)
record "$P1" "$RP_TMP/masked" --mask-key-file "$RP_TMP/mask.key"
scan "$RP_TMP/masked"
rp_expect_eq "no seeded value in data.mdb, its zstd frames or the export" "" "$(cat "$RP_TMP/masked.found")"
frames=$(sed -n 's/mask_tool: \([0-9]*\) zstd frames.*/\1/p' "$RP_TMP/masked.frames.log")
[ "${frames:-0}" -ge 8 ] && rp_ok "body frames decompressed ($frames)" || rp_fail "only ${frames:-0} zstd frames found"
rp_expect_exit "audit finds nothing" 0 "$R" audit --db "$RP_TMP/masked"
rp_expect_grep "audit says zero" "^0 findings in 0 of 1[0-9] exchanges" "$RP_TMP/last.out"

python3 - "$RP_TMP/masked.jsonl" "$RP_TMP/plain.jsonl" <<'PY' >"$RP_TMP/checks.out"
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
plain = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
def hdr(m, name):
    return [v for k, v in m["headers"] if k.lower() == name]
out = []
out.append("records %d %d" % (len(recs), len(plain)))
out.append("all masked %s" % all("masked" in r["flag_names"] for r in recs))
# the same email, twice in query strings: one fake
fakes = set()
for r in recs:
    m = re.search(r"email=([^&]+)", r["request"]["target"])
    if m:
        fakes.add(m.group(1))
out.append("email fakes in queries %d" % len(fakes))
# one session token in Cookie requests and in the Set-Cookie that renewed it
toks = set()
for r in recs:
    for v in hdr(r["request"], "cookie") + hdr(r["response"], "set-cookie"):
        m = re.search(r"session=([^;]+)", v)
        if m:
            toks.add(m.group(1))
out.append("session tokens %d %s" % (len(toks), all(t.startswith("tok_") for t in toks)))
# Content-Length matches the stored body where the body is not encoded
bad = 0
for r in recs:
    for m in (r["request"], r["response"]):
        cl = hdr(m, "content-length")
        if cl and not m["content_encoding"] and not m["body_base64"]:
            if int(cl[0]) != len(m["body"].encode("utf-8")):
                bad += 1
out.append("content-length mismatches %d" % bad)
# orig_len kept: some masked bodies changed length
out.append("orig_len kept %s" % any(m["orig_len"] != len(m["body"].encode()) for r in recs
                                    for m in (r["request"], r["response"]) if m["body"]))
# the gzip and br bodies were decoded before masking
encs = sorted({m["content_encoding"] for r in recs for m in (r["request"], r["response"])
               if m["content_encoding"]})
out.append("codings %s" % ",".join(encs))
v = [r for r in recs if r["request"]["target"] == "/validate"][0]
open(sys.argv[1] + ".validate", "w").write(v["request"]["body"])
out.append("validate masked %s" % (v["request"]["body"] != [p for p in plain if p["request"]["target"] == "/validate"][0]["request"]["body"]))
print("\n".join(out))
PY
cat "$RP_TMP/checks.out"
rp_expect_grep "as many records masked as plain" "^records (1[0-9]) \1$" "$RP_TMP/checks.out"
rp_expect_grep "every record flagged masked" "^all masked True$" "$RP_TMP/checks.out"
rp_expect_grep "the same email in two requests gives the same fake" "^email fakes in queries 1$" "$RP_TMP/checks.out"
rp_expect_grep "one session, one token, in Cookie and Set-Cookie" "^session tokens 1 True$" "$RP_TMP/checks.out"
rp_expect_grep "Content-Length matches every stored body" "^content-length mismatches 0$" "$RP_TMP/checks.out"
rp_expect_grep "orig_len keeps the length before masking" "^orig_len kept True$" "$RP_TMP/checks.out"
rp_expect_grep "gzip and br bodies were decoded and masked" "^codings br,gzip$" "$RP_TMP/checks.out"
rp_expect_grep "the validate request was masked" "^validate masked True$" "$RP_TMP/checks.out"

# the masked request, sent again, still passes validation
code=$(curl -s -o "$RP_TMP/validate.out" -w '%{http_code}' -X POST "http://127.0.0.1:$PY/validate" \
	-H 'Content-Type: application/json' --data-binary @"$RP_TMP/masked.jsonl.validate")
rp_expect_eq "the masked request is accepted by the validating service" 200 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PY/validate" \
	-H 'Content-Type: application/json' --data '{"email": "not-an-email", "card": "4111111111111112"}')
rp_expect_eq "the service does reject invalid input" 422 "$code"

# the corpus names the rules and the key, never the key itself
digest=$("$R" mask check "$RP_SRCDIR/masks/default.rules" | sed 's/.*, //')
rp_expect_exit "audit reads the corpus facts" 0 "$R" audit --db "$RP_TMP/masked"
rp_expect_grep "the corpus records the rules digest" "masked with rules $digest, key hmac-sha256:[0-9a-f]{32}" "$RP_TMP/last.out"
n=$(grep -c -a -F -- "$(cat "$RP_TMP/mask.key")" "$RP_TMP/masked/data.mdb")
rp_expect_eq "the key is not in the corpus" 0 "$n"
rp_expect_grep "the proxy says it masks" "masked with rules sha256:" "$RP_TMP/masked.log"
rp_done
