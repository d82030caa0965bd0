#!/bin/sh
# A full disk under --state (a 2 MB tmpfs filled by a big file, so sqlite's
# writes fail with ENOSPC). What must hold: the daemon keeps serving, reads
# work, the error is said in `events` and `status` (No space left on device);
# once space is back, the experiment written meanwhile and a new one run to
# completion, everything survives a remount, and the database passes
# PRAGMA integrity_check. Needs root (mount -t tmpfs).
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "skip: needs root to mount a tmpfs"; exit 77; }
command -v sqlite3 >/dev/null || { echo "skip: no sqlite3 CLI"; exit 77; }
mkdir -p "$STATE"
mount -t tmpfs -o size=2M,mode=0700 katibfs-enospc "$STATE" 2>"$TMP/mount.err" ||
	{ echo "skip: cannot mount a tmpfs: $(cat "$TMP/mount.err")"; exit 77; }
enospc_cleanup() {
	unmount_fs
	is_mounted && timeout 10 fusermount3 -u -z "$MNT" 2>/dev/null
	umount "$STATE" 2>/dev/null || umount -l "$STATE" 2>/dev/null
	cleanup
}
trap enospc_cleanup EXIT

alive() {
	kill -0 "$PID" 2>/dev/null || fail "the daemon died"
}

mount_fs
mkdir "$MNT/before" || fail "mkdir before"
spec_yaml "$QUICK" 3 2 >"$MNT/before/spec.yaml" || fail "spec before"
wait_state before Succeeded 60
cp "$MNT/before/trials.csv" "$TMP/before.csv"

# Fill the disk.
dd if=/dev/zero of="$STATE/fill" bs=64k 2>/dev/null
[ "$(df -P "$STATE" | awk 'NR == 2 { print $4 }')" -eq 0 ] || fail "tmpfs not full: $(df "$STATE")"

# Changes now cannot be written: the daemon must say so and keep serving.
mkdir "$MNT/during" 2>"$TMP/mkdir.err"
mkdir_rc=$?
alive
[ -d "$MNT/during" ] || fail "mkdir during: rc=$mkdir_rc $(cat "$TMP/mkdir.err")"
spec_yaml "$QUICK" 3 2 >"$MNT/during/spec.yaml" 2>"$TMP/spec.err"
echo "spec write on a full disk: rc=$? $(cat "$TMP/spec.err")"
alive
wait_until 10 "grep -q 'No space left on device' '$MNT/during/events'" ||
	fail "no ENOSPC in events: $(cat "$MNT/during/events")"
wait_until 10 "grep -q 'No space left on device' '$MNT/during/status'" ||
	fail "no ENOSPC in status: $(cat "$MNT/during/status")"
grep -q "^[a-z_]*error='.*No space left on device" "$MNT/during/status" ||
	fail "the status line is not an error= line: $(cat "$MNT/during/status")"

# Reads go on.
for i in 1 2 3 4 5; do
	ls "$MNT" "$MNT/before" "$MNT/before/trials" >/dev/null || fail "ls on a full disk"
	cmp -s "$TMP/before.csv" "$MNT/before/trials.csv" || fail "trials.csv changed"
	cat "$MNT/before/status" "$MNT/before/events" "$MNT/before/trials/1/log" \
		"$MNT/before/trials/2/metrics" "$MNT/during/status" >/dev/null ||
		fail "read on a full disk"
	sleep 0.2
done
alive
# Nothing starts while the state cannot be written.
[ "$(status_value during trials)" = 0 ] || echo "note: trials started on a full disk: $(status_value during trials)"

# Space comes back: the error goes, the experiment runs.
rm -f "$STATE/fill"
state_is during Running || spec_yaml "$QUICK" 3 2 >"$MNT/during/spec.yaml" ||
	fail "spec after freeing space: $(cat "$MNT/during/status")"
wait_state during Succeeded 60
[ "$(status_value during trials)" = 3 ] || fail "during: $(cat "$MNT/during/status")"
grep -q "error=" "$MNT/during/status" && fail "error stays: $(cat "$MNT/during/status")"
mkdir "$MNT/after" || fail "mkdir after"
spec_yaml "$QUICK" 3 2 >"$MNT/after/spec.yaml" || fail "spec after"
wait_state after Succeeded 60
alive

# Everything was written: it survives a remount; the database is sound.
unmount_fs || fail "unmount"
ic=$(sqlite3 "$STATE/katibfs.db" 'PRAGMA integrity_check' 2>&1)
[ "$ic" = ok ] || fail "integrity_check: $ic"
mount_fs
for e in before during after; do
	state_is $e Succeeded || fail "$e after remount: $(cat "$MNT/$e/status")"
	[ "$(status_value $e trials)" = 3 ] || fail "$e after remount: $(cat "$MNT/$e/status")"
	[ "$(tail -n +2 "$MNT/$e/trials.csv" | wc -l)" -eq 3 ] || fail "$e trials.csv: $(cat "$MNT/$e/trials.csv")"
done
exit 0
