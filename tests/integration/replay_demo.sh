#!/bin/sh
# replay_demo: `reprise demo` needs nothing, finishes in under 10 s, shows
# the regression caught and the noise ignored, exits 0, and leaves nothing
# behind; with --keep it leaves the corpus and the report for a look.
. "$RP_SRCDIR/tests/lib.sh"

mkdir -p "$RP_TMP/t"
t0=$(date +%s%N)
TMPDIR="$RP_TMP/t" "$REPRISE" demo >"$RP_TMP/out" 2>"$RP_TMP/err"
rc=$?
t1=$(date +%s%N)
rp_expect_eq "demo exits 0" 0 "$rc"
ms=$(( (t1 - t0) / 1000000 ))
echo "demo took $ms ms"
[ "$ms" -lt 10000 ] && rp_ok "under 10 s" || rp_fail "demo took $ms ms"
rp_expect_grep "recorded through the proxy" "^2\. recorded [0-9]+ requests to v1 through 'reprise proxy" "$RP_TMP/out"
rp_expect_grep "regression caught" 'the regression was caught: GET /api/orders/\{id\} differs at \$\.total' "$RP_TMP/out"
rp_expect_grep "noise ignored" 'the noise was ignored: \$\.generated_at differed in [1-9][0-9]* exchanges' "$RP_TMP/out"
rp_expect_grep "report table shows the route" 'GET /api/orders/\{id\} +[0-9]+ +0\.0%' "$RP_TMP/out"
rp_expect_eq "nothing left behind" "" "$(ls -A "$RP_TMP/t")"
rp_expect_eq "nothing on stderr" "" "$(cat "$RP_TMP/err")"

TMPDIR="$RP_TMP/t" "$REPRISE" demo --keep >"$RP_TMP/out" 2>&1
rp_expect_eq "demo --keep exits 0" 0 $?
kept=$(ls -d "$RP_TMP"/t/reprise-demo.* 2>/dev/null | head -1)
[ -n "$kept" ] && [ -f "$kept/report.json" ] && [ -d "$kept/corpus" ] &&
	rp_ok "--keep keeps the corpus and the report" || rp_fail "--keep: $(ls -R "$RP_TMP/t")"
n=$("$REPRISE" ls --db "$kept/corpus" --json | wc -l)
rp_expect_grep "the kept corpus is the recorded one" "recorded $n requests" "$RP_TMP/out"
rp_expect_exit "usage error" 2 "$REPRISE" demo --bogus
rp_done
