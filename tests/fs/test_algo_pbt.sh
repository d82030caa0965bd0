#!/bin/sh
# PBT: the second generation's trials start from a copy of their parent's
# checkpoint directory, and the command points at their own copy.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mount_fs

mkdir "$MNT/pbt" || fail "mkdir"
cp "$ROOT/examples/pbt.yaml" "$MNT/pbt/spec.yaml" ||
	fail "writing the pbt spec failed"
wait_state pbt Succeeded 120
[ "$(status_value pbt succeeded)" = 15 ] || fail "succeeded: $(status_value pbt succeeded)"
children=0
for n in $(seq 1 15); do
	log=$MNT/pbt/trials/$n/log
	parent=$(sed -n 's/^generation=[0-9]* parent=//p' "$log")
	grep -q "checkpoint-dir=$STATE/experiments/pbt/$n/checkpoint" "$MNT/pbt/trials/$n/spec" ||
		fail "trial $n command not rewritten: $(cat "$MNT/pbt/trials/$n/spec")"
	[ -f "$STATE/experiments/pbt/$n/checkpoint/state.txt" ] || fail "trial $n saved no checkpoint"
	[ -n "$parent" ] || continue
	children=$((children + 1))
	grep -q "^restored: written-by=$STATE/experiments/pbt/$parent/checkpoint " "$log" ||
		fail "trial $n (parent $parent) did not see its parent's checkpoint: $(cat "$log")"
done
[ $children -ge 5 ] || fail "only $children trials had a parent"
exit 0
