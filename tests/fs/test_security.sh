#!/bin/sh
# Who can reach the mount. Without -o allow_other a second user cannot even
# list it (the kernel refuses: EACCES); with allow_other it can read status,
# trials.csv and trial files, but not write spec.yaml or control, mkdir or
# rmdir; the owner (the mounting user) can. Needs root (to create the user).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root to create a second user"; exit 77; }
command -v useradd >/dev/null && command -v setpriv >/dev/null ||
	{ echo "skip: needs useradd and setpriv"; exit 77; }

OTHER=kfs$$
useradd -M -N -s /bin/sh -d /nonexistent "$OTHER" 2>"$TMP/useradd.err" ||
	{ echo "skip: useradd failed: $(cat "$TMP/useradd.err")"; exit 77; }
OUID=$(id -u "$OTHER")
OGID=$(id -g "$OTHER")
security_cleanup() {
	cleanup
	userdel "$OTHER" 2>/dev/null
}
trap security_cleanup EXIT
# The second user must be able to walk to the mountpoint (mktemp is 0700);
# the state directory stays 0700.
chmod 755 "$TMP"

# as_other 'shell command': run it as the second user, stderr kept.
as_other() {
	timeout 20 setpriv --reuid="$OUID" --regid="$OGID" --clear-groups \
		--inh-caps=-all sh -c "$1"
}

# other_fails WHAT 'command': fails as the second user with EACCES/EPERM.
other_fails() {
	if as_other "$2" >/dev/null 2>"$TMP/err"; then
		fail "$1: the second user succeeded"
	fi
	grep -Eq "Permission denied|Operation not permitted" "$TMP/err" ||
		fail "$1: expected EACCES/EPERM, got: $(cat "$TMP/err")"
}

# --- without allow_other: not even ls
mount_fs
mkdir "$MNT/shared" || fail "owner mkdir"
spec_yaml "$QUICK" 2 2 >"$MNT/shared/spec.yaml" || fail "owner spec"
wait_state shared Succeeded 60
other_fails "ls without allow_other" "ls '$MNT'"
other_fails "cat status without allow_other" "cat '$MNT/shared/status'"
unmount_fs || fail "unmount"

# --- with allow_other: read yes, write no
mount_fs -o allow_other
grep " $MNT fuse" /proc/mounts | grep -q default_permissions ||
	fail "default_permissions not in effect: $(grep " $MNT " /proc/mounts)"
grep " $MNT fuse" /proc/mounts | grep -q allow_other ||
	fail "allow_other not in effect: $(grep " $MNT " /proc/mounts)"

as_other "ls '$MNT'" >"$TMP/ls" 2>&1 || fail "ls with allow_other: $(cat "$TMP/ls")"
grep -qx shared "$TMP/ls" || fail "ls: $(cat "$TMP/ls")"
as_other "cat '$MNT/shared/status'" >"$TMP/st" 2>&1 || fail "read status: $(cat "$TMP/st")"
grep -q '^state=Succeeded$' "$TMP/st" || fail "status as other: $(cat "$TMP/st")"
as_other "cat '$MNT/shared/trials.csv'" >"$TMP/csv" 2>&1 || fail "read trials.csv: $(cat "$TMP/csv")"
[ "$(wc -l <"$TMP/csv")" -eq 3 ] || fail "trials.csv as other: $(cat "$TMP/csv")"
as_other "cat '$MNT/shared/trials/1/params' '$MNT/shared/trials/1/log' '$MNT/shared/spec.yaml'" \
	>/dev/null 2>"$TMP/err" || fail "read trial files: $(cat "$TMP/err")"

before=$(cat "$MNT/shared/spec.yaml")
other_fails "write spec.yaml" "echo 'maxTrialCount: 9' >'$MNT/shared/spec.yaml'"
other_fails "append spec.yaml" "echo 'x: 1' >>'$MNT/shared/spec.yaml'"
[ "$(cat "$MNT/shared/spec.yaml")" = "$before" ] || fail "spec.yaml changed"
other_fails "write control" "echo pause >'$MNT/shared/control'"
other_fails "trial control" "echo kill >'$MNT/shared/trials/1/control'"
other_fails "trial metrics" "echo 'loss=0' >>'$MNT/shared/trials/1/metrics'"
other_fails "mkdir" "mkdir '$MNT/intruder'"
other_fails "rmdir" "rmdir '$MNT/shared'"
other_fails "scratch file" "touch '$MNT/shared/.spec.swp'"
other_fails "chmod" "chmod 600 '$MNT/shared/spec.yaml'"
[ -d "$MNT/intruder" ] && fail "intruder directory exists"
[ -d "$MNT/shared" ] || fail "shared was removed"
state_is shared Succeeded || fail "state changed: $(cat "$MNT/shared/status")"

# The owner still can.
mkdir "$MNT/mine" || fail "owner mkdir with allow_other"
spec_yaml "$QUICK" 1 1 >"$MNT/mine/spec.yaml" || fail "owner spec with allow_other"
wait_state mine Succeeded 60
rmdir "$MNT/mine" || fail "owner rmdir"

# Names and paths are validated, for the owner too.
for bad in A a_b -a a- 'a b' 'a$(id)' "$(printf 'a%.0s' $(seq 64))"; do
	mkdir -- "$MNT/$bad" 2>/dev/null && fail "mkdir accepted '$bad'"
done
expect_fail "mkdir below an experiment" "Operation not permitted" mkdir "$MNT/shared/sub"
for p in trials/01 trials/0 trials/-1 trials/99999999999 trials/1/nope trials/1/log/x; do
	[ -e "$MNT/shared/$p" ] && fail "$p exists"
done
expect_fail "a file below a trial file" "Not a directory\|No such file" ls "$MNT/shared/trials/1/log/x"
unmount_fs || fail "unmount"
exit 0
