#!/bin/sh
# capture_cli: the command line of reprise capture — every flag is in
# --help, every mistake is a usage error naming the flag (exit 2), a missing
# source is unreachable (exit 3), a mask rule file that cannot be read or parsed is named (exit 2),
# --stats-json and --null-sink do what they say, a damaged file keeps what
# came before the damage, a corpus takes a second capture without reusing
# connection ids.
. "$RP_SRCDIR/tests/lib.sh"
D="$RP_SRCDIR/tests/data/capture"
gunzip -c "$D/zeek_get-gzip.pcap.gz" >"$RP_TMP/g.pcap"
gunzip -c "$D/h1_curl_keepalive_mixed_v4.pcap.gz" >"$RP_TMP/k.pcap"

"$REPRISE" capture --help >"$RP_TMP/help" 2>&1
for f in -r --read -i --interface --db --port --snaplen --buffer-size --promisc --duration \
	--count --max-size --masks --no-masks --mask-key-file --null-sink --print --max-flow-memory --max-flows \
	--flow-timeout --max-body --stats-json --progress --no-progress --quiet --log-level --help; do
	grep -q -- "$f" "$RP_TMP/help" || rp_fail "--help does not list $f"
done
rp_ok "--help lists every flag"

rp_expect_exit "no source" 2 "$REPRISE" capture --db "$RP_TMP/x"
rp_expect_exit "two sources" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap" -i lo --db "$RP_TMP/x"
rp_expect_exit "no --db" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap"
rp_expect_grep "says --db is required" "--db" "$RP_TMP/last.err"
rp_expect_exit "--masks missing file" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap" --db "$RP_TMP/x" --masks m.rules
rp_expect_grep "--masks names the file" "m.rules" "$RP_TMP/last.err"
printf 'header Authorization redact\nthis is not a rule\n' >"$RP_TMP/bad.rules"
rp_expect_exit "--masks malformed rule" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap" --db "$RP_TMP/x" --masks "$RP_TMP/bad.rules"
rp_expect_grep "--masks names file and line" "bad.rules:2" "$RP_TMP/last.err"
rp_expect_exit "bad --port" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap" --null-sink --port 80,x
rp_expect_grep "names --port" "--port" "$RP_TMP/last.err"
rp_expect_exit "bad --max-flow-memory" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap" --null-sink --max-flow-memory 10
rp_expect_exit "bad --sync" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap" --db "$RP_TMP/x" --sync maybe
rp_expect_grep "names --sync" "--sync: 'maybe'" "$RP_TMP/last.err"
for m in none data full; do
	rm -rf "$RP_TMP/sync-$m"
	rp_expect_exit "--sync $m records" 0 "$REPRISE" capture -r "$RP_TMP/g.pcap" --db "$RP_TMP/sync-$m" --sync $m -q
	rp_expect_eq "--sync $m: every exchange is there" "$("$REPRISE" ls --db "$RP_TMP/sync-$m" --json | wc -l)" \
		"$("$REPRISE" capture -r "$RP_TMP/g.pcap" --null-sink --print | wc -l)"
done
rp_expect_exit "unknown flag" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap" --null-sink --frobnicate
rp_expect_exit "bad BPF" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap" --null-sink "tcp port porcupine"
rp_expect_grep "says the filter is bad" "bad filter" "$RP_TMP/last.err"
rp_expect_exit "no such file" 3 "$REPRISE" capture -r "$RP_TMP/none.pcap" --null-sink
rp_expect_exit "no such interface" 3 "$REPRISE" capture -i rp-no-such-if0 --null-sink
echo "not a capture file at all, just text" >"$RP_TMP/text.pcap"
rp_expect_exit "not a capture file" 2 "$REPRISE" capture -r "$RP_TMP/text.pcap" --null-sink

# A BPF expression of one's own; the null sink; the counters.
rp_expect_exit "BPF and --null-sink" 0 "$REPRISE" capture -r "$RP_TMP/g.pcap" --null-sink \
	--stats-json "$RP_TMP/s.json" --print tcp port 80
rp_expect_grep "one exchange printed" "GET	/gzip	httpbin.org	200	197	complete" "$RP_TMP/last.out"
rp_expect_grep "stats: packets" '"packets": 14,' "$RP_TMP/s.json"
rp_expect_grep "stats: exchanges" '"exchanges": 1,' "$RP_TMP/s.json"
rp_expect_grep "stats: nothing stored" '"exchanges_recorded": 1,' "$RP_TMP/s.json"
python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$RP_TMP/s.json" &&
	rp_ok "--stats-json is JSON" || rp_fail "--stats-json is not JSON"
rp_expect_exit "a filter that matches nothing" 0 "$REPRISE" capture -r "$RP_TMP/g.pcap" \
	--null-sink --print "tcp port 9"
rp_expect_eq "nothing printed" "" "$(cat "$RP_TMP/last.out")"
rp_expect_exit "--count stops early" 0 "$REPRISE" capture -r "$RP_TMP/k.pcap" --port 21080 \
	--null-sink --count 10 --stats-json "$RP_TMP/c.json"
rp_expect_grep "10 packets read" '"packets": 10,' "$RP_TMP/c.json"
rp_expect_exit "--duration in capture time" 0 "$REPRISE" capture -r "$RP_TMP/k.pcap" --port 21080 \
	--null-sink --duration 1 --stats-json "$RP_TMP/d.json"

# A file cut in the middle of a record: what came before is kept.
head -c 150000 "$RP_TMP/k.pcap" >"$RP_TMP/cut.pcap"
rp_expect_exit "truncated file" 0 "$REPRISE" capture -r "$RP_TMP/cut.pcap" --port 21080 --null-sink --print
rp_expect_grep "says where it broke" "damaged capture file at byte" "$RP_TMP/last.err"
rp_expect_grep "kept what came before" "/index.html" "$RP_TMP/last.out"

# The same corpus twice: connection ids go on from where they were.
rp_expect_exit "--print next to a masked corpus" 2 "$REPRISE" capture -r "$RP_TMP/g.pcap" --db "$RP_TMP/db" --print
rp_expect_grep "says why" "unmasked" "$RP_TMP/last.err"
rp_expect_exit "first capture into a corpus" 0 "$REPRISE" capture -r "$RP_TMP/g.pcap" --db "$RP_TMP/db" --no-masks --print
first=$(cut -f1 "$RP_TMP/last.out")
rp_expect_exit "second capture into it" 0 "$REPRISE" capture -r "$RP_TMP/g.pcap" --db "$RP_TMP/db" --no-masks --print
second=$(cut -f1 "$RP_TMP/last.out")
[ "$second" -gt "$first" ] && rp_ok "connection ids continue ($first, then $second)" ||
	rp_fail "connection id reused: $first then $second"
# Standard input works too.
"$REPRISE" capture -r - --null-sink --print <"$RP_TMP/g.pcap" >"$RP_TMP/stdin.out" 2>/dev/null
rp_expect_grep "reads standard input" "/gzip" "$RP_TMP/stdin.out"
rp_done
