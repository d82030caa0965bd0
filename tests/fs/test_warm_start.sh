#!/bin/sh
# katibfs/warm-start: the Succeeded trials of earlier experiments become the
# history of a new one (not run again, not counted as trials, warm_start=N
# in status, kept across a remount); events says how many came from each
# and why the others did not fit; unknown experiments and the experiment
# itself are EINVAL naming the annotation.
. "$(dirname "$0")/lib.sh"
mount_fs

# warm_spec ALGORITHM SOURCES MAX [SED]: spec_yaml with the annotation
warm_spec() {
	algo_spec_with "$1" "$QUICK" "$3" 1 "      - name: random_state\\
        value: \"3\"" |
		sed "s/^  namespace: kubeflow/  namespace: kubeflow\\n  annotations:\\n    katibfs\\/warm-start: \"$2\"/; ${4:-}"
}

mkdir "$MNT/a" "$MNT/b" || fail "mkdir"
spec_yaml "$QUICK" 6 2 >"$MNT/a/spec.yaml" || fail "spec a"
spec_yaml "$QUICK" 2 2 >"$MNT/b/spec.yaml" || fail "spec b"
wait_state a Succeeded 60
wait_state b Succeeded 60

# tpe from a and b: their 8 trials are history; 3 trials run
mkdir "$MNT/t" || fail "mkdir t"
warm_spec tpe "a, b" 3 >"$MNT/t/spec.yaml" || fail "warm spec: $(cat "$MNT/t/status")"
wait_state t Succeeded 60
[ "$(status_value t trials)" = 3 ] || fail "trials: $(cat "$MNT/t/status")"
[ "$(status_value t warm_start)" = 8 ] || fail "warm_start: $(cat "$MNT/t/status")"
[ "$(ls "$MNT/t/trials" | wc -l)" = 3 ] || fail "trials/: $(ls "$MNT/t/trials")"
[ "$(wc -l <"$MNT/t/trials.csv")" = 4 ] || fail "trials.csv: $(cat "$MNT/t/trials.csv")"
grep -q 'warm start: 6 trials from a; 2 trials from b; 8 in all, not run again and not counted against maxTrialCount; given to tpe as history before its first suggestion' \
	"$MNT/t/events" || fail "events: $(grep warm "$MNT/t/events")"
# no warm-start point is run again
for f in "$MNT"/t/trials/*/params; do
	p=$(tr '\n' ' ' <"$f")
	cat "$MNT"/a/trials/*/params "$MNT"/b/trials/*/params | paste -d' ' - - | grep -qx "${p% }" &&
		fail "warm-start point run again: $p"
done

# a narrower space: the trials outside it do not fit, and events says why
n_out=$(grep -h '^lr=' "$MNT"/a/trials/*/params | awk -F= '$2 > 0.05' | wc -l)
mkdir "$MNT/narrow" || fail "mkdir narrow"
warm_spec random a 1 's/max: "0.1"/max: "0.05"/' >"$MNT/narrow/spec.yaml" || fail "narrow spec"
wait_state narrow Succeeded 60
grep -q "warm start: $((6 - n_out)) trials\\{0,1\\} from a.*$n_out with lr outside this search space" "$MNT/narrow/events" ||
	[ "$n_out" = 0 ] || fail "narrow events: $(grep warm "$MNT/narrow/events")"
if [ "$n_out" -lt 6 ]; then
	grep -q 'random does not use history: those points are only not suggested again' "$MNT/narrow/events" ||
		fail "random does not say it ignores history: $(grep warm "$MNT/narrow/events")"
else
	grep -q '0 in all, not run again and not counted against maxTrialCount; nothing to use' "$MNT/narrow/events" ||
		fail "narrow events: $(grep warm "$MNT/narrow/events")"
fi

# a parameter a's trials do not have: none fits
mkdir "$MNT/other" || fail "mkdir other"
warm_spec cmaes a 2 's/layers/depth/g' >"$MNT/other/spec.yaml" || fail "other spec: $(cat "$MNT/other/status")"
wait_state other Succeeded 60
grep -q 'warm start: 0 trials from a (6 Succeeded did not fit: 6 with no value for depth); 0 in all' "$MNT/other/events" ||
	fail "other events: $(grep warm "$MNT/other/events")"
[ "$(status_value other warm_start)" = 0 ] || fail "other: $(cat "$MNT/other/status")"

# cmaes says it starts from the best
mkdir "$MNT/c" || fail "mkdir c"
warm_spec cmaes a 2 >"$MNT/c/spec.yaml" || fail "cmaes spec: $(cat "$MNT/c/status")"
wait_state c Succeeded 60
grep -q 'cmaes starts its first generation from the best of them' "$MNT/c/events" ||
	fail "cmaes events: $(grep warm "$MNT/c/events")"

# bad input: unknown experiments, the experiment itself, a bad list
mkdir "$MNT/bad" || fail "mkdir bad"
warm_spec tpe "a, nope, gone" 2 >"$TMP/bad.yaml"
expect_fail "unknown experiments" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
grep -q 'metadata.annotations\[katibfs/warm-start\]: no experiments named nope, gone on this mount' "$MNT/bad/events" ||
	fail "bad events: $(grep rejected "$MNT/bad/events")"
grep -q "^error='metadata.annotations\[katibfs/warm-start\]" "$MNT/bad/status" || fail "status: $(cat "$MNT/bad/status")"
warm_spec tpe "a, bad" 2 >"$TMP/bad.yaml"
expect_fail "itself" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
grep -q 'names this experiment itself (bad)' "$MNT/bad/events" || fail "self events: $(grep rejected "$MNT/bad/events")"
warm_spec tpe "a,,b" 2 >"$TMP/bad.yaml"
expect_fail "empty name" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
grep -q 'must be a comma-separated list of experiment names' "$MNT/bad/events" || fail "list events: $(grep rejected "$MNT/bad/events")"
"$KATIBFS" check "$TMP/bad.yaml" >/dev/null 2>&1 && fail "katibfs check took a bad warm-start list"

# kept across a remount, even when a source is gone
rmdir "$MNT/b" || fail "rmdir b"
unmount_fs || fail "unmount"
mount_fs
[ "$(status_value t warm_start)" = 8 ] || fail "after remount: $(cat "$MNT/t/status")"
exit 0
