#!/bin/sh
# sobol through the mount: without random_state, Katib's sequence (goptuna's
# unscrambled points 1, 2, ..., "layers" on dimension 0 and "lr" on 1 as
# their names sort); with random_state, an Owen-scrambled sequence: the
# first 8 lr values fall one in each eighth of [0.01, 0.1], the same seed
# repeats it and another seed gives another.
. "$(dirname "$0")/lib.sh"
mount_fs

TRIAL='python3 -c "import sys; x=float(sys.argv[1]); n=int(sys.argv[2]); print(\"loss=%.6f\" % ((x-0.05)**2 + (n-2)**2/100.0))" ${trialParameters.lr} ${trialParameters.layers}'

# run_sobol NAME SETTINGS-YAML: 8 trials, 2 at a time, to Succeeded.
run_sobol() {
	mkdir "$MNT/$1" || fail "mkdir $1"
	spec_yaml "$TRIAL" 8 2 | S="$2" awk '
		$0 == "    algorithmName: random" {
			print "    algorithmName: sobol" ENVIRON["S"]; next
		}
		{ print }' >"$TMP/$1.yaml"
	cat "$TMP/$1.yaml" >"$MNT/$1/spec.yaml" || fail "$1: spec rejected"
	wait_state "$1" Succeeded 120
	[ "$(status_value "$1" succeeded)" = 8 ] ||
		fail "$1: $(tr '\n' ' ' <"$MNT/$1/status")"
}

seed() {
	printf '\n    algorithmSettings:\n      - name: random_state\n        value: "%s"' "$1"
}

run_sobol katib ""
run_sobol s1 "$(seed 1)"
run_sobol s1again "$(seed 1)"
run_sobol s2 "$(seed 2)"

python3 - "$MNT" <<'PY' || fail "trials.csv: $(cat "$MNT/katib/trials.csv" "$MNT/s1/trials.csv" "$MNT/s2/trials.csv")"
import csv, sys
def rows(name):
    r = list(csv.DictReader(open("%s/%s/trials.csv" % (sys.argv[1], name))))
    assert len(r) == 8, (name, r)
    return sorted(r, key=lambda x: int(x["trial"]))
lr = lambda u: 0.01 + u * 0.09
# Katib's points 1-5: (0.5, 0.5), (0.75, 0.25), (0.25, 0.75), (0.375, 0.375),
# (0.875, 0.875); lr takes the second coordinate
k = rows("katib")
for row, u in zip(k, (0.5, 0.25, 0.75, 0.375, 0.875)):
    assert abs(float(row["lr"]) - lr(u)) < 1e-12, (row, u)
a, again, b = rows("s1"), rows("s1again"), rows("s2")
assert [r["lr"] for r in a] == [r["lr"] for r in again], (a, again)
assert [r["lr"] for r in a] != [r["lr"] for r in b], (a, b)
for rs in (a, b):
    bins = sorted(int((float(r["lr"]) - 0.01) / 0.09 * 8) for r in rs)
    assert bins == list(range(8)), bins
PY
exit 0
