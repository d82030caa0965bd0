#!/bin/sh
# MOUNTPOINT/events, the mount-wide events: the daemon's start (version,
# backend, state, mount point) and clean stop, rejected mkdir names with the
# naming rule (also in README), `tail -f`, and after a restart the trials
# found: those still running (re-adopted) and those that ended while the
# daemon was down. The lines persist across remounts.
. "$(dirname "$0")/lib.sh"

RSTATE=$(cd "$TMP" && pwd -P)/state
RMNT=$(cd "$TMP" && pwd -P)/mnt
VERSION=$("$KATIBFS" --version | awk '{ print $2 }')
RULE="1 to 40 characters: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit"

# has TEXT: events holds a line containing TEXT (fixed string).
has() {
	grep -qF -- "$1" "$MNT/events"
}

mount_fs
[ "$(ls -l "$MNT/events" | cut -c1-10)" = "-r--r--r--" ] ||
	fail "events mode: $(ls -l "$MNT/events")"
ls "$MNT" | grep -qx events || fail "events not listed: $(ls "$MNT")"
has "katibfs $VERSION started (pid $PID): backend local, state $RSTATE, mounted on $RMNT" ||
	fail "no start line: $(cat "$MNT/events")"
grep -q '^[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9:.]*Z katibfs ' "$MNT/events" ||
	fail "not <RFC3339> <message>: $(cat "$MNT/events")"
grep -qF "$RULE" "$MNT/README" || fail "README does not state the naming rule: $(cat "$MNT/README")"
expect_fail "write to events" "Permission denied" sh -c "echo x >>'$MNT/events'"

# tail -f sees rejected names as they happen.
tail -f "$MNT/events" >"$TMP/tail" 2>&1 &
TAIL=$!
expect_fail "mkdir Bad_Name" "Invalid argument" mkdir "$MNT/Bad_Name"
expect_fail "mkdir of 41 characters" "Invalid argument" \
	mkdir "$MNT/a2345678901234567890123456789012345678901"
expect_fail "mkdir 9lives" "Invalid argument" mkdir "$MNT/9lives"
expect_fail "mkdir events" "File exists" mkdir "$MNT/events"
wait_until 10 "grep -qF '41 characters' '$TMP/tail'" ||
	{ kill "$TAIL"; fail "tail -f did not see the rejection: $(cat "$TMP/tail")"; }
kill "$TAIL"
wait "$TAIL" 2>/dev/null
has "rejected mkdir Bad_Name: not a valid name; an experiment name is $RULE (e.g. random-search-1)" ||
	fail "no Bad_Name line: $(cat "$MNT/events")"
has "rejected mkdir a2345678901234567890123456789012345678901: 41 characters; an experiment name is $RULE" ||
	fail "no too-long line: $(cat "$MNT/events")"
has "rejected mkdir 9lives: not a valid name" || fail "no 9lives line: $(cat "$MNT/events")"
[ "$(ls "$MNT" | tr '\n' ' ')" = "README events " ] || fail "a rejected mkdir left something: $(ls "$MNT")"

# A clean stop with nothing running, then one while two trials run.
unmount_fs || fail "unmount"
mount_fs
has "katibfs stopped (pid" || fail "no stop line after a remount: $(cat "$MNT/events")"
has "no trial was running" || fail "stop line: $(cat "$MNT/events")"
[ "$(grep -c ' started (pid' "$MNT/events")" = 2 ] || fail "start lines: $(cat "$MNT/events")"
grep -q "did not stop cleanly" "$MNT/events" && fail "a clean stop taken for a kill: $(cat "$MNT/events")"

# Each trial runs until the test releases it (by its name).
PROG=": \${trialParameters.lr} \${trialParameters.layers}; touch '$TMP/run.'\$KATIB_TRIAL_NAME; while [ ! -e '$TMP/go.'\$KATIB_TRIAL_NAME ]; do sleep 0.1; done; echo loss=1"
mkdir "$MNT/held" || fail "mkdir held"
spec_yaml "$PROG" 2 2 >"$MNT/held/spec.yaml" || fail "spec: $(cat "$MNT/held/status")"
wait_trial_state held 1 Running 30
wait_trial_state held 2 Running 30
name1=$(sed -n 's/^name=//p' "$MNT/held/trials/1/status")
name2=$(sed -n 's/^name=//p' "$MNT/held/trials/2/status")
[ -n "$name1" ] && [ -n "$name2" ] || fail "trial names: $(cat "$MNT/held/trials/1/status")"
wait_until 30 "[ -e '$TMP/run.$name1' ] && [ -e '$TMP/run.$name2' ]" || fail "the trials did not start"
unmount_fs || fail "unmount with running trials"

# Trial 1 ends while the daemon is down (its supervisor records the exit).
touch "$TMP/go.$name1"
wait_until 30 "grep -q '^exit ' '$STATE/experiments/held/1/supervisor'" ||
	fail "trial 1 did not end: $(cat "$STATE/experiments/held/1/supervisor")"
mount_fs
has "katibfs stopped (pid" || fail "no stop line: $(cat "$MNT/events")"
has "2 trials still running go on and are re-adopted at the next mount" ||
	fail "stop line does not count the running trials: $(cat "$MNT/events")"
has "after the restart: 1 trial still running, re-adopted: held/2; 1 ended while katibfs was down: held/1 (Succeeded)" ||
	fail "no re-adoption line: $(cat "$MNT/events")"
wait_trial_state held 1 Succeeded 10
touch "$TMP/go.$name2"
wait_state held Succeeded 30

# After the clean stop below, the next mount re-adopts nothing.
unmount_fs || fail "unmount"
mount_fs
[ "$(grep -c 'after the restart' "$MNT/events")" = 1 ] ||
	fail "a restart with nothing running reported trials: $(cat "$MNT/events")"
tail -n 2 "$MNT/events" | head -n 1 | grep -q "katibfs stopped (pid [0-9]*); no trial was running" ||
	fail "last stop line: $(tail -n 3 "$MNT/events")"
exit 0
