#!/bin/sh
# Unmount and mount again on the same state: everything is still there.
. "$(dirname "$0")/lib.sh"
mount_fs

mkdir "$MNT/keep" "$MNT/idle" || fail "mkdir"
spec_yaml "$QUICK" 3 2 >"$MNT/keep/spec.yaml" || fail "spec"
wait_state keep Succeeded 60
for f in status trials.csv best spec.yaml events; do
	cp "$MNT/keep/$f" "$TMP/before.$f" || fail "save $f"
done
cp "$MNT/keep/trials/2/params" "$TMP/before.params"
cp "$MNT/keep/trials/2/log" "$TMP/before.log"

unmount_fs || fail "unmount did not end the daemon"
is_mounted && fail "still mounted"
mount_fs

[ "$(ls "$MNT" | tr '\n' ' ')" = "README events idle keep " ] || fail "root after remount: $(ls "$MNT")"
for f in status trials.csv best spec.yaml events; do
	cmp -s "$TMP/before.$f" "$MNT/keep/$f" || fail "$f differs after remount:
$(diff "$TMP/before.$f" "$MNT/keep/$f")"
done
cmp -s "$TMP/before.params" "$MNT/keep/trials/2/params" || fail "params differ"
cmp -s "$TMP/before.log" "$MNT/keep/trials/2/log" || fail "log differs"
state_is idle Created || fail "idle experiment: $(cat "$MNT/idle/status")"
exit 0
