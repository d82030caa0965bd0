#!/bin/sh
# An early stop decided just before the daemon is SIGKILLed. The next mount
# must show a consistent trial: stopped with its reason (TrialEarlyStopped,
# its "early stopped" event kept), or re-adopted and decided again; never
# Failed because the SIGTERM it was sent outlived the decision's record,
# nor Running forever. Two kills: (a) once the trial has received its
# SIGTERM (it takes 1 s to exit: the decision must be on disk by then);
# (b) as soon as `events` shows the decision (within the store's unsynced
# window, or just after it).
. "$(dirname "$0")/lib.sh"

# Trials 1 and 2 report loss=1 four times; the later ones loss=5 every
# 0.2 s for a minute, and on SIGTERM touch RUNS.TERMED, wait 1 s and exit.
# RUNS/PID: each run of a trial.
PROG=": \${trialParameters.lr} \${trialParameters.layers}; n=\$(ls $TMP/RUNS | wc -l); touch $TMP/RUNS/\$\$; \
if [ \$n -lt 2 ]; then for i in 1 2 3 4; do echo loss=1; done; exit 0; fi; \
trap 'touch $TMP/RUNS.TERMED; sleep 1; exit 143' TERM; \
i=0; while [ \$i -lt 300 ]; do echo loss=5; i=\$((i + 1)); sleep 0.2; done"

# kill_daemon: SIGKILL, and the dead mount lazily unmounted.
kill_daemon() {
	kill -KILL "$PID" || fail "daemon died by itself"
	wait "$PID" 2>/dev/null
	PID=
	timeout 10 fusermount3 -u -z "$MNT" || fail "lazy unmount after kill"
}

# run_case EXP WHEN: the experiment, the daemon killed WHEN (a file that
# appears, or the decision's line in events), then remounted: trial 3 ends
# EarlyStopped, TrialEarlyStopped, its decision in events.
run_case() {
	rm -rf "$TMP/RUNS" "$TMP/RUNS.TERMED"
	mkdir "$TMP/RUNS" || fail "mkdir RUNS"
	mount_fs
	mkdir "$MNT/$1" || fail "mkdir $1"
	spec_yaml "$PROG" 3 1 | yaml_edit "  algorithm:" "  earlyStopping:
    algorithmName: medianstop
    algorithmSettings:
      - {name: min_trials_required, value: \"2\"}
      - {name: start_step, value: \"3\"}
  algorithm:" >"$MNT/$1/spec.yaml" || fail "spec: $(cat "$MNT/$1/events")"
	! grep -q rejected "$MNT/$1/events" || fail "$1: $(cat "$MNT/$1/events")"
	_end=$(($(date +%s) + 60))
	case $2 in
	event) until grep -q 'trial 3 early stopped' "$MNT/$1/events" 2>/dev/null; do
		[ "$(date +%s)" -lt $_end ] || fail "$1: no early stop: $(cat "$MNT/$1/events")"
		sleep 0.01
	done ;;
	*) until [ -e "$2" ]; do
		[ "$(date +%s)" -lt $_end ] || fail "$1: trial 3 got no SIGTERM: $(cat "$MNT/$1/events")"
		sleep 0.01
	done ;;
	esac
	kill_daemon
	echo "$1: killed; trial 3 had its SIGTERM: $([ -e "$TMP/RUNS.TERMED" ] && echo yes || echo no)"
	# (a): the trial ends while no daemon runs; (b): it may run on
	[ "$2" = event ] ||
		wait_until 10 "! kill -0 $(ls -t "$TMP/RUNS" | head -n 1)" ||
		fail "$1: trial 3 did not exit after its SIGTERM"
	mount_fs
	wait_trial_state "$1" 3 EarlyStopped 30
	grep -q '^reason=TrialEarlyStopped$' "$MNT/$1/trials/3/status" ||
		fail "$1 trial 3: $(cat "$MNT/$1/trials/3/status")"
	grep -q 'trial 3 early stopped: ' "$MNT/$1/events" ||
		fail "$1 events: $(cat "$MNT/$1/events")"
	wait_state "$1" Succeeded 30
	[ "$(ls "$TMP/RUNS" | wc -l)" = 3 ] || fail "$1: $(ls "$TMP/RUNS" | wc -l) trial runs, not 3"
	unmount_fs || fail "unmount"
}

run_case signalled "$TMP/RUNS.TERMED"
run_case decided event
exit 0
