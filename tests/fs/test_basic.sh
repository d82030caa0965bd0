#!/bin/sh
# The tree, names and errors: README, mkdir good and bad names, the files of
# a new experiment, read-only files, unknown names, mkdir/create elsewhere.
. "$(dirname "$0")/lib.sh"
mount_fs

grep -q . "$MNT/README" || fail "README is empty"
[ "$(stat -c %a "$MNT/README")" = 444 ] || fail "README mode is not 0444"
expect_fail "write README" "Permission denied" sh -c "echo x > '$MNT/README'"

# Bad names: EINVAL (DNS-1123 label, at most 40 characters).
for bad in Upper_Case -leading-dash 'sp ace' under_score \
	abcdefghij-abcdefghij-abcdefghij-abcdefghij; do
	expect_fail "mkdir '$bad'" "Invalid argument" mkdir "$MNT/$bad"
done
[ -z "$(ls "$MNT" | grep -v -e '^README$' -e '^events$')" ] || fail "a bad mkdir left something: $(ls "$MNT")"

mkdir "$MNT/mnist" || fail "mkdir mnist"
expect_fail "mkdir twice" "File exists" mkdir "$MNT/mnist"
[ -d "$MNT/mnist" ] || fail "mnist is not a directory"
ls "$MNT" | grep -qx mnist || fail "mnist not listed in the root"
for f in spec.yaml status status.json control best trials.csv events plot.svg trials; do
	[ -e "$MNT/mnist/$f" ] || fail "mnist/$f missing"
done
[ -d "$MNT/mnist/trials" ] || fail "trials is not a directory"
[ -z "$(ls "$MNT/mnist/trials")" ] || fail "a new experiment has trials"
state_is mnist Created || fail "new experiment is not Created: $(cat "$MNT/mnist/status")"
[ "$(stat -c %a "$MNT/mnist/status")" = 444 ] || fail "status mode"
[ "$(stat -c %a "$MNT/mnist/spec.yaml")" = 644 ] || fail "spec.yaml mode"
[ "$(stat -c %a "$MNT/mnist/control")" = 644 ] || fail "control mode"
[ "$(stat -c %a "$MNT/mnist")" = 755 ] || fail "experiment dir mode"
[ "$(stat -c %u "$MNT/mnist/status")" = "$(id -u)" ] || fail "owner is not the mounting user"

# The size a stat reports is what a read returns.
sz=$(stat -c %s "$MNT/mnist/status")
[ "$sz" -eq "$(wc -c <"$MNT/mnist/status")" ] || fail "status: stat size $sz != read size"
grep -q 'created' "$MNT/mnist/events" || fail "events has no creation line"
[ "$(stat -c %s "$MNT/mnist/events")" -eq "$(wc -c <"$MNT/mnist/events")" ] || fail "events size"

# Read-only files: EACCES; unknown names: ENOENT.
for f in status status.json best trials.csv events plot.svg; do
	expect_fail "write $f" "Permission denied" sh -c "echo x > '$MNT/mnist/$f'"
done
expect_fail "cat unknown" "No such file" cat "$MNT/mnist/nope"
expect_fail "cat unknown exp" "No such file" cat "$MNT/nope/status"
expect_fail "ls unknown trial" "No such file" ls "$MNT/mnist/trials/1"
expect_fail "trial 0" "No such file" ls "$MNT/mnist/trials/0"
expect_fail "trial 01" "No such file" ls "$MNT/mnist/trials/01"

# mkdir anywhere but the root: EPERM; files outside experiments: EACCES.
expect_fail "mkdir in experiment" "Operation not permitted" mkdir "$MNT/mnist/sub"
expect_fail "mkdir in trials" "Operation not permitted" mkdir "$MNT/mnist/trials/7"
expect_fail "create in root" "Permission denied" sh -c "echo x > '$MNT/file'"
expect_fail "create in trials" "Permission denied" touch "$MNT/mnist/trials/x"
expect_fail "rm status" "Operation not permitted" rm -f "$MNT/mnist/status"
expect_fail "mv status" "Operation not permitted" mv "$MNT/mnist/status" "$MNT/mnist/status2"
expect_fail "rename experiment" "Operation not permitted" mv "$MNT/mnist" "$MNT/other"

# An experiment that never started goes away with rmdir.
mkdir "$MNT/scratchpad" || fail "mkdir scratchpad"
rmdir "$MNT/scratchpad" || fail "rmdir of a Created experiment"
[ ! -e "$MNT/scratchpad" ] || fail "scratchpad still there"
expect_fail "rmdir unknown" "No such file" rmdir "$MNT/scratchpad"
exit 0
