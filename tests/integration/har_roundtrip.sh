#!/bin/sh
# har_roundtrip: a real Chromium HAR through the read-side commands.
# import -> ls / show / stats -> export HAR, compared entry by entry with the
# original (method, URL, status, headers as multisets, bodies decoded) and
# validated against the HAR 1.2 required fields; export JSON lines -> import
# into a new corpus -> export again must be byte-identical; and the error
# paths exit with the documented codes and name what is wrong.
. "$RP_SRCDIR/tests/lib.sh"

HAR="$RP_SRCDIR/tests/data/har/chromium-teashop.har"
CHECK="$RP_SRCDIR/tests/integration/har_check.py"
DB="$RP_TMP/corpus"
R="$REPRISE"

# ---- import ----
rp_expect_exit "import into a missing corpus without --create" 4 "$R" import --no-masks --db "$DB" "$HAR"
rp_expect_grep "says how to create it" "pass --create" "$RP_TMP/last.err"
[ ! -e "$DB" ] && rp_ok "no corpus made without --create" || rp_fail "a corpus appeared"
rp_expect_exit "import the browser HAR" 0 "$R" import --no-masks --db "$DB" --create "$HAR"
rp_expect_grep "import counts" "^imported 16 exchanges from .* skipped 0$" "$RP_TMP/last.out"

# ---- ls ----
rp_expect_exit "ls" 0 "$R" ls --db "$DB"
cp "$RP_TMP/last.out" "$RP_TMP/ls.out"
rp_expect_eq "ls lists 16 exchanges and a header" 17 "$(wc -l <"$RP_TMP/ls.out")"
rp_expect_grep "ls row: id, time, method, host, path, status, sizes" \
	"^ +7 2026-11-22T21:02:32\.557Z POST +127\.0\.0\.1:18653 +/api/orders +201 +8\.3 +64 +34$" \
	"$RP_TMP/ls.out"
"$R" ls --db "$DB" --filter 'method=POST' --json >"$RP_TMP/post.jsonl"
rp_expect_eq "ls --filter method=POST --json: two lines" 2 "$(wc -l <"$RP_TMP/post.jsonl")"
rp_expect_eq "ls --json objects" "7 POST /api/orders 201 64 34|15 POST /api/orders 201 64 34" \
	"$(python3 -c 'import json,sys
print("|".join("%d %s %s %d %d %d" % (o["id"], o["method"], o["target"], o["status"],
      o["req_body"], o["resp_body"]) for o in map(json.loads, sys.stdin)))' <"$RP_TMP/post.jsonl")"
rp_expect_eq "ls --filter status=4xx" "8 16" \
	"$("$R" ls --db "$DB" --filter 'status=4xx' --json | python3 -c 'import json,sys
print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin))')"
rp_expect_eq "ls --filter with an offset from the corpus start (since=+1s)" 8 \
	"$("$R" ls --db "$DB" --filter 'since=+1s' --json | wc -l)"
rp_expect_eq "ls --filter path regex and a glob" 6 \
	"$("$R" ls --db "$DB" --filter 'path~^/api/products/ or path=/static/*.png' --json | wc -l)"
rp_expect_eq "ls --limit 3" 4 "$("$R" ls --db "$DB" --limit 3 | wc -l)"
COLUMNS=100 "$R" ls --db "$DB" >"$RP_TMP/narrow.out"
rp_expect_eq "ls keeps to a 100-column terminal" 0 \
	"$(awk 'length($0) > 100' "$RP_TMP/narrow.out" | wc -l)"
long=$(python3 -c 'print("/reports/" + "x" * 150 + "/tail.csv")')
printf '{"request":{"method":"GET","authority":"reports.internal.example.com:8443","target":"%s"},"response":{"status":200},"flags":8}\n' \
	"$long" >"$RP_TMP/long.jsonl"
"$R" import --no-masks --db "$RP_TMP/long" --create "$RP_TMP/long.jsonl" >/dev/null
COLUMNS=140 "$R" ls --db "$RP_TMP/long" >"$RP_TMP/long.out"
rp_expect_grep "ls cuts a long path in the middle" " /reports/x+\.\.\.x+/tail\.csv " "$RP_TMP/long.out"
rp_expect_grep "ls shows incompleteness flags" " gap$" "$RP_TMP/long.out"
rp_expect_eq "the row fits but for the flags" 0 \
	"$(sed 's/ gap$//' "$RP_TMP/long.out" | awk 'length($0) > 140' | wc -l)"
"$R" ls --db "$RP_TMP/long" | cat >"$RP_TMP/pipe.out"
rp_expect_grep "ls into a pipe keeps the whole path" "$long" "$RP_TMP/pipe.out"

printf '%s\n' '{"request":{"method":"GET","authority":"a\u001b[31mb","target":"/x\u001b[2Jy","headers":[["X-Evil","\u001b]0;pwned\u0007"]]},"response":{"status":200,"reason":"O\u001bK"}}' \
	>"$RP_TMP/evil.jsonl"
"$R" import --no-masks --db "$RP_TMP/evil" --create "$RP_TMP/evil.jsonl" >/dev/null
"$R" ls --db "$RP_TMP/evil" >"$RP_TMP/evil.ls"
"$R" show --db "$RP_TMP/evil" 1 >"$RP_TMP/evil.show"
rp_expect_eq "no escape byte from recorded traffic reaches the terminal" 0 \
	"$(cat "$RP_TMP/evil.ls" "$RP_TMP/evil.show" | tr -cd '\033\007' | wc -c)"
rp_expect_grep "show spells control bytes out" '^> X-Evil: \\x1b\]0;pwned\\x07$' "$RP_TMP/evil.show"
rp_expect_grep "unknown time shows as -" "^ +1 - +GET" "$RP_TMP/evil.ls"

# ---- show ----
rp_expect_exit "show 7" 0 "$R" show --db "$DB" 7
cp "$RP_TMP/last.out" "$RP_TMP/show7.out"
rp_expect_grep "show: request line" "^> POST /api/orders HTTP/1.1$" "$RP_TMP/show7.out"
rp_expect_grep "show: JSON body pretty-printed" '^  "note": "gift wrap"$' "$RP_TMP/show7.out"
rp_expect_grep "show: status line" "^< HTTP/1.1 201 Created$" "$RP_TMP/show7.out"
rp_expect_grep "show: timing" "^timing +request 0.000 ms, wait 5.668 ms, response 2.609 ms" \
	"$RP_TMP/show7.out"
rp_expect_grep "show: server endpoint" "server 127.0.0.1:18653" "$RP_TMP/show7.out"
rp_expect_exit "show 3 (a PNG)" 0 "$R" show --db "$DB" 3
rp_expect_grep "show: binary body summarised" \
	"binary body: 135 bytes, image/png, sha256 [0-9a-f]{16}\.\.\., first bytes 89 50 4e 47" \
	"$RP_TMP/last.out"
rp_expect_grep "show: gzip remembered" "decoded from gzip; 187 bytes on the wire" \
	"$(f="$RP_TMP/show8.out"; "$R" show --db "$DB" 8 >"$f"; echo "$f")"
"$R" show --db "$DB" --raw 7 >"$RP_TMP/raw7.out"
rp_expect_eq "show --raw: HTTP/1.1 messages, body byte for byte" \
	'POST /api/orders HTTP/1.1<CR>|{"items":[{"id":2,"qty":1},{"id":5,"qty":3}],"note":"gift wrap"}HTTP/1.1 201 Created<CR>' \
	"$(python3 -c 'import sys
d=open(sys.argv[1],"rb").read().decode().replace("\r", "<CR>")
print(d.split("\n")[0] + "|" + d.split("<CR>\n<CR>\n")[1].split("\n")[0])' "$RP_TMP/raw7.out")"

# ---- stats ----
rp_expect_exit "stats" 0 "$R" stats --db "$DB"
cp "$RP_TMP/last.out" "$RP_TMP/stats.out"
rp_expect_grep "stats: exchanges" "^exchanges +16$" "$RP_TMP/stats.out"
rp_expect_grep "stats: routes templated" "^ +2  GET /api/products/\{id\}\.json$" "$RP_TMP/stats.out"
rp_expect_grep "stats: status classes" "2xx 11 3xx 3 4xx 2 5xx 0" "$RP_TMP/stats.out"
rp_expect_grep "stats: bodies and distinct contents" "^bodies +15 non-empty, 9 distinct: 5541 bytes decoded" \
	"$RP_TMP/stats.out"
rp_expect_grep "stats: dedup ratio" "^dedup +1.67 bodies per distinct body$" "$RP_TMP/stats.out"
rp_expect_eq "stats --json" "16 11 3 2 9 15" "$("$R" stats --db "$DB" --json | python3 -c '
import json,sys; o=json.load(sys.stdin); s=o["status"]; b=o["bytes"]
print(o["exchanges"], s["2xx"], s["3xx"], s["4xx"], b["bodies_distinct"], b["bodies"])')"

# ---- export HAR: compare with the original, validate ----
rp_expect_exit "export --format har -o" 0 "$R" export --db "$DB" --format har -o "$RP_TMP/out.har"
rp_expect_grep "export reports the count" "16 exchanges written to" "$RP_TMP/last.err"
if python3 "$CHECK" compare "$HAR" "$RP_TMP/out.har" >"$RP_TMP/cmp.txt"; then
	rp_ok "exported HAR matches the original (method, URL, status, headers, bodies)"
else rp_fail "exported HAR differs: $(head -5 "$RP_TMP/cmp.txt")"; fi
if python3 "$CHECK" validate "$RP_TMP/out.har" >"$RP_TMP/val.txt"; then
	rp_ok "exported HAR has every HAR 1.2 required field"
else rp_fail "exported HAR is not valid HAR 1.2: $(head -5 "$RP_TMP/val.txt")"; fi
# A third-party validator (Debian's node-har-validator) must accept it, and
# must refuse a copy with a required field removed (so the check can fail).
VALIDATE="$RP_SRCDIR/tests/integration/har_validate.js"
if command -v node >/dev/null && NODE_PATH=/usr/share/nodejs node -e 'require("har-validator")' 2>/dev/null; then
	if NODE_PATH=/usr/share/nodejs node "$VALIDATE" "$RP_TMP/out.har" >"$RP_TMP/hv.txt" 2>&1; then
		rp_ok "har-validator accepts the exported HAR"
	else rp_fail "har-validator refuses the exported HAR: $(head -c 600 "$RP_TMP/hv.txt")"; fi
	python3 -c 'import json,sys; h=json.load(open(sys.argv[1])); del h["log"]["entries"][0]["request"]["headers"]; json.dump(h,open(sys.argv[2],"w"))' \
		"$RP_TMP/out.har" "$RP_TMP/broken.har"
	if NODE_PATH=/usr/share/nodejs node "$VALIDATE" "$RP_TMP/broken.har" >/dev/null 2>&1; then
		rp_fail "har-validator accepted a HAR without request.headers"
	else rp_ok "har-validator refuses a HAR missing a required field"; fi
else
	rp_fail "node-har-validator is not installed (quickstart.sh installs it)"
fi
"$R" export --db "$DB" >"$RP_TMP/stdout.har"
cmp -s "$RP_TMP/stdout.har" "$RP_TMP/out.har" && rp_ok "export to stdout = export -o" ||
	rp_fail "export to stdout differs from -o"
"$R" export --db "$DB" --filter 'status=304' -o "$RP_TMP/304.har" 2>/dev/null
rp_expect_eq "export --filter" "3" \
	"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["log"]["entries"]))' \
	"$RP_TMP/304.har")"

# ---- JSON lines: corpus -> jsonl -> new corpus -> jsonl is the identity ----
rp_expect_exit "export jsonl" 0 "$R" export --db "$DB" --format jsonl -o "$RP_TMP/a.jsonl"
rp_expect_exit "import jsonl into a new corpus" 0 \
	"$R" import --no-masks --db "$RP_TMP/corpus2" --create "$RP_TMP/a.jsonl"
rp_expect_grep "jsonl import counts" "^imported 16 exchanges" "$RP_TMP/last.out"
"$R" export --db "$RP_TMP/corpus2" --format jsonl >"$RP_TMP/b.jsonl"
cmp -s "$RP_TMP/a.jsonl" "$RP_TMP/b.jsonl" && rp_ok "jsonl round trip is identical" ||
	rp_fail "jsonl round trip differs: $(diff "$RP_TMP/a.jsonl" "$RP_TMP/b.jsonl" | head -c 600)"
"$R" export --db "$RP_TMP/corpus2" -o "$RP_TMP/b.har" 2>/dev/null
cmp -s "$RP_TMP/out.har" "$RP_TMP/b.har" && rp_ok "HAR of the jsonl copy is identical" ||
	rp_fail "HAR of the jsonl copy differs"
cp "$RP_TMP/a.jsonl" "$RP_TMP/noext"
rp_expect_exit "import sniffs JSON lines without an extension" 0 \
	"$R" import --no-masks --db "$RP_TMP/corpus3" --create "$RP_TMP/noext"

# ---- errors: exit codes and messages ----
rp_expect_exit "ls without --db" 2 "$R" ls
rp_expect_grep "names --db" "--db DIR is required" "$RP_TMP/last.err"
rp_expect_exit "ls with an unknown flag" 2 "$R" ls --db "$DB" --bogus
rp_expect_grep "names the flag" "unknown option '--bogus'" "$RP_TMP/last.err"
rp_expect_exit "ls --db without a value" 2 "$R" ls --db
rp_expect_grep "says the flag needs a value" "option '--db' needs a value" "$RP_TMP/last.err"
rp_expect_exit "ls --limit zero" 2 "$R" ls --db "$DB" --limit 0
rp_expect_exit "ls with a bad filter" 2 "$R" ls --db "$DB" --filter 'method=GET status=abc'
rp_expect_grep "filter error names the column" \
	"reprise ls: filter: column 19: expected a status like 200, 4xx or 500-599" "$RP_TMP/last.err"
mkdir -p "$RP_TMP/notcorpus" && echo hello >"$RP_TMP/notcorpus/file.txt"
for c in ls stats export; do
	rp_expect_exit "$c on a directory that is not a corpus" 4 "$R" $c --db "$RP_TMP/notcorpus"
	rp_expect_grep "$c says it is not a corpus" "not a reprise corpus" "$RP_TMP/last.err"
done
rp_expect_exit "show on a directory that is not a corpus" 4 "$R" show --db "$RP_TMP/notcorpus" 1
rp_expect_exit "ls on a missing corpus" 4 "$R" ls --db "$RP_TMP/missing"
rp_expect_grep "says there is no corpus" "no such corpus" "$RP_TMP/last.err"
rp_expect_exit "import --create into a directory of other files" 4 \
	"$R" import --no-masks --db "$RP_TMP/notcorpus" --create "$HAR"
rp_expect_exit "show an unknown id" 2 "$R" show --db "$DB" 999
rp_expect_grep "names the id" "no exchange 999 in this corpus" "$RP_TMP/last.err"
rp_expect_exit "show a non-numeric id" 2 "$R" show --db "$DB" seven
rp_expect_grep "names the argument" "'seven' is not an exchange ID" "$RP_TMP/last.err"
rp_expect_exit "show without an id" 2 "$R" show --db "$DB"
rp_expect_exit "export --format xml" 2 "$R" export --db "$DB" --format xml
rp_expect_grep "names the format" "--format 'xml': expected har or jsonl" "$RP_TMP/last.err"
rp_expect_exit "export -o into a missing directory" 2 \
	"$R" export --db "$DB" -o "$RP_TMP/no/such/dir/x.har"
printf '{"log": {"entries": [\n  {"request": {},}\n]}}\n' >"$RP_TMP/bad.har"
rp_expect_exit "import a malformed HAR" 2 "$R" import --no-masks --db "$DB" "$RP_TMP/bad.har"
rp_expect_grep "names file, line and column" "bad.har: line 2, column 18: " "$RP_TMP/last.err"
printf '{"log": {"version": "1.2"}}' >"$RP_TMP/nolog.har"
rp_expect_exit "import a JSON file that is no HAR" 2 "$R" import --no-masks --db "$DB" "$RP_TMP/nolog.har"
rp_expect_grep "says why" "not a HAR file: log.entries is missing" "$RP_TMP/last.err"
rp_expect_exit "import a missing file" 2 "$R" import --no-masks --db "$DB" "$RP_TMP/nope.har"
python3 - "$HAR" "$RP_TMP/mixed.har" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
e = d["log"]["entries"]
e[1]["request"]["url"] = 42
e[2]["response"]["status"] = "ok"
e.append({"startedDateTime": "2026-11-22T21:02:34Z", "request": {"method": "GET",
          "url": "data:text/plain,hi"}, "response": {"status": 200}})
json.dump(d, open(sys.argv[2], "w"))
PY
rp_expect_exit "import a HAR with bad entries among good ones" 0 \
	"$R" import --no-masks --db "$RP_TMP/corpus4" --create "$RP_TMP/mixed.har"
rp_expect_grep "counts imported and skipped" "^imported 14 exchanges .* skipped 3$" "$RP_TMP/last.out"
rp_expect_grep "reason: entry 2" "skipped entry 2 \(log.entries\[1\]\): request.url is an integer, not a string" \
	"$RP_TMP/last.err"
rp_expect_grep "reason: entry 3" "skipped entry 3 \(log.entries\[2\]\): response.status is a string" \
	"$RP_TMP/last.err"
rp_expect_grep "reason: entry 17" "skipped entry 17 .*not an absolute URL" "$RP_TMP/last.err"
printf '{"request":{"method":"GET","target":"/"}}\n{oops\n' >"$RP_TMP/bad.jsonl"
rp_expect_exit "import JSON lines with a bad line" 0 "$R" import --no-masks --db "$RP_TMP/corpus4" "$RP_TMP/bad.jsonl"
rp_expect_grep "names the line and column" "skipped line 2, column [0-9]+: " "$RP_TMP/last.err"
rp_expect_exit "help" 0 "$R" ls --help
rp_expect_grep "help goes to stdout" "^usage: reprise ls --db DIR" "$RP_TMP/last.out"
rp_done
