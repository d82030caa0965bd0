#!/bin/sh
# Trials whose File collector has one absolute fileSystemPath (as Katib's
# examples: /var/log/katib/metrics.log; here under $TMP so that nothing is
# written to /var/log) each get their own file, as each pod has its own
# volume on Kubernetes.
#
# 1. Private views (a mount namespace per trial): 8 trials at
#    parallelTrialCount 4 each write loss=<their lr> 4 times, 0.2 s apart,
#    to the same path; they overlap (checked), yet every trial's metrics and
#    observations are its own lr only, its file is in its trial directory
#    (collector/metrics.log), and nothing was written to the host's path
#    (whose missing directory katibfs created as the mountpoint). A view
#    that would hide the trial's working directory, or /, is refused.
# 2. No namespaces (KATIBFS_TEST_NO_NAMESPACES=1, as in a container without
#    CAP_SYS_ADMIN and without user namespaces): the same experiment at
#    parallelTrialCount 4 runs one trial at a time (checked from the
#    trials' own start/end records), `events` says why exactly once, every
#    trial's metrics are its own, a file left at the path before is moved
#    to the first trial's leftover-metrics.log and not counted, and each
#    trial's file ends up in its trial directory as in 1.
#
# 3. A daemon that is not root: katibfs-shim (which sets the view up in the
#    trial's process) gives a trial run as nobody the same view through a
#    user namespace mapping nobody to itself, where the kernel allows it,
#    even where the directory is missing and nobody may not create it.
#
# The TensorFlowEvent collector's directory gets the same view (the target
# is the directory itself), but that collector is refused on the local
# backend for now, so it is tested by the unit test of the path mapping
# only (tests/unit/test_collector_path.c).
. "$(dirname "$0")/lib.sh"

SHARED=$TMP/var/log/katib/metrics.log # its directory does not exist yet
RAN=$TMP/ran

# The experiment NAME with parallelTrialCount 4 and MAX trials; each trial
# records its start and end in $RAN (outside the collector's directory).
write_spec() {
	prog=": \${trialParameters.layers}; echo \"s \$KATIB_TRIAL_NAME\" >>'$RAN'; for i in 1 2 3 4; do echo \"loss=\${trialParameters.lr}\" >>'$SHARED'; sleep 0.2; done; echo \"e \$KATIB_TRIAL_NAME\" >>'$RAN'"
	spec_yaml "$prog" "$2" 4 File |
		sed -e "s/^  name: from-the-yaml\$/  name: $1/" \
			-e "/^      kind: File\$/a\\
    source:\\
      fileSystemPath:\\
        path: $SHARED\\
        kind: File" >"$TMP/$1.yaml"
}

# max_parallel: the most trials that ran at once, from $RAN.
max_parallel() {
	awk '$1 == "s" { n++; if (n > m) m = n } $1 == "e" { n-- } END { print m + 0 }' "$RAN"
}

# check_own EXP N: trial N's metrics and observations are its lr only.
check_own() {
	_d=$MNT/$1/trials/$2
	_lr=$(sed -n 's/^lr=//p' "$_d/params")
	_loss=$(sed -n 's/^loss=//p' "$_d/metrics")
	[ -n "$_lr" ] && [ -n "$_loss" ] ||
		fail "$1 trial $2: lr='$_lr' loss='$_loss'"
	awk -v a="$_lr" -v b="$_loss" 'BEGIN { d = a - b; exit !(d < 1e-9 && d > -1e-9) }' ||
		fail "$1 trial $2 has lr=$_lr but loss=$_loss (another trial's?)"
	_bad=$(awk -F, -v a="$_lr" 'NR > 1 && $2 == "loss" { d = $3 - a; if (d > 1e-9 || d < -1e-9) print $3 }' "$_d/observations")
	[ -z "$_bad" ] || fail "$1 trial $2 (lr=$_lr) observed another trial's loss: $_bad"
	_n=$(grep -c ',loss,' "$_d/observations")
	[ "$_n" -eq 4 ] || fail "$1 trial $2: $_n loss observations, expected 4: $(cat "$_d/observations")"
	_f=$STATE/experiments/$1/$2/collector/metrics.log
	[ "$(grep -c . "$_f")" -eq 4 ] || fail "$1 trial $2: its file $_f: $(cat "$_f" 2>&1)"
}

# ---- 1. a private view per trial ----
: >"$RAN"
write_spec private 8
mount_fs
mkdir "$MNT/private" || fail "mkdir"
cp "$TMP/private.yaml" "$MNT/private/spec.yaml" || fail "spec: $(cat "$MNT/private/status")"
# the daemon dies while trials write: they go on in their namespaces and
# are re-adopted, and their files are read on from where they were
wait_until 30 "[ \$(grep -c '^s ' '$RAN') -ge 2 ]" || fail "no trials started: $(cat "$MNT/private/events")"
kill -KILL "$PID" && wait "$PID" 2>/dev/null
PID=
timeout 10 fusermount3 -u -z "$MNT" || fail "lazy unmount after kill"
mount_fs
wait_state private Succeeded 90
[ "$(status_value private succeeded)" -eq 8 ] ||
	fail "private: $(tr '\n' ' ' <"$MNT/private/status")"
for n in 1 2 3 4 5 6 7 8; do
	check_own private $n
done
[ "$(max_parallel)" -gt 1 ] || fail "private: the trials never overlapped: $(cat "$RAN")"
[ -d "$(dirname "$SHARED")" ] || fail "the collector's directory was not created"
[ ! -e "$SHARED" ] || fail "a trial wrote the host's $SHARED: $(cat "$SHARED")"
grep -q "one at a time" "$MNT/private/events" &&
	fail "private: events say one at a time: $(cat "$MNT/private/events")"
grep -q "each trial has its own $SHARED, as in a pod" "$MNT/private/events" ||
	fail "private: events do not say where the file is: $(cat "$MNT/private/events")"
echo "private views: 8 trials, at most $(max_parallel) at once, each its own metrics"

# a view that would hide the trial's working directory (its trial
# directory, under --state), or all of / (a file in /), is refused at
# start with the reason, rather than run a trial that cannot work
refused() {
	write_spec "$1" 4
	sed -i "s|path: $SHARED|path: $2|" "$TMP/$1.yaml"
	mkdir "$MNT/$1" || fail "mkdir $1"
	cp "$TMP/$1.yaml" "$MNT/$1/spec.yaml" || fail "spec $1: $(cat "$MNT/$1/status")"
	wait_state "$1" Failed 30
	grep -q "$3" "$MNT/$1/trials/1/status" ||
		fail "$1: trial 1 should say '$3': $(cat "$MNT/$1/trials/1/status")"
}
refused hides "$STATE/metrics.log" "which would hide $STATE/experiments/hides/1"
refused root /katibfs-test-metrics.log "which cannot be /"
[ ! -e /katibfs-test-metrics.log ] || fail "a trial wrote /katibfs-test-metrics.log"
unmount_fs || fail "unmount"

# ---- 2. namespaces refused: one trial at a time ----
: >"$RAN"
echo "loss=999" >"$SHARED" # left from before: not a trial's
write_spec turns 4
KATIBFS_TEST_NO_NAMESPACES=1
export KATIBFS_TEST_NO_NAMESPACES
mount_fs
unset KATIBFS_TEST_NO_NAMESPACES
mkdir "$MNT/turns" || fail "mkdir"
cp "$TMP/turns.yaml" "$MNT/turns/spec.yaml" || fail "spec: $(cat "$MNT/turns/status")"
wait_state turns Succeeded 90
[ "$(status_value turns succeeded)" -eq 4 ] ||
	fail "turns: $(tr '\n' ' ' <"$MNT/turns/status")"
for n in 1 2 3 4; do
	check_own turns $n
done
[ "$(max_parallel)" -eq 1 ] || fail "turns: $(max_parallel) trials ran at once: $(cat "$RAN")"
[ "$(grep -c 'trials run one at a time, not 4' "$MNT/turns/events")" -eq 1 ] ||
	fail "turns: events should say once why: $(cat "$MNT/turns/events")"
grep 'one at a time' "$MNT/turns/events" | grep -q "KATIBFS_TEST_NO_NAMESPACES" ||
	fail "turns: events do not say what refused the namespaces: $(cat "$MNT/turns/events")"
grep -qx 'loss=999' "$STATE/experiments/turns/1/leftover-metrics.log" ||
	fail "the file left at $SHARED was not moved aside: $(ls "$STATE/experiments/turns/1")"
[ ! -e "$SHARED" ] || fail "the last trial's file is still at $SHARED"
echo "no namespaces: 4 trials one at a time, each its own metrics"

# ---- 3. not root: a user namespace ----
SHIM=$(dirname "$KATIBFS")/katibfs-shim
if ! command -v setpriv >/dev/null; then
	echo "skip part 3: no setpriv"
elif [ "$(id -u)" -ne 0 ]; then
	echo "skip part 3: not root, cannot become nobody"
elif ! (cd / && setpriv --reuid=65534 --regid=65534 --clear-groups "$SHIM" --probe /tmp); then
	echo "skip part 3: this kernel refuses user namespaces to nobody"
else
	# the collector's directory is missing under a directory nobody
	# may write ($TMP/ro, root's): it is made in the namespace only
	U=$TMP/user
	mkdir -p "$U/trial/collector" "$TMP/ro"
	echo kept >"$TMP/ro/keep"
	chown -R 65534:65534 "$U"
	chmod 755 "$TMP" "$TMP/ro"
	(cd "$U" && setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$SHIM" -v "$TMP/ro/katib" "$U/trial/collector" "$U/trial/log" "$U" /bin/sh -- \
		sh -c "id -u; echo loss=7 >'$TMP/ro/katib/metrics.log'; cat '$TMP/ro/keep'" \
		3>"$U/trial/supervisor")
	grep -q '^exit 0 0$' "$U/trial/supervisor" ||
		fail "nobody's trial: $(cat "$U/trial/supervisor" "$U/trial/log")"
	[ "$(head -n 1 "$U/trial/log")" = 65534 ] ||
		fail "nobody's trial ran as $(cat "$U/trial/log")"
	grep -qx kept "$U/trial/log" ||
		fail "nobody's trial did not see the rest of $TMP/ro: $(cat "$U/trial/log")"
	grep -qx 'loss=7' "$U/trial/collector/metrics.log" ||
		fail "nobody's file is not in its trial directory: $(cat "$U/trial/log")"
	[ ! -e "$TMP/ro/katib" ] ||
		fail "nobody's trial changed the host's $TMP/ro"
	[ "$(stat -c %u "$U/trial/collector/metrics.log")" = 65534 ] ||
		fail "nobody's file is not nobody's"
	echo "not root: a user namespace gives nobody's trial its own file"
fi
