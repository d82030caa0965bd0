#!/bin/sh
# The Push collector: a trial's metrics come from `echo name=value >> metrics`.
. "$(dirname "$0")/lib.sh"
mount_fs

E=$MNT/pushed
mkdir "$E" || fail "mkdir"
# the trial runs until the test says so (a file in its directory), so the
# pushes below arrive while it runs however slow the machine is
spec_yaml 'echo waiting ${trialParameters.lr} ${trialParameters.layers}; i=0; while [ ! -e "$KATIB_TRIAL_DIR/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo done' 1 1 Push >"$E/spec.yaml" || fail "spec"
wait_trial_state pushed 1 Running 20
echo loss=0.125 >>"$E/trials/1/metrics" || fail "push loss"
python3 -c "
import sys
with open(sys.argv[1], 'a') as f:
    f.write('loss=0.25\n')
" "$E/trials/1/metrics" || fail "push from python"
grep -q ',loss,0.125' "$E/trials/1/observations" || fail "observations: $(cat "$E/trials/1/observations")"
grep -q ',loss,0.25' "$E/trials/1/observations" || fail "second observation missing"
grep -q '^loss=' "$E/trials/1/metrics" || fail "metrics: $(cat "$E/trials/1/metrics")"
expect_fail "write observations" "Permission denied" sh -c "echo x > '$E/trials/1/observations'"
touch "$STATE/experiments/pushed/1/go"
wait_state pushed Succeeded 20
grep -q '^loss=0.125$' "$E/trials/1/metrics" || fail "metrics after the end (min): $(cat "$E/trials/1/metrics")"
tail -n 1 "$E/trials.csv" | grep -q ',0.125$' || fail "trials.csv: $(cat "$E/trials.csv")"
exit 0
