#!/bin/sh
# cli_damaged: a corpus with one damaged record.  ls, export and stats
# report the record (corpus and exchange named), go on with every other
# exchange, and exit 4 saying how many could not be read; nothing else is
# lost.  The record is damaged with LMDB's own tools (mdb_dump, mdb_load from
# lmdb-utils): exchange 3's value cut to 20 bytes.
. "$RP_SRCDIR/tests/lib.sh"

for t in mdb_dump mdb_load; do
	command -v $t >/dev/null || { echo "skip: $t not installed (lmdb-utils)"; exit 77; }
done
HAR="$RP_SRCDIR/tests/data/har/chromium-teashop.har"
DB="$RP_TMP/corpus"
R="$REPRISE"

rp_expect_exit "import the browser HAR" 0 "$R" import --no-masks --db "$DB" --create "$HAR"
mdb_dump -s exchanges -n "$DB/data.mdb" >"$RP_TMP/ex.dump" || rp_fail "mdb_dump"
# keep the header (without db_pagesize, which mdb_load does not take) and
# the third key with the first 20 bytes of its value
awk 'BEGIN { d = 0 }
     /^db_pagesize=/ { next }
     /^HEADER=END$/ { print; d = 1; next }
     d == 0 { print; next }
     /^DATA=END$/ { print; exit }
     { n++; if (n == 5) print; if (n == 6) print substr($0, 1, 41) }' \
	"$RP_TMP/ex.dump" >"$RP_TMP/ex.bad"
mdb_load -s exchanges -n -f "$RP_TMP/ex.bad" "$DB/data.mdb" && rp_ok "record 3 damaged" ||
	rp_fail "mdb_load could not write the damaged record"

rp_expect_exit "ls exits 4" 4 "$R" ls --db "$DB"
rp_expect_eq "ls lists the 15 others and a header" 16 "$(wc -l <"$RP_TMP/last.out")"
rp_expect_grep "ls names the record" "reprise ls: .*corpus: exchange 3: " "$RP_TMP/last.err"
rp_expect_grep "ls counts it" "1 exchanges could not be read" "$RP_TMP/last.err"

rp_expect_exit "export exits 4" 4 "$R" export --db "$DB" --format jsonl
rp_expect_eq "export writes the 15 others" 15 "$(wc -l <"$RP_TMP/last.out")"
rp_expect_grep "export names the record" "reprise export: .*corpus: exchange 3: " "$RP_TMP/last.err"

rp_expect_exit "stats exits 4" 4 "$R" stats --db "$DB"
rp_expect_grep "stats counts the 15 others" "^exchanges +15$" "$RP_TMP/last.out"
rp_expect_grep "stats names the record" "reprise stats: .*corpus: exchange 3: " "$RP_TMP/last.err"

rp_expect_exit "show of another exchange still works" 0 "$R" show --db "$DB" 4
rp_done
