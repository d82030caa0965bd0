#!/bin/sh
# One daemon per state directory and per mount point. A second katibfs on
# the same --state (another mount point), or on the same mount point
# (another --state), exits 1 at once with
#   katibfs: STATE is in use by pid N (mounted on M)
# and changes nothing: the first mount goes on working, its state directory
# is as it was (files, database rows), a new state directory is not even
# created. `katibfs check` takes no lock. Once the first daemon is killed
# (SIGKILL), its locks are free: its dead mount is refused with what to do,
# and after a lazy unmount both the state and the mount point can be used
# again. `fusermount3 -u M && katibfs M` waits for the old daemon to finish.
. "$(dirname "$0")/lib.sh"

M2=$TMP/mnt2
S2=$TMP/state2
mkdir -p "$M2"
# a daemon that mounted M2 against the rule must not outlive the test
trap 'grep -q " $M2 fuse" /proc/mounts && timeout 10 fusermount3 -u -z "$M2"; cleanup' EXIT
RSTATE=$(cd "$TMP" && pwd -P)/state
RMNT=$(cd "$TMP" && pwd -P)/mnt

# snapshot FILE: the state directory's files and the database's rows.
snapshot() {
	(cd "$STATE" && find . -path ./katibfs.db-shm -prune -o -print | sort) >"$1"
	python3 - "$STATE/katibfs.db" >>"$1" <<'PY' || fail "cannot read the database"
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for table in ("experiments", "trials", "observations", "events"):
    for row in db.execute("SELECT * FROM %s ORDER BY rowid" % table):
        print(table, row)
PY
}

# refused WHAT EXPECTED-MESSAGE katibfs-args...: exits 1 within 5 s with
# exactly that message on stderr, and mounts nothing on M2.
refused() {
	_what=$1
	_msg=$2
	shift 2
	_t0=$(date +%s)
	timeout 20 "$KATIBFS" "$@" >"$TMP/out" 2>"$TMP/err"
	_rc=$?
	[ $_rc -eq 1 ] || fail "$_what: exit code $_rc, expected 1 ($(cat "$TMP/err"))"
	[ "$(cat "$TMP/err")" = "$_msg" ] ||
		fail "$_what: message
  got:      $(cat "$TMP/err")
  expected: $_msg"
	[ $(($(date +%s) - _t0)) -le 5 ] || fail "$_what: did not exit at once"
	grep -q " $M2 fuse" /proc/mounts && fail "$_what: mounted $M2"
	return 0
}

mount_fs
mkdir "$MNT/first" || fail "mkdir"
spec_yaml "$QUICK" 2 1 >"$MNT/first/spec.yaml" || fail "spec"
wait_state first Succeeded 60
snapshot "$TMP/before"
expected="katibfs: $RSTATE is in use by pid $PID (mounted on $RMNT)"

# Same state directory, another mount point: background and -f.
refused "same state, background" "$expected" --state "$STATE" "$M2"
refused "same state, -f" "$expected" -f --state "$STATE" "$M2"
# The state directory named through another path (a symlink) is the same.
ln -s "$STATE" "$TMP/state-link"
refused "same state via a symlink" "$expected" --state "$TMP/state-link" "$M2"

# Same mount point, another state directory: that one is not created.
refused "same mount point, background" "$expected" --state "$S2" "$MNT"
refused "same mount point, -f" "$expected" -f --state "$S2" "$MNT"
[ -e "$S2" ] && fail "the refused daemon created $S2: $(ls -la "$S2")"

# Nothing changed; the first mount serves on.
snapshot "$TMP/after"
cmp -s "$TMP/before" "$TMP/after" ||
	fail "the state changed: $(diff "$TMP/before" "$TMP/after")"
kill -0 "$PID" || fail "the first daemon died"
mkdir "$MNT/second" || fail "mkdir after the refusals"
spec_yaml "$QUICK" 2 1 >"$MNT/second/spec.yaml" || fail "spec after the refusals"
wait_state second Succeeded 60
[ "$(grep -c 'started' "$MNT/events")" = 1 ] ||
	fail "events shows another start: $(cat "$MNT/events")"

# `katibfs check` takes no lock.
spec_yaml "$QUICK" 2 1 >"$TMP/good.yaml"
"$KATIBFS" check "$TMP/good.yaml" >/dev/null || fail "check while mounted"

# Unmount and mount again at once: the new daemon waits for the old one.
old=$PID
timeout 10 fusermount3 -u "$MNT" || fail "unmount"
timeout 30 "$KATIBFS" --state "$STATE" "$MNT" 2>"$TMP/err" ||
	fail "mount right after an unmount: $(cat "$TMP/err")"
wait "$old" 2>/dev/null
PID=$(sed -n 's/^pid=//p' "$STATE/lock")
[ -n "$PID" ] && kill -0 "$PID" || fail "no live pid in $STATE/lock: $(cat "$STATE/lock")"
ls "$MNT" | grep -qx second || fail "the new mount lost an experiment"
# the daemonized child holds the locks its parent took
refused "state held by a daemonized katibfs" \
	"katibfs: $RSTATE is in use by pid $PID (mounted on $RMNT)" --state "$STATE" "$M2"
refused "mount point held by a daemonized katibfs" \
	"katibfs: $RSTATE is in use by pid $PID (mounted on $RMNT)" --state "$S2" "$MNT"

# SIGKILL: the kernel drops both locks with the process.
kill -KILL "$PID"
wait_until 10 "! kill -0 $PID" || fail "the daemon survived SIGKILL"
PID=
refused "dead mount" "katibfs: $RMNT is the mount of a katibfs that is gone (killed?); unmount it first: fusermount3 -u $RMNT" \
	--state "$S2" "$MNT"
[ -e "$S2" ] && fail "the refused daemon created $S2"
timeout 10 fusermount3 -u -z "$MNT" || fail "lazy unmount"
# the state is free: it mounts elsewhere
timeout 30 "$KATIBFS" --state "$STATE" "$M2" 2>"$TMP/err" ||
	fail "the state is still locked after SIGKILL: $(cat "$TMP/err")"
ls "$M2" | grep -qx second || fail "state lost on $M2"
tail -n 1 "$M2/events" | grep -q "the previous katibfs on this state did not stop cleanly" ||
	fail "events do not tell the kill: $(tail -n 3 "$M2/events")"
p2=$(sed -n 's/^pid=//p' "$STATE/lock")
timeout 10 fusermount3 -u "$M2" || fail "unmount $M2"
wait_until 20 "! kill -0 $p2" || fail "the daemon on $M2 did not exit"
# and the mount point is free
mount_fs
ls "$MNT" | grep -qx second || fail "state lost after SIGKILL"
exit 0
