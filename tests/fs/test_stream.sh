#!/bin/sh
# tail -f: events and a trial's log show new lines as they come.
. "$(dirname "$0")/lib.sh"
mount_fs

E=$MNT/tailing
mkdir "$E" || fail "mkdir"
# tail -f reads what is there, then follows: once it has shown the first
# line, the Running line comes after it started.
timeout 20 tail -n +1 -f "$E/events" >"$TMP/tail" 2>&1 &
TAILER=$!
wait_until 10 "grep -q 'experiment created' '$TMP/tail'" || fail "tail -f events showed nothing"
grep -q Running "$TMP/tail" && fail "Running before the spec"
spec_yaml 'echo first ${trialParameters.lr} ${trialParameters.layers}; sleep 2; echo loss=0.5; sleep 1' 1 1 >"$E/spec.yaml" || fail "spec"
wait_until 15 "grep -q Running '$TMP/tail'" || fail "tail -f events did not show the Running line"
kill "$TAILER" 2>/dev/null
wait "$TAILER" 2>/dev/null

wait_until 15 "test -e '$E/trials/1/log'" || fail "no trial log"
timeout 15 tail -f "$E/trials/1/log" | grep -m1 -q 'loss=0.5' ||
	fail "tail -f log did not show loss=0.5: $(cat "$E/trials/1/log")"
wait_state tailing Succeeded 20
[ "$(stat -c %s "$E/events")" -eq "$(wc -c <"$E/events")" ] || fail "events size"
[ "$(stat -c %s "$E/trials/1/log")" -eq "$(wc -c <"$E/trials/1/log")" ] || fail "log size"
# Reading a stream from an offset.
n=$(wc -c <"$E/events")
[ "$(tail -c 5 "$E/events" | wc -c)" -eq 5 ] || fail "tail -c on events"
[ "$(dd if="$E/events" bs=1 skip=$((n - 3)) 2>/dev/null | wc -c)" -eq 3 ] || fail "read at offset"
exit 0
