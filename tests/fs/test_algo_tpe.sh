#!/bin/sh
# A small tpe experiment (8 trials, 2 in parallel, random_state) end to
# end through the mount; then the same for multivariate-tpe and sobol.
. "$(dirname "$0")/lib.sh"
mount_fs

TRIAL='python3 -c "import sys; x=float(sys.argv[1]); n=int(sys.argv[2]); print(\"loss=%.6f\" % ((x-0.05)**2 + (n-2)**2/100.0))" ${trialParameters.lr} ${trialParameters.layers}'

# spec_yaml uses random search; switch the algorithm (and its settings).
algo_spec() {
	spec_yaml "$TRIAL" 8 2 | A="$1" S="$2" awk '
		$0 == "    algorithmName: random" {
			print "    algorithmName: " ENVIRON["A"] ENVIRON["S"]; next
		}
		{ print }' 
}

run_algo() {
	name=$1
	mkdir "$MNT/$name" || fail "mkdir $name"
	algo_spec "$2" "$3" >"$TMP/$name.yaml"
	cat "$TMP/$name.yaml" >"$MNT/$name/spec.yaml" || fail "$name: spec rejected"
	wait_state "$name" Succeeded 120
	[ "$(status_value "$name" succeeded)" = 8 ] ||
		fail "$name: $(tr '\n' ' ' <"$MNT/$name/status")"
	python3 - "$MNT/$name/trials.csv" <<'PY' || fail "$name: trials.csv"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 8, rows
seen = set()
for r in rows:
    lr, layers = float(r["lr"]), r["layers"]
    assert 0.01 <= lr <= 0.1, r
    assert layers in ("1", "2", "3", "4"), r
    assert (r["lr"], layers) not in seen, r
    seen.add((r["lr"], layers))
    assert r["state"] == "Succeeded", r
PY
}

SEED='
    algorithmSettings:
      - name: random_state
        value: "5"
      - name: n_startup_trials
        value: "3"'
run_algo tpe1 tpe "$SEED"
run_algo mtpe1 multivariate-tpe "$SEED"
run_algo sobol1 sobol ""

# A bad setting is refused when spec.yaml is written, naming it.
mkdir "$MNT/badtpe" || fail "mkdir badtpe"
algo_spec tpe '
    algorithmSettings:
      - name: gamma
        value: "1.5"' >"$TMP/bad.yaml"
expect_fail "gamma=1.5" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/badtpe/spec.yaml'"
exit 0
