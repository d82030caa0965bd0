#!/bin/sh
# medianstop: after two good trials, a trial that does not learn is stopped
# (EarlyStopped) once it has reported start_step values.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mount_fs

mkdir -p "$TMP/runs" "$MNT/ms" || fail "mkdir"
# the third and later trials are bad, whatever lr they get
sed -e 's/maxTrialCount: 6/maxTrialCount: 3/' \
	"$ROOT/examples/medianstop.yaml" >"$TMP/spec.yaml"
python3 - "$TMP/spec.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace("""                command:
                  - python3""", """                command:
                  - sh
                  - -c
                  - 'n=$(ls "$0" | wc -l); touch "$0/$$"; b=false; [ "$n" -ge 2 ] && b=true; exec python3 "$1" "$2" "$3" --bad=$b --delay=0.3 # $4 (the bad parameter) unused'
                  - RUNS""")
s = s.replace("RUNS", sys.argv[1].rsplit("/", 1)[0] + "/runs")
open(p, "w").write(s)
PY
cat "$TMP/spec.yaml" >"$MNT/ms/spec.yaml" || fail "writing the medianstop spec failed"
wait_state ms Succeeded 90
wait_trial_state ms 1 Succeeded 5
wait_trial_state ms 2 Succeeded 5
wait_trial_state ms 3 EarlyStopped 5
grep -q 'early stopped: loss best 5 after 3 steps is worse than the median' "$MNT/ms/events" ||
	fail "events: $(cat "$MNT/ms/events")"
[ "$(grep -c '^loss=' "$MNT/ms/trials/3/log")" -lt 8 ] || fail "trial 3 ran to the end"
exit 0
