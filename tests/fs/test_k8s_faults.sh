#!/bin/sh
# The kubernetes backend through API faults (issue 10), against the fake
# API server (tests/k8s/fake_apiserver.py) with pods appearing late:
#   1. the API server unreachable (connection refused, streams dropped)
#      for 6 s in the middle of an experiment (a cluster outage is often
#      longer, e.g. 20 s; 6 s keeps the test short and still outlasts
#      one request's retries): the experiment completes, its `events`
#      (and the mount's) say when the API was unreachable and when it
#      came back;
#   2. a watch cut every 2 s, compaction every 3 s (410 Gone on resume,
#      relist), two 429 storms with Retry-After, slow answers.
# Both: every trial's Job is created exactly once (the server counts
# creates per name), every trial succeeds with one observation, none is
# lost or counted twice.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "skip: no openssl"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "skip: no curl"; exit 77; }

. "$here/../k8s/fake.sh"
K8S=$TMP/k8s
trap 'cleanup; fake_stop' EXIT

start_server() { # start_server [fake_apiserver.py options]
	fake_start "$K8S" --pod-delay 0.3 "$@" || fail "fake API server did not start"
}

spec() { # spec NAME TRIALS SLEEP
	fake_job_spec "$1" 4 "$2" "echo start; sleep $3; echo loss=\${trialParameters.learningRate}"
}

# check EXP TRIALS: succeeded, each trial once, each Job created once
check() {
	grep -q "^succeeded=$2\$" "$MNT/$1/status" &&
		grep -q "^trials=$2\$" "$MNT/$1/status" ||
		fail "$1: $(tr '\n' ' ' <"$MNT/$1/status")"
	n=1
	while [ $n -le "$2" ]; do
		[ "$(grep -c '^start$' "$MNT/$1/trials/$n/log")" = 1 ] &&
			[ "$(grep -c '^loss=' "$MNT/$1/trials/$n/log")" = 1 ] ||
			fail "$1 trial $n log: $(cat "$MNT/$1/trials/$n/log")"
		grep -q '^observations=1$' "$MNT/$1/trials/$n/status" ||
			fail "$1 trial $n: $(tr '\n' ' ' <"$MNT/$1/trials/$n/status")"
		n=$((n + 1))
	done
	fake_api GET /fake/stats >"$TMP/stats.json"
	python3 - "$TMP/stats.json" "$1" "$2" <<'PY' || fail "$1: creates: $(cat "$TMP/stats.json")"
import json, sys
st = json.load(open(sys.argv[1]))
jobs = {k: v for k, v in st["creates"].items()
        if k.startswith("jobs/" + sys.argv[2] + "-")}
bad = {k: v for k, v in jobs.items() if v != 1}
print("%s: %d jobs created, %s" % (sys.argv[2], len(jobs), st["counts"]))
sys.exit(1 if bad or len(jobs) != int(sys.argv[3]) else 0)
PY
}

# finish EXP: wait for its end; it must have succeeded
finish() {
	wait_until 180 "grep -Eq '^state=(Succeeded|Failed|Stopped)' '$MNT/$1/status'" ||
		fail "$1 did not finish: $(tr '\n' ' ' <"$MNT/$1/status")"
	state_is "$1" Succeeded ||
		fail "$1: $(tr '\n' ' ' <"$MNT/$1/status") events: $(cat "$MNT/$1/events")"
}

mount_k8s() {
	mount_fs --backend kubernetes --kubeconfig "$K8S/kubeconfig"
}

# 0. a rate limit that is not a number: the mount is refused, naming it
start_server
"$KATIBFS" -f --state "$STATE" --backend kubernetes --kube-qps fast \
	--kubeconfig "$K8S/kubeconfig" "$MNT" >"$TMP/bad.log" 2>&1 &&
	fail "mounted with --kube-qps fast"
grep -q -- "--kube-qps: 'fast' is not a positive number" "$TMP/bad.log" ||
	fail "--kube-qps fast: $(cat "$TMP/bad.log")"

# 1. unreachable for 6 s mid-experiment
mount_k8s
mkdir "$MNT/outage" || fail "mkdir outage"
spec outage 16 2 >"$MNT/outage/spec.yaml" || fail "spec outage"
wait_until 60 "grep -q '^start' '$MNT/outage/trials/3/log' 2>/dev/null" ||
	fail "trial 3 did not start: $(tr '\n' ' ' <"$MNT/outage/status")"
fake_api POST /fake/faults '{"unreachable": 6}' >/dev/null || fail "fault"
wait_until 30 "grep -q 'is unreachable' '$MNT/outage/events'" ||
	fail "events do not say the API is unreachable: $(cat "$MNT/outage/events")"
finish outage
grep -q 'answers again' "$MNT/outage/events" ||
	fail "events do not say the API came back: $(cat "$MNT/outage/events")"
grep -q 'is unreachable' "$MNT/events" && grep -q 'answers again' "$MNT/events" ||
	fail "the mount-wide events do not say it: $(cat "$MNT/events")"
check outage 16
unmount_fs || fail "unmount"
fake_stop

# 2. watches cut every 2 s, compaction (410 on resume), 429 storms, slow
start_server --drop-watch 2 --compact-every 3 --slow 0.05
mount_k8s
mkdir "$MNT/storm" || fail "mkdir storm"
spec storm 16 1 >"$MNT/storm/spec.yaml" || fail "spec storm"
wait_until 60 "grep -q '^start' '$MNT/storm/trials/2/log' 2>/dev/null" ||
	fail "trial 2 did not start"
fake_api POST /fake/faults '{"throttle": 40, "retry_after": 1}' >/dev/null
wait_until 60 "grep -q '^start' '$MNT/storm/trials/8/log' 2>/dev/null" ||
	fail "trial 8 did not start: $(tr '\n' ' ' <"$MNT/storm/status") events: $(cat "$MNT/storm/events")"
fake_api POST /fake/faults '{"throttle": 40, "retry_after": 1}' >/dev/null
finish storm
check storm 16
python3 -c "
import json, sys
c = json.load(open('$TMP/stats.json'))['counts']
sys.exit(0 if c.get('watch', 0) >= 4 else 1)" ||
	fail "the watches were not cut and resumed: $(cat "$TMP/stats.json")"
exit 0
