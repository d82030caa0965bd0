#!/bin/sh
# Every spec in examples/ (examples/*.yaml and examples/*/*.yaml) runs as
# shipped, copied unchanged (but for prometheus.yaml's port, below), to
# Succeeded with no failed trial, all at once on one mount. The installed
# copies are the same files (test_install.sh checks that and that none
# names a path), so this covers them too. Then:
#   - sh trials/1/spec of each (but pbt, whose trial resumes from and
#     rewrites its checkpoint, and those with a collector fileSystemPath,
#     which by hand is the host's own) prints what the trial's log holds;
#   - metricStrategies: in random.yaml, accuracy (max while loss is
#     minimized) shows its highest observed value in trials/N/metrics.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

names=
for f in "$ROOT"/examples/*.yaml "$ROOT"/examples/*/*.yaml; do
	n=$(basename "$f" .yaml)
	names="$names $n"
	"$KATIBFS" check "$f" >/dev/null 2>"$TMP/err" || fail "katibfs check $f: $(cat "$TMP/err")"
done
for algo in random grid tpe multivariate-tpe cmaes bayesianoptimization sobol \
	hyperband pbt enas darts; do
	grep -lq "algorithmName: $algo\$" "$ROOT"/examples/*.yaml ||
		fail "no example for algorithm $algo"
done

# prometheus.yaml's trial serves its metrics on a fixed port, written out
# for its readers (29170, in the collector's source and in the program);
# here both get a free port instead, so that tests running at the same
# time cannot take it from each other.
PROM_PORT=$(free_port)
copy_example() {
	case $1 in
	*/prometheus.yaml)
		grep -c '29170' "$1" | grep -qx 2 ||
			fail "$1: expected port 29170 twice (source.httpGet.port and the server)"
		sed "s/\<29170\>/$PROM_PORT/g" "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}

mount_fs
start=$(date +%s)
for f in "$ROOT"/examples/*.yaml "$ROOT"/examples/*/*.yaml; do
	n=$(basename "$f" .yaml)
	mkdir "$MNT/$n" || fail "mkdir $n"
	copy_example "$f" "$MNT/$n/spec.yaml" || fail "cp $f: $(tail -n 3 "$MNT/$n/events")"
done
grep -q "port: $PROM_PORT\$" "$MNT/prometheus/spec.yaml" ||
	fail "prometheus: port $PROM_PORT not in its spec: $(grep port: "$MNT/prometheus/spec.yaml")"
for n in $names; do
	wait_state "$n" Succeeded $((start + 200 - $(date +%s)))
	[ "$(status_value "$n" failed)" = 0 ] || fail "$n: $(cat "$MNT/$n/status")"
	# the None collector collects nothing: no best trial there
	grep -q 'kind: None$' "$MNT/$n/spec.yaml" ||
		[ -n "$(status_value "$n" best_trial)" ] || fail "$n: no best trial: $(cat "$MNT/$n/status")"
done
echo "all examples Succeeded in $(($(date +%s) - start))s"

# Each first trial run again by hand from its spec gives its output.
for n in $names; do
	[ "$n" = pbt ] && continue
	# by hand, a collector's absolute fileSystemPath is the real one (the
	# trial had a private view of it): do not write into the host's /var
	grep -q '^ *fileSystemPath:' "$MNT/$n/spec.yaml" && continue
	spec=$MNT/$n/trials/1/spec
	(cd / && sh "$spec") >"$TMP/again" 2>&1 || fail "$n: sh trials/1/spec failed: $(tail -n 5 "$TMP/again")"
	cmp -s "$TMP/again" "$MNT/$n/trials/1/log" ||
		fail "$n: sh trials/1/spec differs from the log: $(diff "$MNT/$n/trials/1/log" "$TMP/again" | head -n 10)"
done

# accuracy under metricStrategies max: the highest observation, not the first.
for t in 1 2 3; do
	want=$(awk -F, '$2 == "accuracy" { if (m == "" || $3 + 0 > m + 0) m = $3 } END { print m }' \
		"$MNT/random/trials/$t/observations")
	got=$(sed -n 's/^accuracy=//p' "$MNT/random/trials/$t/metrics")
	[ -n "$want" ] && awk -v a="$got" -v b="$want" 'BEGIN { exit !(a + 0 == b + 0) }' ||
		fail "random trial $t: accuracy=$got in metrics, highest observed $want"
done
exit 0
