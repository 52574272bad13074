#!/bin/sh
# capture_craft: crafted segment orderings (out of order, duplicates,
# conflicting overlaps, wrap-around, missing SYN, gaps, RST before FIN,
# pipelining across segments, fragments, IPv6 in QinQ, snap length, the
# memory ceiling), written by a small pcap writer, read by reprise capture.
. "$RP_SRCDIR/tests/lib.sh"
command -v python3 >/dev/null || { echo "python3 missing"; exit 77; }
if python3 "$RP_SRCDIR/tests/integration/capture_craft.py" "$REPRISE" "$RP_TMP"; then
	rp_ok "every crafted case gives the exchanges and counters it should"
else
	rp_fail "crafted cases (above)"
fi
rp_done
