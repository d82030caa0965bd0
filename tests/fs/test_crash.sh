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

# The trial's sleep comes from its parameter (0.1-0.5 s, random per trial).
PROG="echo \"\$KATIB_TRIAL_NAME\" >>'$RAN'; sleep \${trialParameters.lr}; echo \"loss=\${trialParameters.layers}\""
spec_yaml "$PROG" "$N" 4 |
	sed -e 's/min: "0.01"/min: "0.1"/' -e 's/max: "0.1"/max: "0.5"/' \
		-e "s/maxFailedTrialCount: .*/maxFailedTrialCount: $N/" >"$TMP/spec.yaml"

mount_fs
mkdir "$MNT/crash" || fail "mkdir"
cp "$TMP/spec.yaml" "$MNT/crash/spec.yaml" || fail "spec: $(cat "$MNT/crash/status")"
start=$(date +%s)
kills=0
# Random moments spread over the run: the run is cut into KILLS slices of
# progress (succeeded trials, up to N-8) and the k-th kill comes when a
# random point of the k-th slice is passed, plus 0-0.2 s. Finishing before
# all the kills is a failure: the test would prove nothing then.
span=$((N - 8))
while [ $kills -lt "$KILLS" ]; do
	lo=$((span * kills / KILLS))
	hi=$((span * (kills + 1) / KILLS))
	thr=$((lo + $(rand $((hi - lo > 0 ? hi - lo : 1)))))
	while :; do
		done_=$(sed -n 's/^succeeded=//p' "$MNT/crash/status" 2>/dev/null)
		[ "${done_:-0}" -ge $thr ] && break
		[ "$(($(date +%s) - start))" -lt "$DEADLINE" ] ||
			fail "succeeded never reached $thr (kills=$kills): $(tr '\n' ' ' <"$MNT/crash/status")"
		sleep 0.05
	done
	sleep "0.$(rand 2)"
	state_is crash Succeeded && fail "finished after only $kills kills"
	kill -KILL "$PID" 2>/dev/null || fail "daemon died by itself"
	wait "$PID" 2>/dev/null
	PID=
	timeout 10 fusermount3 -u -z "$MNT" || fail "lazy unmount after kill"
	kills=$((kills + 1))
	mount_fs
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
	fi
	i=$((i + 1))
done
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
