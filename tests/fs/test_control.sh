#!/bin/sh
# control: pause (no new trials), resume, kill of one trial, unknown words,
# rmdir of a running experiment (EBUSY), stop, then rmdir.
. "$(dirname "$0")/lib.sh"
mount_fs

E=$MNT/ctl
mkdir "$E" || fail "mkdir"
spec_yaml "$(slow_program 3)" 6 1 >"$E/spec.yaml" || fail "spec write"
wait_state ctl Running
wait_trial_state ctl 1 Running 20
grep -q '^state=Running' "$E/control" || fail "control does not read the state: $(cat "$E/control")"

# Unknown control words: EINVAL, and events lists the accepted ones.
# (/bin/echo: dash's builtin reports every write error as "I/O error".)
expect_fail "bogus control word" "Invalid argument" sh -c "/bin/echo bogus > '$E/control'"
grep 'bogus' "$E/events" | grep -q 'pause' || fail "events does not explain the bad control word"
expect_fail "bogus trial control" "Invalid argument" sh -c "/bin/echo pause > '$E/trials/1/control'"
expect_fail "write trial status" "Permission denied" sh -c "echo x > '$E/trials/1/status'"

# rmdir of a running experiment: EBUSY.
expect_fail "rmdir running" "busy" rmdir "$E"

# pause: trial 1 runs to its end, no trial 2 starts.
echo pause >"$E/control" || fail "pause"
wait_state ctl Paused 10
expect_fail "rmdir paused with a running trial" "busy" rmdir "$E"
wait_trial_state ctl 1 Succeeded 20
# a new trial would start within a controller pass of trial 1's end
holds 2 "[ \$(ls '$E/trials' | wc -l) -eq 1 ]" || fail "a trial started while paused: $(ls "$E/trials")"
state_is ctl Paused || fail "not Paused any more: $(cat "$E/status")"

# resume: trial 2 starts; kill it: Killed, and the experiment goes on.
printf 'resume\n' >"$E/control" || fail "resume"
wait_until 20 "test -d '$E/trials/2'" || fail "no trial 2 after resume"
wait_trial_state ctl 2 Running 20
echo kill >"$E/trials/2/control" || fail "kill trial 2"
wait_trial_state ctl 2 Killed 20
wait_until 20 "test -d '$E/trials/3'" || fail "no trial 3 after a kill"
state_is ctl Running || fail "experiment not Running after a trial kill: $(cat "$E/status")"
[ "$(status_value ctl killed)" = 1 ] || fail "killed count: $(status_value ctl killed)"

# stop: running trials killed, state Stopped; then rmdir works.
wait_trial_state ctl 3 Running 20
echo stop >"$E/control" || fail "stop"
wait_state ctl Stopped 20
wait_until 20 "! grep -q '^state=Running' '$E/trials/3/status'" || fail "trial 3 still running after stop"
grep -q 'Stopped' "$E/events" || fail "events has no Stopped line"
rmdir "$E" || fail "rmdir after stop"
[ ! -e "$E" ] || fail "experiment still there after rmdir"
ls "$MNT" | grep -qx ctl && fail "experiment still listed"
exit 0
