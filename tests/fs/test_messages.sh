#!/bin/sh
# Messages that say what to do (issue 9):
#   - a spec error names its line and, for a misspelt name, "did you mean";
#     `katibfs check` prints the same message as events;
#   - a quoted integer (maxTrialCount: "4") is EINVAL, naming the field;
#   - `: > spec.yaml` (an empty spec) is EINVAL with an events line;
#   - a trial that reports no objective: its status message= quotes the
#     log's last line and says what the collector expects; the experiment
#     that fails of it (MaxFailedReached, failed=0) says so in message=;
#   - a trial killed by katibfs/trial-timeout says so in message=;
#   - raising maxTrialCount under resumePolicy Never names a way that works.
. "$(dirname "$0")/lib.sh"

# events_has EXP TEXT: the experiment's events file holds TEXT (fixed).
events_has() {
	grep -qF -- "$2" "$MNT/$1/events" ||
		fail "$1 events lack '$2': $(tail -n 5 "$MNT/$1/events")"
}

# trial_value EXP N KEY: a key of trials/N/status, sh-unquoted.
trial_value() {
	(. "$MNT/$1/trials/$2/status" && eval "printf '%s' \"\$$3\"")
}

mount_fs
mkdir "$MNT/bad" || fail "mkdir bad"

# --- a misspelt algorithm: line and "did you mean", the same in check
spec_yaml "$QUICK" 2 1 | sed 's/algorithmName: random/algorithmName: randm/' >"$TMP/algo.yaml"
line=$(grep -n 'algorithmName: randm' "$TMP/algo.yaml" | cut -d: -f1)
expect_fail "misspelt algorithm" "Invalid argument" sh -c "cat '$TMP/algo.yaml' > '$MNT/bad/spec.yaml'"
events_has bad "spec.algorithm.algorithmName: unknown algorithm 'randm'"
events_has bad "did you mean random? (line $line)"
"$KATIBFS" check "$TMP/algo.yaml" >/dev/null 2>"$TMP/check.err" && fail "check accepted randm"
msg=$(sed -n 's/^katibfs: check: //p' "$TMP/check.err")
[ -n "$msg" ] || fail "check printed no message: $(cat "$TMP/check.err")"
events_has bad "rejected spec.yaml: $msg"

# --- a placeholder that is not declared
spec_yaml 'echo ${trialParameters.lyers}; echo ${trialParameters.layers} ${trialParameters.lr}' 2 1 >"$TMP/ph.yaml"
line=$(grep -n 'trialParameters.lyers' "$TMP/ph.yaml" | cut -d: -f1)
expect_fail "undeclared placeholder" "Invalid argument" sh -c "cat '$TMP/ph.yaml' > '$MNT/bad/spec.yaml'"
events_has bad 'uses ${trialParameters.lyers}'
events_has bad "did you mean layers? (line $line)"

# --- a declared trial parameter the template does not use: its line
spec_yaml 'echo loss=${trialParameters.lr}' 2 1 >"$TMP/unused.yaml"
line=$(grep -n -- '- name: layers' "$TMP/unused.yaml" | tail -n 1 | cut -d: -f1)
expect_fail "unused trial parameter" "Invalid argument" sh -c "cat '$TMP/unused.yaml' > '$MNT/bad/spec.yaml'"
events_has bad "trialParameters[1]: \"layers\" is declared but"
events_has bad "(line $line)"

# --- a quoted integer, as Katib's schema refuses it
spec_yaml "$QUICK" 4 1 | sed 's/maxTrialCount: 4/maxTrialCount: "4"/' >"$TMP/quoted.yaml"
line=$(grep -n 'maxTrialCount: "4"' "$TMP/quoted.yaml" | cut -d: -f1)
expect_fail "quoted maxTrialCount" "Invalid argument" sh -c "cat '$TMP/quoted.yaml' > '$MNT/bad/spec.yaml'"
events_has bad "spec.maxTrialCount: must be an integer, without quotes"
events_has bad "(line $line)"
state_is bad Invalid || fail "a rejected spec started something: $(cat "$MNT/bad/status")"

# --- an empty spec: through the shell (which ignores close's error) the
# events line says so; through python close() fails with EINVAL
before=$(wc -l <"$MNT/bad/events")
: >"$MNT/bad/spec.yaml"
wait_until 10 "[ \$(wc -l <'$MNT/bad/events') -gt $before ]" ||
	fail "': > spec.yaml' left no events line"
events_has bad "rejected spec.yaml: the spec is empty"
grep -q "^error='the spec is empty" "$MNT/bad/status" ||
	fail "status error= after an empty spec: $(cat "$MNT/bad/status")"
python3 - "$MNT/bad/spec.yaml" <<'PY' || fail "python: an empty spec did not fail with EINVAL at close"
import errno, sys
try:
    open(sys.argv[1], "w").close()
except OSError as e:
    sys.exit(0 if e.errno == errno.EINVAL else 1)
sys.exit(1)
PY

# --- no objective observed: the trial says what was expected, and the
# experiment that fails of it says why failed=0
mkdir "$MNT/noobj" || fail "mkdir noobj"
spec_yaml 'echo "lr ${trialParameters.lr} layers ${trialParameters.layers}"; echo "loss: 0.5"' 2 1 |
	sed 's/maxFailedTrialCount: 2/maxFailedTrialCount: 1/' >"$MNT/noobj/spec.yaml" ||
	fail "noobj spec: $(cat "$MNT/noobj/status")"
wait_state noobj Failed 60
wait_trial_state noobj 1 MetricsUnavailable 10
m=$(trial_value noobj 1 message)
case $m in
*'its log ends with "loss: 0.5"'*"the StdOut collector expects lines like loss=0.97"*) ;;
*) fail "trial 1 message=: $m" ;;
esac
events_has noobj 'its log ends with "loss: 0.5"' 
[ "$(status_value noobj reason)" = MaxFailedReached ] || fail "noobj: $(cat "$MNT/noobj/status")"
[ "$(status_value noobj failed)" = 0 ] || fail "noobj failed=: $(cat "$MNT/noobj/status")"
grep -q "^message='0 trials failed and 1 reported no objective (MetricsUnavailable)" "$MNT/noobj/status" ||
	fail "experiment message=: $(cat "$MNT/noobj/status")"
events_has noobj "MaxFailedReached: 0 trials failed and 1 reported no objective"

# --- the File collector names the file it reads
mkdir "$MNT/file" || fail "mkdir file"
spec_yaml 'echo "loss=0.5 to stdout, not the file" ${trialParameters.lr} ${trialParameters.layers}' 1 1 File >"$MNT/file/spec.yaml" ||
	fail "file spec: $(cat "$MNT/file/status")"
wait_trial_state file 1 MetricsUnavailable 60
case $(trial_value file 1 message) in
*"the File collector reads /var/log/katib/metrics.log and expects lines like loss=0.97"*) ;;
*) fail "File trial message=: $(trial_value file 1 message)" ;;
esac

# --- a trial killed by katibfs/trial-timeout says so
mkdir "$MNT/slow" || fail "mkdir slow"
spec_yaml 'sleep 60; echo loss=${trialParameters.lr} ${trialParameters.layers}' 1 1 |
	sed 's/^  namespace: kubeflow/  namespace: kubeflow\n  annotations:\n    katibfs\/trial-timeout: 1s/' \
		>"$MNT/slow/spec.yaml" || fail "slow spec: $(cat "$MNT/slow/status")"
wait_trial_state slow 1 Failed 40
[ "$(trial_value slow 1 reason)" = Timeout ] || fail "slow trial: $(cat "$MNT/slow/trials/1/status")"
[ "$(trial_value slow 1 message)" = "killed after the trial timeout of 1s (katibfs/trial-timeout)" ] ||
	fail "timeout message=: $(trial_value slow 1 message)"

# --- resumePolicy Never: raising maxTrialCount names a way that works
mkdir "$MNT/never" || fail "mkdir never"
spec_yaml "$QUICK" 1 1 | sed 's/^spec:/spec:\n  resumePolicy: Never/' >"$TMP/never.yaml"
cp "$TMP/never.yaml" "$MNT/never/spec.yaml" || fail "never spec: $(cat "$MNT/never/status")"
wait_state never Succeeded 60
sed 's/maxTrialCount: 1/maxTrialCount: 3/' "$TMP/never.yaml" >"$TMP/never3.yaml"
line=$(grep -n 'resumePolicy: Never' "$TMP/never3.yaml" | cut -d: -f1)
expect_fail "raise maxTrialCount under Never" "Operation not permitted" sh -c "cat '$TMP/never3.yaml' > '$MNT/never/spec.yaml'"
events_has never "continue it in a new experiment that takes its trials as history: mkdir NEW && cp never/spec.yaml NEW/spec.yaml, and there add the annotation katibfs/warm-start: \"never\""
events_has never "(line $line)"
# and the way it names works: never's trial is never2's history
mkdir "$MNT/never2" || fail "mkdir never2"
sed 's/^  namespace: kubeflow/  namespace: kubeflow\n  annotations:\n    katibfs\/warm-start: never/; s/maxTrialCount: 1/maxTrialCount: 2/' \
	"$TMP/never.yaml" >"$MNT/never2/spec.yaml" || fail "the new experiment was refused: $(cat "$MNT/never2/status")"
wait_state never2 Succeeded 60
[ "$(status_value never2 trials)" = 2 ] || fail "never2: $(cat "$MNT/never2/status")"
[ "$(status_value never2 warm_start)" = 1 ] || fail "never2 took no history: $(cat "$MNT/never2/status")"
exit 0
