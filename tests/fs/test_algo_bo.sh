#!/bin/sh
# bayesianoptimization end to end: bad settings rejected at write, a seeded experiment with
# parallel trials runs to completion with distinct in-bounds trials, and an
# unmount/mount in the middle resumes the GP state.
. "$(dirname "$0")/lib.sh"
mount_fs

# algo_spec PROGRAM MAX PARALLEL SETTINGS-YAML
algo_spec() {
	spec_yaml "$1" "$2" "$3" | sed "s/algorithmName: random/algorithmName: bayesianoptimization\\
    algorithmSettings:\\
$4/"
}
SETTINGS='      - {name: random_state, value: "42"}\
      - {name: acq_func, value: EI}\
      - {name: n_initial_points, value: "5"}'

mkdir "$MNT/bad" "$MNT/cma" "$MNT/resume" || fail "mkdir"
algo_spec "$QUICK" 4 1 '      - {name: base_estimator, value: RF}' >"$TMP/bad.yaml"
expect_fail "base_estimator RF" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
grep -q "base_estimator" "$MNT/bad/events" || fail "events does not name base_estimator: $(cat "$MNT/bad/events")"
algo_spec "$QUICK" 4 1 '      - {name: acq_func, value: EIps}' >"$TMP/bad.yaml"
expect_fail "acq_func EIps" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
grep -q 'duration model' "$MNT/bad/events" || fail "events does not name acq_func"

# A whole experiment, two trials at a time.
algo_spec "$QUICK" 14 2 "$SETTINGS" >"$MNT/cma/spec.yaml" || fail "valid cmaes spec rejected"
wait_state cma Succeeded 120
[ "$(status_value cma succeeded)" = 14 ] || fail "status: $(cat "$MNT/cma/status")"
python3 - "$MNT/cma/trials.csv" <<'PY' || fail "trials.csv: $(cat "$MNT/cma/trials.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 14, len(rows)
seen = {(r["lr"], r["layers"]) for r in rows}
assert len(seen) == 14, "duplicate assignments"
for r in rows:
    assert 0.01 <= float(r["lr"]) <= 0.1, r
    assert r["layers"] in ("1", "2", "3", "4"), r
PY

# Resume: slow trials, unmount after a few, mount again, finish.
algo_spec "$(slow_program 0.3)" 12 1 "$SETTINGS" >"$MNT/resume/spec.yaml" || fail "resume spec"
wait_until 60 "[ \$(sed -n 's/^succeeded=//p' '$MNT/resume/status') -ge 4 ]" ||
	fail "resume: no progress: $(cat "$MNT/resume/status")"
unmount_fs || fail "unmount"
mount_fs
wait_state resume Succeeded 120
python3 - "$MNT/resume/trials.csv" <<'PY' || fail "after resume: $(cat "$MNT/resume/trials.csv")"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["state"] == "Succeeded"]
assert len(rows) >= 12, len(rows)
assert len({(r["lr"], r["layers"]) for r in rows}) == len(rows), "duplicates"
PY
grep -qi 'bayesianoptimization' "$MNT/resume/spec.yaml" || fail "spec.yaml lost the algorithm"
exit 0
