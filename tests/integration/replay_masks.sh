#!/bin/sh
# replay_masks: a corpus recorded through masks is diffed like with like.
# nginx serves a profile with an email; `reprise proxy` records it masked
# (the shipped default.rules, a known key), so the corpus holds a fake.  A
# replay with the same key masks each replayed response the same way:
# 100% parity.  Under another key the fakes differ and the replay says why
# before it starts; with --no-masks the real email meets the fake.
. "$RP_SRCDIR/tests/lib.sh"

W="$RP_TMP/www"
mkdir -p "$W/api"
printf '{"id":7,"name":"Jane","email":"jane.doe@shopmail.net","plan":"pro"}\n' >"$W/api/me.json"
chmod 755 "$RP_TMP"
chmod -R a+rX "$W"
port=$(rp_free_port)
pport=$(rp_free_port)
rp_nginx "$W" "$port" || exit 1
KEY=0123456789abcdef0123456789abcdef
DB="$RP_TMP/corpus"
REPRISE_MASK_KEY=$KEY "$REPRISE" proxy --listen "127.0.0.1:$pport" \
	--upstream "http://127.0.0.1:$port" --db "$DB" --workers 1 2>"$RP_TMP/proxy.err" &
ppid=$!
rp_track "$ppid"
rp_wait_port "$pport" || { rp_fail "proxy did not start: $(cat "$RP_TMP/proxy.err")"; rp_done; }
curl -s -o /dev/null -o /dev/null "http://127.0.0.1:$pport/api/me.json" "http://127.0.0.1:$pport/api/me.json"
kill -TERM "$ppid"
wait "$ppid"
"$REPRISE" export --db "$DB" --format jsonl >"$RP_TMP/export.jsonl"
if grep -q 'jane.doe@shopmail.net' "$RP_TMP/export.jsonl"; then rp_fail "the email was stored unmasked"
else rp_ok "the corpus holds no email"; fi

T="http://127.0.0.1:$port"
rp_expect_exit "same key: parity" 0 env REPRISE_MASK_KEY=$KEY "$REPRISE" replay --db "$DB" --target "$T" --max
rp_expect_grep "2 equal" 'parity 100.00%: 2 equal' "$RP_TMP/last.out"

rp_expect_exit "another key: the fakes differ" 1 env REPRISE_MASK_KEY=fedcba9876543210fedcba9876543210 \
	"$REPRISE" replay --db "$DB" --target "$T" --max
rp_expect_grep "says the key differs" 'masks: the corpus was masked under another key \(hmac-sha256:' "$RP_TMP/last.err"
rp_expect_grep "only the email differs" 'GET /api/me.json +2 +0.0% .*\$\.email \(2\)' "$RP_TMP/last.out"

rp_expect_exit "--no-masks: real email against the fake" 1 \
	"$REPRISE" replay --db "$DB" --target "$T" --max --no-masks
rp_expect_grep "the email differs" '\$\.email \(2\)' "$RP_TMP/last.out"
if grep -q 'jane.doe@shopmail.net' "$RP_TMP/last.out"; then rp_ok "--no-masks shows what the target sent"
else rp_fail "--no-masks: $(cat "$RP_TMP/last.out")"; fi
rp_done
