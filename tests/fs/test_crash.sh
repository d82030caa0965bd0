#!/bin/sh
# Crash test (short; bench/crash.sh is the long one). An experiment of
# CRASH_TRIALS trials, parallelTrialCount 4; each trial appends its
# $KATIB_TRIAL_NAME to a shared file outside the state directory, sleeps
# 0.1-0.5 s and prints loss=. The daemon is killed with SIGKILL at random
# moments CRASH_KILLS times, the dead mount lazily unmounted and the daemon
# mounted again on the same --state, until the experiment has Succeeded.
# Then: exactly CRASH_TRIALS trials, none lost (all Succeeded, each with its
# loss in metrics), none run twice (each name once in the shared file),
# trials.csv complete, and the database passes PRAGMA integrity_check.
. "$(dirname "$0")/lib.sh"

N=${CRASH_TRIALS:-30}
KILLS=${CRASH_KILLS:-$((4 + $(od -An -N1 -tu1 /dev/urandom) % 2))}
DEADLINE=${CRASH_DEADLINE:-50}
RAN=$TMP/ran	# outside the state directory
: >"$RAN"
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 CLI"; exit 77; }

# rand N: 0 .. N-1 from /dev/urandom.
rand() {
	echo $(($(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1))
}

# The trial's sleep comes from its parameter (0.1-0.5 s, random per trial;
# CRASH_SLEEP_MIN/MAX change it).
PROG="echo \"\$KATIB_TRIAL_NAME\" >>'$RAN'; sleep \${trialParameters.lr}; echo \"loss=\${trialParameters.layers}\""
spec_yaml "$PROG" "$N" 4 |
	sed -e "s/min: \"0.01\"/min: \"${CRASH_SLEEP_MIN:-0.1}\"/" \
		-e "s/max: \"0.1\"/max: \"${CRASH_SLEEP_MAX:-0.5}\"/" \
		-e "s/maxFailedTrialCount: .*/maxFailedTrialCount: $N/" >"$TMP/spec.yaml"

mount_fs
mkdir "$MNT/crash" || fail "mkdir"
cp "$TMP/spec.yaml" "$MNT/crash/spec.yaml" || fail "spec: $(cat "$MNT/crash/status")"
start=$(date +%s)
kills=0
# Random moments: each daemon lives a random 0-CRASH_GAP ms (400 by
# default) from its start, so some kills land while it opens the database,
# rebuilds its model and re-adopts trials, and some while it serves and
# schedules. The dead mount is unmounted lazily (if it was mounted yet).
# Finishing before all the kills is a failure: it would prove nothing.
while [ $kills -lt "$KILLS" ]; do
	sleep "$(rand "${CRASH_GAP:-400}" | awk '{ printf "%.3f", $1 / 1000 }')"
	if [ -r "$MNT/README" ]; then
		state_is crash Succeeded &&
			fail "finished after only $kills kills: $(tr '\n' ' ' <"$MNT/crash/status")"
		how="serving, succeeded=$(status_value crash succeeded)"
	else
		how="starting"
	fi
	kill -KILL "$PID" 2>/dev/null || fail "daemon died by itself"
	wait "$PID" 2>/dev/null
	PID=
	if is_mounted; then
		timeout 10 fusermount3 -u -z "$MNT" || fail "lazy unmount after kill"
	fi
	kills=$((kills + 1))
	echo "kill $kills: $how"
	[ "$(($(date +%s) - start))" -lt "$DEADLINE" ] || fail "no end after $kills kills"
	"$KATIBFS" -f --state "$STATE" "$MNT" >>"$TMP/daemon.log" 2>&1 &
	PID=$!
done
_i=0
until [ -r "$MNT/README" ] && is_mounted; do
	_i=$((_i + 1))
	[ $_i -lt 500 ] || fail "the last mount did not appear"
	kill -0 "$PID" 2>/dev/null || fail "daemon exited at mount"
	sleep 0.02
done
left=$((DEADLINE - ($(date +%s) - start)))
[ $left -gt 5 ] || left=5
wait_state crash Succeeded "$left"
secs=$(($(date +%s) - start))

# Count before judging, so that bench/crash.sh can report the figures.
trials=$(status_value crash trials)
dups=$(sort "$RAN" | uniq -d | wc -l)
ran=$(sort -u "$RAN" | wc -l)
lost=0	# not Succeeded, or without the loss it printed
i=1
while [ $i -le "$N" ]; do
	d=$MNT/crash/trials/$i
	want=$(sed -n 's/^layers=//p' "$d/params" 2>/dev/null)
	if ! grep -q '^state=Succeeded$' "$d/status" 2>/dev/null ||
		! grep -qx "loss=$want" "$d/metrics" 2>/dev/null; then
		lost=$((lost + 1))
		echo "lost: trial $i: $(tr '\n' ' ' <"$d/status" 2>&1) metrics: $(tr '\n' ' ' <"$d/metrics" 2>&1)"
		echo "  supervisor file: [$(tr '\n' ' ' <"$STATE/experiments/crash/$i/supervisor" 2>&1)]"
	fi
	i=$((i + 1))
done
if [ "$ran" -ne "$N" ]; then
	echo "shared file: $(sort "$RAN" | tr '\n' ' ')"
	grep -E "trial [0-9]+ " "$MNT/crash/events" | tail -n 40
fi
rows=$(tail -n +2 "$MNT/crash/trials.csv" | wc -l)
unmount_fs || fail "unmount"
ic=$(sqlite3 "$STATE/katibfs.db" 'PRAGMA integrity_check' 2>&1)
echo "crash: kills=$kills trials=$trials ran=$ran duplicates=$dups lost=$lost rows=$rows integrity=$ic time=${secs}s"

[ "$trials" = "$N" ] || fail "trials=$trials, want $N"
[ "$dups" -eq 0 ] || fail "run twice: $(sort "$RAN" | uniq -d | tr '\n' ' ')"
[ "$ran" -eq "$N" ] || fail "$ran distinct trials ran, want $N"
[ "$lost" -eq 0 ] || fail "$lost trials lost"
[ "$rows" -eq "$N" ] || fail "trials.csv has $rows rows, want $N"
[ "$ic" = ok ] || fail "integrity_check: $ic"
exit 0
