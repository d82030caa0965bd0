#!/bin/sh
# Multi-objective experiments (katibfs/objectives): pareto.csv holds exactly
# the non-dominated Succeeded trials (checked against trials.csv by an
# independent computation), status says pareto_size=, status.json lists the
# front as paretoOptimalTrials, trials.csv has every objective, best stays
# the best on the first objective. A trial that never reports a further
# objective ends MetricsUnavailable naming it. plot.svg draws the front.
# The objectives of a started experiment cannot change (EPERM). pareto.csv
# exists only for multi-objective experiments. A bad annotation is EINVAL
# naming it. After a remount the front reads the same.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mount_fs

# The shipped example, with a third of the trials leaving latency out.
E=$MNT/mo
mkdir "$E" || fail "mkdir"
sed -e 's/^  name: multiobjective/  name: mo/' \
	-e 's/maxFailedTrialCount: 3/maxFailedTrialCount: 20/' \
	-e 's/print("latency=%.4f" % latency)/print("latency=%.4f" % latency) if depth != 3 else None/' \
	"$ROOT/examples/multiobjective.yaml" >"$TMP/mo.yaml"
grep -q 'if depth != 3' "$TMP/mo.yaml" || fail "test spec not built"
cp "$TMP/mo.yaml" "$E/spec.yaml" || fail "cp spec: $(tail -n 3 "$E/events")"
wait_state mo Succeeded 120

head -n 1 "$E/trials.csv" | grep -q '^trial,state,width,depth,lr,error,latency$' ||
	fail "trials.csv header: $(head -n 1 "$E/trials.csv")"
head -n 1 "$E/pareto.csv" | grep -q '^trial,width,depth,lr,error,latency$' ||
	fail "pareto.csv header: $(head -n 1 "$E/pareto.csv")"
ls "$E" | grep -qx pareto.csv || fail "ls does not show pareto.csv: $(ls "$E")"

# The front, computed here from trials.csv, equals pareto.csv; pareto_size
# and status.json's paretoOptimalTrials agree; best is the lowest error.
python3 - "$E" "$(status_value mo pareto_size)" "$(status_value mo best_trial)" <<'PY' || fail "pareto files disagree with trials.csv"
import csv, json, sys
d, size, best = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = list(csv.DictReader(open(d + "/trials.csv")))
ok = [r for r in rows if r["state"] == "Succeeded"]
pts = {int(r["trial"]): (float(r["error"]), float(r["latency"])) for r in ok}
dom = lambda a, b: all(x <= y for x, y in zip(a, b)) and a != b
front = sorted(t for t, p in pts.items() if not any(dom(q, p) for q in pts.values()))
got = [int(r["trial"]) for r in csv.DictReader(open(d + "/pareto.csv"))]
js = [t["trial"] for t in json.load(open(d + "/status.json"))["paretoOptimalTrials"]]
print("front", front, "pareto.csv", got, "status.json", js, "size", size)
assert front == got == js and size == len(front) and len(front) >= 2, "mismatch"
for r in csv.DictReader(open(d + "/pareto.csv")):
    t = int(r["trial"])
    assert (float(r["error"]), float(r["latency"])) == pts[t], r
assert best == min(pts, key=lambda t: (pts[t][0], t)), ("best", best)
missing = [r for r in rows if r["depth"] == "3"]
assert missing and all(r["state"] == "MetricsUnavailable" for r in missing), missing
PY

# plot.svg draws the front: one solid dot per trial on it, the others
# faded, and the step line through the front.
python3 - "$E/plot.svg" "$(status_value mo pareto_size)" "$(status_value mo succeeded)" <<'PY' || fail "plot.svg front"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
tag = lambda e: e.tag.split("}")[-1]
groups = {g.get("class"): g for g in root.iter() if tag(g) == "g"}
front = [c for c in groups["pareto-trials"] if tag(c) == "circle"]
faded = [c for c in groups["dominated-trials"] if tag(c) == "circle"]
paths = [p for p in root.iter() if tag(p) == "path" and p.get("class") == "pareto-front"]
size, ok = int(sys.argv[2]), int(sys.argv[3])
assert len(front) == size and len(front) + len(faded) == ok, (len(front), len(faded))
assert paths and paths[0].get("d").count("H") == size - 1, paths[0].get("d")
PY

# A trial without latency says so in its status.
n=$(awk -F, '$4 == 3 { print $1; exit }' "$E/trials.csv")
[ -n "$n" ] || fail "no depth=3 trial"
grep -q "^message=.*'latency'.*katibfs/objectives" "$E/trials/$n/status" ||
	fail "trial $n status does not name latency: $(cat "$E/trials/$n/status")"

# The objectives of a started experiment cannot change.
sed 's/latency=minimize/latency=maximize/' "$TMP/mo.yaml" >"$TMP/mo2.yaml"
expect_fail "objectives changed" "Operation not permitted" cp "$TMP/mo2.yaml" "$E/spec.yaml"
grep -q 'katibfs/objectives.*cannot change' "$E/events" || fail "events: $(tail -n 2 "$E/events")"

# A single-objective experiment has no pareto.csv.
S=$MNT/single
mkdir "$S" || fail "mkdir single"
sed -e '/katibfs\/objectives/d' -e '/^  annotations:/d' -e 's/^  name: multiobjective/  name: single/' \
	"$ROOT/examples/multiobjective.yaml" >"$TMP/single.yaml"
cp "$TMP/single.yaml" "$S/spec.yaml" || fail "cp single: $(tail -n 3 "$S/events")"
ls "$S" | grep -qx pareto.csv && fail "single-objective experiment lists pareto.csv"
expect_fail "cat single/pareto.csv" "No such file" cat "$S/pareto.csv"
grep -q '^pareto_size=' "$S/status" && fail "single-objective status has pareto_size="

# Bad annotations: EINVAL, the reason in status and events.
B=$MNT/bad
mkdir "$B" || fail "mkdir bad"
sed 's/latency=minimize/latncy=minimize/' "$ROOT/examples/multiobjective.yaml" >"$TMP/bad.yaml"
expect_fail "unknown objective" "Invalid argument" cp "$TMP/bad.yaml" "$B/spec.yaml"
grep -q 'katibfs/objectives.*latncy.*additionalMetricNames.*did you mean latency' "$B/events" ||
	fail "events: $(tail -n 2 "$B/events")"
sed 's/latency=minimize/latency=fastest/' "$ROOT/examples/multiobjective.yaml" >"$TMP/bad.yaml"
expect_fail "bad direction" "Invalid argument" cp "$TMP/bad.yaml" "$B/spec.yaml"
grep -q "^error=.*katibfs/objectives.*minimize or maximize" "$B/status" || fail "status: $(cat "$B/status")"
sed 's/algorithmName: tpe/algorithmName: cmaes/' "$ROOT/examples/multiobjective.yaml" >"$TMP/bad.yaml"
expect_fail "single-objective algorithm" "Invalid argument" cp "$TMP/bad.yaml" "$B/spec.yaml"
grep -q "cmaes optimizes a single objective" "$B/events" || fail "events: $(tail -n 2 "$B/events")"

# After a remount the front is built again from the stored trials.
cp "$E/pareto.csv" "$TMP/before.csv"
unmount_fs || fail "unmount"
mount_fs
wait_until 10 "test -r '$E/pareto.csv'" || fail "pareto.csv after remount"
cmp -s "$TMP/before.csv" "$E/pareto.csv" ||
	fail "pareto.csv changed across a remount: $(diff "$TMP/before.csv" "$E/pareto.csv")"
exit 0
