#!/bin/sh
# cli_man: every command's --help and its man page agree.  Each long option
# --help prints must be documented in man/reprise-CMD.1 (written \-\-name in
# roff), each option in the page's OPTIONS section must exist in --help, and
# every command reprise --help lists has a page that renders without groff
# warnings.
. "$RP_SRCDIR/tests/lib.sh"

MAN="$RP_SRCDIR/man"
cmds=$("$REPRISE" --help | awk '/^commands:/ {on=1; next} on && /^  [a-z]/ {print $1} on && /^$/ {on=0}')
rp_expect_eq "reprise --help lists the read-side commands" "ls show export import stats" \
	"$(echo $cmds | tr '\n' ' ' | sed 's/ $//' | grep -oE 'ls show export import stats')"
for c in $cmds; do
	page="$MAN/reprise-$c.1"
	[ -f "$page" ] || { rp_fail "$c: no man page $page"; continue; }
	"$REPRISE" "$c" --help >"$RP_TMP/$c.help" 2>&1 || rp_fail "$c --help exits non-zero"
	opts=$(grep -oE -- '--[a-z][a-z-]*' "$RP_TMP/$c.help" | sort -u)
	[ -n "$opts" ] || rp_fail "$c --help lists no options"
	for o in $opts; do
		roff=$(printf '%s' "$o" | sed 's/-/\\-/g')
		if grep -qF -- "$roff" "$page"; then rp_ok "$c: $o is in reprise-$c.1"
		else rp_fail "$c: $o (from --help) is not in reprise-$c.1"; fi
	done
	# the other way: options documented in OPTIONS exist in --help
	documented=$(awk '/^\.SH OPTIONS/ {on=1; next} /^\.SH/ {on=0} on' "$page" |
		grep -oE -- '^\.BI? \\-\\-[a-z]+(\\-[a-z]+)*' | sed 's/^\.BI* //; s/\\-/-/g' | sort -u)
	for o in $documented; do
		if grep -qE -- "(^|[ ,])$o([ =]|$)" "$RP_TMP/$c.help"; then rp_ok "$c: documented $o exists"
		else rp_fail "$c: reprise-$c.1 documents $o, which --help does not list"; fi
	done
	# short options in --help are documented too
	for s in $(grep -oE -- '^  -[a-z],' "$RP_TMP/$c.help" | tr -d ' ,'); do
		roff=$(printf '%s' "$s" | sed 's/-/\\-/g')
		grep -qF -- "$roff" "$page" && rp_ok "$c: $s documented" ||
			rp_fail "$c: short option $s is not in reprise-$c.1"
	done
	if command -v groff >/dev/null 2>&1; then
		warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		rp_expect_eq "reprise-$c.1 renders without warnings" "" "$warn"
	fi
done
[ -f "$MAN/reprise.1" ] && rp_ok "reprise.1 exists" || rp_fail "man/reprise.1 is missing"
for c in $cmds; do
	grep -qF "reprise\\-$c (1)" "$MAN/reprise.1" && rp_ok "reprise.1 points at reprise-$c(1)" ||
		rp_fail "reprise.1 does not mention reprise-$c(1)"
done
rp_done
