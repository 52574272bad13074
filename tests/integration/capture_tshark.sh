#!/bin/sh
# capture_tshark: reprise capture -r on every HTTP/1 capture of
# tests/data/capture agrees with tshark's exchanges (method, URI, host, status,
# response body length), except where capture_tshark.py lists the reason.
# With RP_SHARED_DATA set to the shared data set, its folders are compared too.
. "$RP_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
dirs="$RP_SRCDIR/tests/data/capture"
if [ -n "${RP_SHARED_DATA:-}" ]; then
	# The shared set keeps captures unpacked: give the script .gz/.gt pairs.
	mkdir -p "$RP_TMP/shared"
	python3 - "$RP_SHARED_DATA" "$RP_TMP/shared" <<'PY'
import gzip, json, os, sys
src, dst = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(os.environ["RP_SRCDIR"], "tests/data/capture"))
from prepare import gt_lines, SKIPPED
for name in SKIPPED:
    for folder in ("own", "public"):
        p = os.path.join(src, folder, name)
        if os.path.exists(p) and "TLS" not in SKIPPED[name]:
            with gzip.open(os.path.join(dst, name + ".gz"), "wb", 1) as f:
                f.write(open(p, "rb").read())
            open(os.path.join(dst, name + ".gt"), "w").write(
                "".join(l + "\n" for l in gt_lines(json.load(open(p + ".tshark.json")))))
PY
	dirs="$dirs $RP_TMP/shared"
fi
if python3 "$RP_SRCDIR/tests/integration/capture_tshark.py" "$REPRISE" "$RP_TMP" $dirs; then
	rp_ok "every capture agrees with tshark or is listed with its reason"
else
	rp_fail "reprise capture and tshark disagree (table above)"
fi
rp_done
