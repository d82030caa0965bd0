#!/bin/sh
# A whole experiment to completion, and every file it shows.
. "$(dirname "$0")/lib.sh"
mount_fs

mkdir "$MNT/quick" || fail "mkdir"
spec_yaml "$QUICK" 4 2 >"$TMP/spec.yaml"
cat "$TMP/spec.yaml" >"$MNT/quick/spec.yaml" || fail "writing a valid spec failed"
# Readers in parallel while it runs (the multi-threaded loop).
readers=
for i in 1 2 3 4 5 6; do
	(for j in 1 2 3 4 5 6 7 8 9 10; do
		cat "$MNT/quick/status" "$MNT/quick/trials.csv" "$MNT/quick/events" \
			"$MNT/quick/status.json" >/dev/null || exit 1
		ls -lR "$MNT/quick" >/dev/null 2>&1
	done) &
	readers="$readers $!"
done
for r in $readers; do
	wait "$r" || fail "a parallel reader failed"
done
wait_state quick Succeeded 60

# status: every key, shell-sourceable.
for key in state reason trials pending running succeeded failed killed \
	early_stopped best_trial best_objective; do
	grep -q "^$key=" "$MNT/quick/status" || fail "status has no $key="
done
(cd "$MNT/quick" && . ./status && [ "$trials" = 4 ] && [ "$succeeded" = 4 ] &&
	[ "$state" = Succeeded ]) || fail "sourcing status: $(cat "$MNT/quick/status")"
[ "$(status_value quick reason)" = MaxTrialsReached ] || fail "reason: $(status_value quick reason)"
python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d" "$MNT/quick/status.json" ||
	fail "status.json is not JSON"

# trials.csv: header and one row per trial.
head -n 1 "$MNT/quick/trials.csv" | grep -q '^trial,state,lr,layers,loss$' ||
	fail "trials.csv header: $(head -n 1 "$MNT/quick/trials.csv")"
[ "$(tail -n +2 "$MNT/quick/trials.csv" | wc -l)" -eq 4 ] || fail "trials.csv rows"
python3 -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert len(r)==4 and all(x['state']=='Succeeded' for x in r)" \
	"$MNT/quick/trials.csv" || fail "trials.csv does not parse"
[ "$(ls "$MNT/quick/trials" | sort -n | tr '\n' ' ')" = "1 2 3 4 " ] ||
	fail "trials dir: $(ls "$MNT/quick/trials")"

# Each trial's files.
for n in 1 2 3 4; do
	d=$MNT/quick/trials/$n
	grep -q '^lr=0\.[0-9]' "$d/params" || fail "trial $n params: $(cat "$d/params")"
	grep -q '^layers=[1-4]$' "$d/params" || fail "trial $n params layers"
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert set(d)=={'lr','layers'}" "$d/params.json" ||
		fail "trial $n params.json: $(cat "$d/params.json")"
	grep -q '^loss=[0-9.]*$' "$d/metrics" || fail "trial $n metrics: $(cat "$d/metrics")"
	head -n 1 "$d/observations" | grep -q '^timestamp,name,value$' || fail "trial $n observations header"
	grep -q ',loss,' "$d/observations" || fail "trial $n observations: $(cat "$d/observations")"
	grep -q '^state=Succeeded$' "$d/status" || fail "trial $n status: $(cat "$d/status")"
	grep -q '^loss=' "$d/log" || fail "trial $n log: $(cat "$d/log")"
	lr=$(sed -n 's/^lr=//p' "$d/params")
	grep -q "lr=$lr" "$d/log" || fail "trial $n log does not show its lr $lr"
	grep -q python3 "$d/spec" || fail "trial $n spec: $(cat "$d/spec")"
	grep -q "$lr" "$d/spec" || fail "trial $n spec has no substituted lr"
	[ "$(stat -c %a "$d/params")" = 444 ] || fail "params mode"
	[ "$(stat -c %a "$d/metrics")" = 644 ] || fail "metrics mode"
	[ "$(stat -c %s "$d/log")" -eq "$(wc -c <"$d/log")" ] || fail "log size"
	expect_fail "write params" "Permission denied" sh -c "echo x=1 > '$d/params'"
done

# best agrees with status and is the minimum of trials.csv.
best=$(status_value quick best_trial)
grep -q "^trial=$best\$" "$MNT/quick/best" || fail "best: $(cat "$MNT/quick/best") vs best_trial=$best"
min=$(python3 -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(min(r, key=lambda x: float(x['loss']))['trial'])" "$MNT/quick/trials.csv")
[ "$min" = "$best" ] || fail "best trial $best is not the minimum $min"
grep -q '^loss=' "$MNT/quick/best" || fail "best has no loss"
grep -q '^lr=' "$MNT/quick/best" || fail "best has no lr"

# The spec reads back normalized; the directory name wins over metadata.name.
grep -q 'objectiveMetricName: loss' "$MNT/quick/spec.yaml" || fail "spec.yaml does not read back"
grep -q 'name: quick' "$MNT/quick/spec.yaml" || fail "spec.yaml name is not the directory's"
grep -q 'Succeeded' "$MNT/quick/events" || fail "events has no completion line"
exit 0
