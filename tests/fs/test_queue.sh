#!/bin/sh
# EXP/queue: queued lines run next, in order, exactly as written (one write
# or several); reading shows what still waits; bad lines are EINVAL naming
# the parameter (and queue nothing of that write); the queue survives a
# remount; an ended experiment answers EBUSY.
. "$(dirname "$0")/lib.sh"
mount_fs

E=$MNT/q
mkdir "$E" || fail "mkdir"
[ -f "$E/queue" ] || fail "no queue file: $(ls "$E")"
# no search space yet: EINVAL
expect_fail "queue before a spec" "Invalid argument" sh -c "/bin/echo 'lr=0.02 layers=1' >> '$E/queue'"

# parallel 1, 5 trials; pause at once so that only trial 1 may run
spec_yaml "$(slow_program 1)" 5 1 >"$E/spec.yaml" || fail "spec"
echo pause >"$E/control" || fail "pause"
wait_state q Paused

echo "lr=0.02 layers=3" >>"$E/queue" || fail "queue one line"
printf 'lr=0.09 layers=1\n\nlayers=4 lr=0.05\n' >>"$E/queue" || fail "queue two lines in one write"
[ "$(cat "$E/queue")" = "lr=0.02 layers=3
lr=0.09 layers=1
lr=0.05 layers=4" ] || fail "queue reads: $(cat "$E/queue")"
grep -q 'queued: lr=0.05 layers=4 (3 waiting)' "$E/events" || fail "events: $(cat "$E/events")"

# bad lines: EINVAL naming the parameter, an events line, nothing queued
expect_fail "out of range" "Invalid argument" sh -c "/bin/echo 'lr=0.5 layers=1' >> '$E/queue'"
grep 'rejected queue write' "$E/events" | grep -q 'lr: 0.5 is outside \[0.01, 0.1\]' ||
	fail "events does not name lr: $(grep rejected "$E/events")"
expect_fail "not an int" "Invalid argument" sh -c "/bin/echo 'lr=0.05 layers=2.5' >> '$E/queue'"
grep -q 'layers: "2.5" is not a whole number' "$E/events" || fail "events: $(grep rejected "$E/events")"
expect_fail "missing parameter" "Invalid argument" sh -c "/bin/echo 'lr=0.05' >> '$E/queue'"
grep -q 'layers: missing' "$E/events" || fail "events: $(grep rejected "$E/events")"
expect_fail "unknown parameter" "Invalid argument" sh -c "/bin/echo 'lr=0.05 layers=2 momentum=0.9' >> '$E/queue'"
grep -q 'momentum: not a parameter of this search space (parameters: lr, layers)' "$E/events" ||
	fail "events: $(grep rejected "$E/events")"
expect_fail "not name=value" "Invalid argument" sh -c "/bin/echo 'lr 0.05' >> '$E/queue'"
# a good line before a bad one in one write: neither is queued
expect_fail "second line bad" "Invalid argument" sh -c "/usr/bin/printf 'lr=0.03 layers=2\nlr=0.03 layers=9\n' >> '$E/queue'"
grep -q 'line 2: ' "$E/events" || fail "events does not say which line: $(grep rejected "$E/events")"
[ "$(wc -l <"$E/queue")" = 3 ] || fail "a rejected write queued something: $(cat "$E/queue")"

# the queue survives a remount
unmount_fs || fail "unmount"
mount_fs
[ "$(wc -l <"$E/queue")" = 3 ] || fail "queue after remount: $(cat "$E/queue")"

echo resume >"$E/control" || fail "resume"
wait_state q Succeeded 90
# trial 1 may have been suggested before the pause; the queued ones come
# next, in order, exactly as written
first=$(grep -l '^lr=0.02$' "$E"/trials/*/params | head -1)
n=$(basename "$(dirname "$first")")
[ "$n" -le 2 ] || fail "the first queued line ran as trial $n"
for want in "0.02 3" "0.09 1" "0.05 4"; do
	p=$(tr '\n' ' ' <"$E/trials/$n/params")
	[ "$p" = "lr=${want% *} layers=${want#* } " ] || fail "trial $n ran $p, expected $want"
	grep -q "trial $n comes from the queue" "$E/events" || fail "events does not say trial $n is queued"
	n=$((n + 1))
done
[ -z "$(cat "$E/queue")" ] || fail "queue not empty: $(cat "$E/queue")"
[ "$(status_value q trials)" = 5 ] || fail "queued trials must count against maxTrialCount: $(cat "$E/status")"

# ended: EBUSY
expect_fail "queue on an ended experiment" "busy" sh -c "/bin/echo 'lr=0.02 layers=1' >> '$E/queue'"
grep -q 'has ended' "$E/events" || fail "events: $(grep rejected "$E/events")"
exit 0
