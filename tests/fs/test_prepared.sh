#!/bin/sh
# prepared: the next trial's directory that the local backend makes ahead
# while a trial runs (--state/experiments/EXP/.next, core/backends/
# prepared.h) is no trial: the mount never shows it, no number is taken
# for it, and it goes without a trace when the experiment reaches its
# goal, is paused, stopped or removed, and when a daemon killed with one
# ready is mounted again; trials go on numbered 1, 2, 3, each run once.
. "$(dirname "$0")/lib.sh"
mount_fs

RAN=$TMP/ran # outside the state directory: each trial's name, once
: >"$RAN"
# a trial that says it ran, sleeps $1 s and reports loss=layers (1-4)
prog() {
	echo "echo \"\$KATIB_TRIAL_NAME\" >>'$RAN'; echo \"lr=\${trialParameters.lr}\"; sleep $1; echo \"loss=\${trialParameters.layers}\""
}
next() { echo "$STATE/experiments/$1/.next"; }

# no_trace EXP: nothing of a prepared directory in the mount, and trials/
# lists 1..N without a gap, as many as status counts.
no_trace() {
	ls -a "$MNT/$1" "$MNT/$1/trials" | grep -q next &&
		fail "$1: the mount shows a prepared directory: $(ls -a "$MNT/$1/trials")"
	_n=$(status_value "$1" trials)
	[ "$(ls "$MNT/$1/trials" | sort -n | tr '\n' ' ')" = "$(seq 1 "$_n" | tr '\n' ' ')" ] ||
		fail "$1: trials/ is not 1..$_n: $(ls "$MNT/$1/trials" | tr '\n' ' ')"
	[ "$(status_value "$1" pending)" = 0 ] ||
		fail "$1: a trial is pending: $(tr '\n' ' ' <"$MNT/$1/status")"
	grep -q "^trial $((_n + 1)) " "$MNT/$1/events" &&
		fail "$1: events name a trial $((_n + 1)): $(cat "$MNT/$1/events")"
	return 0
}

# 1. The goal is reached (loss <= 10: by trial 1) while trial 2's
# directory is ready: it goes, and trial 1 is the only trial.
mkdir "$MNT/goal" || fail "mkdir goal"
spec_yaml "$(prog 1)" 5 1 |
	yaml_edit "    objectiveMetricName: loss" "    objectiveMetricName: loss
    goal: 10" >"$MNT/goal/spec.yaml" || fail "goal spec"
wait_trial_state goal 1 Running 20
wait_until 10 "test -f '$(next goal)/supervisor' && test -f '$(next goal)/log'" ||
	fail "no directory made ahead while trial 1 runs: $(ls -a "$STATE/experiments/goal")"
wait_state goal Succeeded 20
grep -q '^reason=GoalReached' "$MNT/goal/status" || fail "goal: $(cat "$MNT/goal/status")"
wait_until 10 "test ! -e '$(next goal)'" || fail "goal: .next left: $(ls -a "$STATE/experiments/goal")"
no_trace goal
[ "$(status_value goal trials)" = 1 ] || fail "goal: $(tr '\n' ' ' <"$MNT/goal/status")"

# 2. Paused while trial 1 runs: the directory goes; on resume trial 2 is
# number 2; stopped: it goes again; then rmdir leaves nothing.
mkdir "$MNT/pause" || fail "mkdir pause"
spec_yaml "$(prog 1)" 5 1 >"$MNT/pause/spec.yaml" || fail "pause spec"
wait_trial_state pause 1 Running 20
wait_until 10 "test -d '$(next pause)'" || fail "pause: none made ahead"
echo pause >"$MNT/pause/control" || fail "pause"
wait_state pause Paused 10
wait_until 10 "test ! -e '$(next pause)'" || fail "pause: .next left while Paused"
wait_trial_state pause 1 Succeeded 20
holds 2 "[ ! -e '$(next pause)' ] && [ \$(ls '$MNT/pause/trials' | wc -l) -eq 1 ]" ||
	fail "pause: a trial or a directory made while Paused: $(ls -a "$STATE/experiments/pause")"
no_trace pause
echo resume >"$MNT/pause/control" || fail "resume"
wait_trial_state pause 2 Running 20
wait_until 10 "test -d '$(next pause)'" || fail "resume: none made ahead"
echo stop >"$MNT/pause/control" || fail "stop"
wait_state pause Stopped 20
wait_until 20 "! grep -q '^state=Running' '$MNT/pause/trials/2/status'" ||
	fail "stop: trial 2 still running"
wait_until 10 "test ! -e '$(next pause)'" || fail "stop: .next left"
no_trace pause
rmdir "$MNT/pause" || fail "rmdir after stop"
wait_until 10 "test ! -e '$STATE/experiments/pause'" || fail "rmdir: $STATE/experiments/pause left"

# 3. The daemon is killed while trial 1 runs and trial 2's directory is
# ready: the next daemon removes it, re-adopts trial 1, and every trial
# runs once, numbered 1..3, with none left made ahead at the end.
mkdir "$MNT/crash" || fail "mkdir crash"
spec_yaml "$(prog 3)" 3 1 >"$MNT/crash/spec.yaml" || fail "crash spec"
wait_trial_state crash 1 Running 20
wait_until 10 "test -f '$(next crash)/supervisor'" || fail "crash: none made ahead"
kill -KILL "$PID" || fail "kill"
wait "$PID" 2>/dev/null
PID=
timeout 10 fusermount3 -u -z "$MNT" || fail "lazy unmount after kill"
mount_fs
wait_until 10 "test ! -e '$(next crash)'" ||
	fail "crash: the dead daemon's .next is still there: $(ls -a "$STATE/experiments/crash")"
grep -q '^state=Running' "$MNT/crash/trials/1/status" ||
	fail "crash: trial 1 not re-adopted: $(cat "$MNT/crash/trials/1/status")"
wait_state crash Succeeded 40
wait_until 10 "test ! -e '$(next crash)'" || fail "crash: .next left at the end"
no_trace crash
[ "$(status_value crash succeeded)" = 3 ] || fail "crash: $(tr '\n' ' ' <"$MNT/crash/status")"
ran=$(grep -c crash "$RAN")
dups=$(grep crash "$RAN" | sort | uniq -d | wc -l)
[ "$ran" = 3 ] && [ "$dups" = 0 ] || fail "crash: trials ran $ran times, $dups twice: $(cat "$RAN")"
exit 0
