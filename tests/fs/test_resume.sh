#!/bin/sh
# Resume policies (Katib's resumePolicy), a paused experiment across a
# remount, and the katibfs/trial-timeout annotation.
#
#   Never        a finished experiment cannot be restarted: raising
#                maxTrialCount in spec.yaml fails with EPERM (close() of a
#                python open/write/close), the reason in events;
#   LongRunning, FromVolume
#                raising maxTrialCount above the trial count restarts it:
#                Running, then Succeeded with the new count, and the grid
#                goes on with new points (no parameter set twice), for
#                FromVolume after a remount too;
#   Paused       stays Paused across unmount/mount, and starts nothing;
#   timeout      a `sleep 30` trial is killed: Failed, reason Timeout.
. "$(dirname "$0")/lib.sh"

# grid_spec POLICY MAX: grid over layers 1..8 (8 points), sequential trials.
grid_spec() {
	spec_yaml "$QUICK" "$2" 1 |
		sed -e 's/algorithmName: random/algorithmName: grid/' \
			-e "s/^spec:/spec:\n  resumePolicy: $1/" \
			-e 's/max: "4"/max: "8"/' \
			-e 's/max: "0.1"/max: "0.02"\n        step: "0.01"/'
}

# set_max EXP N: rewrite maxTrialCount in spec.yaml through python's
# open/write/close; prints OK or the errno of the failure.
set_max() {
	timeout 20 python3 - "$MNT/$1/spec.yaml" "$2" <<'EOF'
import re, sys
path, n = sys.argv[1], sys.argv[2]
text = open(path).read()
text, k = re.subn(r'(?m)^(\s*maxTrialCount:\s*)\d+', r'\g<1>' + n, text)
assert k == 1, text
try:
    with open(path, 'w') as f:
        f.write(text)
    print('OK')
except OSError as e:
    print('errno=%d %s' % (e.errno, type(e).__name__))
EOF
}

# distinct_params EXP: number of distinct (lr, layers) rows in trials.csv.
distinct_params() {
	tail -n +2 "$MNT/$1/trials.csv" | cut -d, -f3,4 | sort -u | wc -l
}

mount_fs

# --- Never
mkdir "$MNT/never" || fail "mkdir never"
grid_spec Never 2 >"$MNT/never/spec.yaml" || fail "spec never: $(cat "$MNT/never/status")"
wait_state never Succeeded 60
[ "$(status_value never reason)" = MaxTrialsReached ] || fail "never: $(cat "$MNT/never/status")"
got=$(set_max never 4)
[ "$got" = "errno=1 PermissionError" ] || fail "Never restart: $got, want EPERM"
grep -q "resumePolicy is Never" "$MNT/never/events" ||
	fail "no reason in events: $(tail -n 3 "$MNT/never/events")"
state_is never Succeeded || fail "never changed state: $(cat "$MNT/never/status")"
[ "$(status_value never trials)" = 2 ] || fail "never made trials"

# --- LongRunning and FromVolume: restart, the grid continues
for policy in LongRunning FromVolume; do
	e=$(echo "$policy" | tr 'A-Z' 'a-z')
	mkdir "$MNT/$e" || fail "mkdir $e"
	grid_spec "$policy" 3 >"$MNT/$e/spec.yaml" || fail "spec $e: $(cat "$MNT/$e/status")"
	wait_state "$e" Succeeded 60
	[ "$(status_value "$e" trials)" = 3 ] || fail "$e: $(cat "$MNT/$e/status")"
	# FromVolume: across a remount too (the grid's state comes from the DB).
	if [ "$policy" = FromVolume ]; then
		unmount_fs || fail "unmount"
		mount_fs
	fi
	got=$(set_max "$e" 6)
	[ "$got" = OK ] || fail "$policy restart: $got; events: $(tail -n 3 "$MNT/$e/events")"
	# Running at once (or already done, if its 3 new trials were quick).
	s=$(status_value "$e" state)
	case $s in
	Running) ;;
	Succeeded) [ "$(status_value "$e" trials)" = 6 ] || fail "$e: Succeeded without running" ;;
	*) fail "$e after restart: $(cat "$MNT/$e/status")" ;;
	esac
	grep -q "maxTrialCount=6" "$MNT/$e/events" || fail "$e: no update event"
	wait_until 60 "grep -q '^trials=6\$' '$MNT/$e/status' && grep -q '^state=Succeeded\$' '$MNT/$e/status'" ||
		fail "$e did not finish with 6 trials: $(tr '\n' ' ' <"$MNT/$e/status")"
	[ "$(status_value "$e" reason)" = MaxTrialsReached ] || fail "$e: $(cat "$MNT/$e/status")"
	[ "$(distinct_params "$e")" -eq 6 ] ||
		fail "$e: the grid repeated points: $(cat "$MNT/$e/trials.csv")"
done

# A restart that does not raise maxTrialCount above the trials: EPERM.
got=$(set_max longrunning 5)
[ "$got" = "errno=1 PermissionError" ] || fail "lowering below trials: $got"

# --- Paused stays Paused across a remount
mkdir "$MNT/paused" || fail "mkdir paused"
spec_yaml "$(slow_program 1)" 20 1 >"$MNT/paused/spec.yaml" || fail "spec paused"
wait_trial_state paused 1 Running 30
echo pause >"$MNT/paused/control" || fail "pause"
wait_state paused Paused 10
unmount_fs || fail "unmount"
mount_fs
state_is paused Paused || fail "after remount: $(cat "$MNT/paused/status")"
# The trial that was running goes on to its end; nothing new starts.
wait_trial_state paused 1 Succeeded 30
# a new trial would start within a controller pass of trial 1's end
holds 2 "grep -q '^trials=1\$' '$MNT/paused/status'" ||
	fail "paused started trials: $(cat "$MNT/paused/status")"
state_is paused Paused || fail "paused changed: $(cat "$MNT/paused/status")"
echo resume >"$MNT/paused/control" || fail "resume"
wait_until 20 "[ \$(sed -n 's/^trials=//p' '$MNT/paused/status') -ge 2 ]" ||
	fail "resume started nothing: $(tr '\n' ' ' <"$MNT/paused/status")"
echo stop >"$MNT/paused/control" || fail "stop"

# --- the trial timeout annotation
mkdir "$MNT/slow" || fail "mkdir slow"
spec_yaml "sleep 30; echo loss=\${trialParameters.lr} \${trialParameters.layers}" 1 1 |
	sed 's/^  namespace: kubeflow/  namespace: kubeflow\n  annotations:\n    katibfs\/trial-timeout: 2s/' \
		>"$MNT/slow/spec.yaml" || fail "spec slow: $(cat "$MNT/slow/status")"
grep -q "trial-timeout" "$MNT/slow/spec.yaml" || fail "annotation not kept: $(cat "$MNT/slow/spec.yaml")"
start=$(date +%s)
wait_trial_state slow 1 Failed 20
grep -q '^reason=Timeout$' "$MNT/slow/trials/1/status" ||
	fail "timeout reason: $(cat "$MNT/slow/trials/1/status")"
[ $(($(date +%s) - start)) -lt 15 ] || fail "timeout took $(($(date +%s) - start))s"
exit 0
