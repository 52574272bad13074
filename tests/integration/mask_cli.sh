#!/bin/sh
# mask_cli: the mask commands and flags as a user meets them.  `mask check`
# on good and broken files (exit 2 with file:line:column, include loops);
# `mask test` showing what changed, writing masked exchanges, and giving the
# same tokens in two separate processes with one key and different ones with
# another; `import` masking by default, refusing a broken rule file before
# creating a corpus, recording the rules' digest, and --no-masks with
# --masks refused; `audit` on a masked and an unmasked corpus, its detector
# list and exit codes.
. "$RP_SRCDIR/tests/lib.sh"
R=$REPRISE
M=$RP_SRCDIR/masks
T=$RP_TMP

# ---- mask check -----------------------------------------------------------------------
rp_expect_exit "check the shipped rule sets" 0 "$R" mask check "$M/default.rules" "$M/pci.rules" "$M/gdpr.rules"
rp_expect_grep "check prints counts and digests" "default.rules: ok, [0-9]+ rules, sha256:[0-9a-f]{64}" "$T/last.out"
printf 'header Authorization tokenize\n\n  json $.items[0 redact\n' >"$T/bad.rules"
rp_expect_exit "a malformed rule exits 2" 2 "$R" mask check "$T/bad.rules"
rp_expect_grep "file, line and column" "bad.rules:3:17: expected '\]'" "$T/last.err"
printf 'include b.rules\n' >"$T/a.rules"
printf '# b\ninclude a.rules\n' >"$T/b.rules"
rp_expect_exit "an include loop exits 2" 2 "$R" mask check "$T/a.rules"
rp_expect_grep "the loop is named" "b.rules:2:9: include loop: a.rules -> b.rules -> a.rules" "$T/last.err"
rp_expect_exit "a missing file exits 2" 2 "$R" mask check "$T/none.rules"
rp_expect_exit "check --print" 0 "$R" mask check --print "$M/pci.rules"
rp_expect_grep "canonical rules listed" '^text card keep-last=4$' "$T/last.out"
rp_expect_exit "unknown subcommand" 2 "$R" mask frobnicate

# ---- mask test ----------------------------------------------------------------------------
cat >"$T/in.jsonl" <<'EOF'
{"request":{"method":"POST","scheme":"http","authority":"a.test","target":"/signup?email=ann%40mail.com","headers":[["Content-Type","application/json"],["Authorization","Bearer abcdefghij0123456789"]],"body":"{\"email\":\"ann@mail.com\",\"password\":\"pw1\",\"card\":\"4111111111111111\"}"},"response":{"status":201,"reason":"Created","headers":[["Set-Cookie","sid=s3ss10n; Path=/"]],"body":"welcome ann@mail.com"}}
EOF
printf 'key-number-one-0123456789\n' >"$T/k1"
printf 'key-number-two-0123456789\n' >"$T/k2"
rp_expect_exit "mask test" 0 "$R" mask test "$M/default.rules" --in "$T/in.jsonl" --mask-key-file "$T/k1" --out "$T/out.jsonl"
cp "$T/last.out" "$T/test1.out"
rp_expect_grep "before and after, with the rule" 'request body json \$\.password  \[redact .*default\.rules:[0-9]+\]' "$T/test1.out"
rp_expect_grep "summary" "^1 exchanges, 1 changed, [0-9]+ values masked" "$T/test1.out"
if grep -qF "ann@mail.com" "$T/out.jsonl"; then rp_fail "--out holds an unmasked email"; else rp_ok "--out is masked"; fi
"$R" mask test "$M/default.rules" --mask-key-file "$T/k1" <"$T/in.jsonl" >"$T/test2.out" 2>&1
rp_expect_eq "same key, another process, stdin: the same output" "" "$(diff "$T/test1.out" "$T/test2.out")"
"$R" mask test "$M/default.rules" --mask-key-file "$T/k2" --in "$T/in.jsonl" >"$T/test3.out" 2>&1
tok1=$(grep -oE 'tok_[a-z2-7]{20}' "$T/test1.out" | head -1)
tok3=$(grep -oE 'tok_[a-z2-7]{20}' "$T/test3.out" | head -1)
[ -n "$tok1" ] && [ "$tok1" != "$tok3" ] && rp_ok "another key, other tokens ($tok1 / $tok3)" ||
	rp_fail "tokens under two keys: '$tok1' '$tok3'"
REPRISE_MASK_KEY=$(cat "$T/k1") "$R" mask test "$M/default.rules" --in "$T/in.jsonl" >"$T/test4.out" 2>&1
rp_expect_eq "the key from REPRISE_MASK_KEY is the same key" "" "$(diff "$T/test1.out" "$T/test4.out")"
printf 'short' >"$T/kshort"
rp_expect_exit "a short key is refused" 2 "$R" mask test "$M/default.rules" --in "$T/in.jsonl" --mask-key-file "$T/kshort"
rp_expect_grep "and says why" "shorter than 16 bytes" "$T/last.err"

# ---- import and audit ---------------------------------------------------------------------
rp_expect_exit "import --masks with a broken file" 2 "$R" import --db "$T/c0" --create --masks "$T/bad.rules" "$T/in.jsonl"
[ -e "$T/c0" ] && rp_fail "a corpus was created anyway" || rp_ok "no corpus created"
rp_expect_exit "--no-masks with --masks" 2 "$R" import --db "$T/c0" --create --no-masks --masks "$M/pci.rules" "$T/in.jsonl"
rp_expect_exit "import masks by default" 0 env REPRISE_MASK_KEY="$(cat "$T/k1")" "$R" import --db "$T/c1" --create "$T/in.jsonl"
if grep -qaF "ann@mail.com" "$T/c1/data.mdb"; then rp_fail "email in data.mdb"; else rp_ok "no email in data.mdb"; fi
"$R" export --db "$T/c1" --format jsonl -o "$T/c1.jsonl" 2>/dev/null
if grep -qF "ann@mail.com" "$T/c1.jsonl"; then rp_fail "email in the export"; else rp_ok "no email in the export"; fi
rp_expect_grep "flagged masked" '"flag_names":"complete,masked"' "$T/c1.jsonl"
rp_expect_exit "audit: masked corpus" 0 "$R" audit --db "$T/c1"

digest=$("$R" mask check "$M/default.rules" | sed 's/.*, //')
rp_expect_grep "the corpus records digest and fingerprint" "masked with rules $digest, key hmac-sha256:" "$T/last.out"
rp_expect_exit "import without a key" 0 "$R" import --db "$T/c2" --create "$T/in.jsonl"
rp_expect_grep "says the key is one-off" "one-off random key" "$T/last.err"
rp_expect_exit "a second import under another key" 0 env REPRISE_MASK_KEY="$(cat "$T/k2")" "$R" import --db "$T/c1" "$T/in.jsonl"
rp_expect_grep "warns that the corpus is now mixed" "it now holds both" "$T/last.err"
rp_expect_exit "audit still finds nothing" 0 "$R" audit --db "$T/c1"
rp_expect_grep "and reports the mix" "masked with rules $digest, key mixed" "$T/last.out"

rp_expect_exit "import --no-masks" 0 "$R" import --db "$T/c3" --create --no-masks "$T/in.jsonl"
rp_expect_exit "audit: unmasked corpus" 1 "$R" audit --db "$T/c3"
rp_expect_grep "corpus facts say none" "masked with rules none, key none" "$T/last.out"
rp_expect_grep "findings by place and detector" "^exchange 1  request body json \\\$\\.card  card \\(16 bytes\\)$" "$T/last.out"
rp_expect_grep "summary line" "^[0-9]+ findings in 1 of 1 exchanges" "$T/last.out"
if grep -qF "ann@mail.com" "$T/last.out"; then rp_fail "audit printed a value"; else rp_ok "audit prints no value"; fi
rp_expect_exit "audit --detectors card" 1 "$R" audit --db "$T/c3" --detectors card
rp_expect_grep "only cards" "^1 findings in 1 of 1 exchanges" "$T/last.out"
rp_expect_exit "audit --max 1" 1 "$R" audit --db "$T/c3" --max 1
rp_expect_grep "counts all, shows one" "(1 shown; --max)" "$T/last.out"
rp_expect_exit "audit --detectors bogus" 2 "$R" audit --db "$T/c3" --detectors email,bogus
rp_expect_exit "audit without --db" 2 "$R" audit
rp_expect_exit "audit of no corpus" 4 "$R" audit --db "$T/nothere"

# ls: the FLAGS column shows what is unusual, never the usual complete/masked
{ sed 's/^{/{"flags":0,/' "$T/in.jsonl"; sed 's/^{/{"flags":4,/' "$T/in.jsonl"
  sed 's/^{/{"flags":128,/' "$T/in.jsonl"; } >"$T/flags.jsonl"
rp_expect_exit "import flagged exchanges" 0 env REPRISE_MASK_KEY="$(cat "$T/k1")" "$R" import --db "$T/c4" --create "$T/flags.jsonl"
rp_expect_exit "ls" 0 "$R" ls --db "$T/c4"
rp_expect_grep "a complete row ends with its sizes" "^ +1 .* 201 +- +82 +30$" "$T/last.out"
rp_expect_grep "an unanswered one says so" "^ +2 .* no-response$" "$T/last.out"
rp_expect_grep "an upgraded complete one too" "^ +3 .* upgrade$" "$T/last.out"
if grep -qE 'masked|complete' "$T/last.out"; then rp_fail "ls table shows masked/complete"; else rp_ok "ls table leaves masked and complete out"; fi
rp_expect_exit "ls --json" 0 "$R" ls --db "$T/c4" --json
rp_expect_grep "--json keeps every flag" '"flags":"complete,masked,upgrade"' "$T/last.out"
rp_done
