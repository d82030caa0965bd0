#!/bin/sh
# medianstop: after two good trials, a trial that does not learn is stopped
# (EarlyStopped) once it has reported start_step values; a trial that
# prints all its reports at once (bad ones first, then excellent ones) is
# stopped too: every report is judged, not only the last one of a pass.
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
old = """'python3 -c "$TRIAL_PROGRAM" --lr=${trialParameters.learningRate} --bad=${trialParameters.bad}'"""
assert old in s, "examples/medianstop.yaml's command changed"
s = s.replace(old, """'n=$(ls RUNS | wc -l); touch RUNS/$$; b=false; [ "$n" -ge 2 ] && b=true; exec python3 -c "$TRIAL_PROGRAM" --lr=${trialParameters.learningRate} --bad=$b --delay=0.3 # ${trialParameters.bad} unused'""")
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

# The fast trial: 3 reports of 5.0 and 5 of 0.0001 in one write, then it
# waits 60 s. Judging only the last report of a pass would let it run.
mkdir -p "$TMP/fastruns" "$MNT/fast" || fail "mkdir fast"
cat >"$TMP/fast.py" <<'PY'
import sys, time
sys.stdout.write("loss=5.0\n" * 3 + "loss=0.0001\n" * 5)
sys.stdout.flush()
time.sleep(60)
PY
python3 - "$TMP/spec.yaml" "$TMP/fast.yaml" "$TMP/fastruns" "$TMP/fast.py" <<'PY'
import sys
s = open(sys.argv[1]).read()
s = s.replace("name: medianstop", "name: fast")
s = s.replace("--bad=$b --delay=0.3", "--bad=false --delay=0.05")
s = s.replace('[ "$n" -ge 2 ] && b=true; exec',
              '[ "$n" -ge 2 ] && exec python3 %s; exec' % sys.argv[4])
s = s.replace(sys.argv[1].rsplit("/", 1)[0] + "/runs", sys.argv[3])
open(sys.argv[2], "w").write(s)
PY
cat "$TMP/fast.yaml" >"$MNT/fast/spec.yaml" || fail "writing the fast spec failed: $(cat "$TMP/fast.yaml")"
wait_trial_state fast 1 Succeeded 30
wait_trial_state fast 2 Succeeded 30
wait_trial_state fast 3 EarlyStopped 30
grep -q '^loss=0.0001' "$MNT/fast/trials/3/log" ||
	fail "trial 3 did not print its reports: $(cat "$MNT/fast/trials/3/log")"
grep -q 'trial 3 early stopped: loss best 5 after 3 steps is worse than the median' "$MNT/fast/events" ||
	fail "events: $(cat "$MNT/fast/events")"
wait_state fast Succeeded 30
exit 0
