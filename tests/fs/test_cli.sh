#!/bin/sh
# The program: --help, --version, check, bad options, the kubernetes
# backend, background mode, single-threaded mode.
. "$(dirname "$0")/lib.sh"

"$KATIBFS" --help | grep -q usage || fail "--help"
"$KATIBFS" --version | grep -q '^katibfs [0-9]' || fail "--version"

spec_yaml "$QUICK" 3 2 >"$TMP/good.yaml"
"$KATIBFS" check "$TMP/good.yaml" >"$TMP/out" || fail "check of a good spec failed"
grep -q 'objectiveMetricName: loss' "$TMP/out" || fail "check output: $(cat "$TMP/out")"
grep -q 'parallelTrialCount: 2' "$TMP/out" || fail "check output lacks parallelTrialCount"
"$KATIBFS" check - <"$TMP/good.yaml" >/dev/null || fail "check from stdin"

sed 's/min: "0.01"/min: "5"/' "$TMP/good.yaml" >"$TMP/bad.yaml"
"$KATIBFS" check "$TMP/bad.yaml" >/dev/null 2>"$TMP/err" && fail "check of a bad spec succeeded"
grep -q '^katibfs: check: .*feasibleSpace' "$TMP/err" || fail "check message: $(cat "$TMP/err")"
"$KATIBFS" check "$TMP/missing.yaml" 2>/dev/null && fail "check of a missing file"

"$KATIBFS" --backend nosuch "$MNT" 2>"$TMP/err"
[ $? -eq 2 ] || fail "--backend nosuch: exit code"
grep -q 'unknown backend' "$TMP/err" || fail "--backend nosuch message"
# the kubernetes backend without a usable kubeconfig: a clear error, no mount
"$KATIBFS" --backend kubernetes --kubeconfig "$TMP/no-such-kubeconfig" \
	--state "$TMP/k8s-state" "$MNT" 2>"$TMP/err"
[ $? -ne 0 ] || fail "--backend kubernetes without a kubeconfig mounted"
grep -q 'no-such-kubeconfig' "$TMP/err" || fail "--backend kubernetes message: $(cat "$TMP/err")"
mountpoint -q "$MNT" && fail "mounted without a kubeconfig"
"$KATIBFS" --bogus "$MNT" 2>/dev/null
[ $? -eq 2 ] || fail "unknown option: exit code"
"$KATIBFS" 2>/dev/null
[ $? -eq 2 ] || fail "no mountpoint: exit code"

# Background mode: returns once the mount serves.
timeout 20 "$KATIBFS" --state "$STATE" "$MNT" || fail "background mount failed"
is_mounted || fail "not mounted after katibfs returned"
mkdir "$MNT/bg" || fail "mkdir in the background mount"
state_is bg Created || fail "status in the background mount"
timeout 10 fusermount3 -u "$MNT" || fail "unmount of the background mount"
wait_until 10 "! grep -q ' $MNT fuse' /proc/mounts" || fail "still mounted"

# Single-threaded, with -o options passed through.
mount_fs -s -o noatime
ls "$MNT" | grep -qx bg || fail "state lost between mounts"
grep " $MNT fuse" /proc/mounts | grep -q noatime || fail "-o noatime not passed through"
spec_yaml "$QUICK" 1 1 >"$MNT/bg/spec.yaml" || fail "spec in -s mode"
wait_state bg Succeeded 30
unmount_fs || fail "unmount in -s mode"

# SIGTERM: the daemon unmounts and exits; -f -d prints FUSE requests.
mount_fs -d
grep -q 'opcode' "$TMP/daemon.log" || fail "-d printed no FUSE requests"
kill -TERM "$PID"
wait_until 15 "! kill -0 $PID" || fail "daemon still alive after SIGTERM"
PID=
is_mounted && fail "still mounted after SIGTERM"
exit 0
