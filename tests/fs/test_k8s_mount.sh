#!/bin/sh
# --backend kubernetes through the mount, against the fake API server
# (tests/k8s/fake_apiserver.py): a Katib-shaped batch/v1 Job experiment
# runs to completion, examples/random.yaml runs unchanged, the daemon is unmounted and mounted again while
# trials run (nothing lost or doubled), and the tree is the one the local
# backend shows; trials/N/spec is the manifest. Skips (77) if the binary
# refuses the backend.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "skip: no openssl"; exit 77; }

. "$here/../k8s/fake.sh"
K8S=$TMP/k8s
trap 'cleanup; fake_stop' EXIT
fake_start "$K8S" || fail "fake API server did not start"
# "$in_cluster PATTERN": a command line (for wait_until) that holds when
# the fake server has an object whose key matches
in_cluster="sh '$here/../k8s/fake.sh' api '$K8S' GET /fake/objects | grep -q"

"$KATIBFS" --help 2>&1 | grep -q kubernetes || { echo "skip: no --backend"; exit 77; }
"$KATIBFS" -f --state "$STATE" --backend kubernetes \
	--kubeconfig "$K8S/kubeconfig" "$MNT" >>"$TMP/daemon.log" 2>&1 &
PID=$!
wait_until 10 "grep -q ' $MNT fuse' /proc/mounts || ! kill -0 $PID" ||
	fail "neither mounted nor exited"
if ! kill -0 $PID 2>/dev/null; then
	wait $PID
	PID=
	grep -q "not built yet" "$TMP/daemon.log" &&
		{ echo "skip: fs/main.c does not wire --backend kubernetes yet"; exit 77; }
	fail "daemon exited: $(cat "$TMP/daemon.log")"
fi
wait_until 10 "test -r '$MNT/README'" || fail "README not readable after mount"

spec() { # spec NAME SLEEP MAX
	fake_job_spec "$1" 2 "$3" "echo start; sleep $2; echo loss=\${trialParameters.learningRate}"
}

mkdir "$MNT/kjob" || fail "mkdir"
spec kjob 0 3 >"$MNT/kjob/spec.yaml" || fail "spec write"
wait_state kjob Succeeded 90
grep -q '^succeeded=3$' "$MNT/kjob/status" || fail "status: $(cat "$MNT/kjob/status")"
for n in 1 2 3; do
	[ "$(grep -c '^loss=' "$MNT/kjob/trials/$n/log")" = 1 ] ||
		fail "trial $n log: $(cat "$MNT/kjob/trials/$n/log")"
	grep -q '"kind":[[:space:]]*"Job"' "$MNT/kjob/trials/$n/spec" ||
		fail "trials/$n/spec is not the manifest: $(cat "$MNT/kjob/trials/$n/spec")"
	grep -q '"katib.kubeflow.org/experiment":[[:space:]]*"kjob"' \
		"$MNT/kjob/trials/$n/spec" || fail "trials/$n/spec has no labels"
done
ls "$MNT/kjob" >"$TMP/k8s.tree"
ls "$MNT/kjob/trials/1" >"$TMP/k8s.trial"

# restart while trials run
mkdir "$MNT/kre" || fail "mkdir kre"
spec kre 3 4 >"$MNT/kre/spec.yaml" || fail "spec kre"
wait_until 30 "grep -q start '$MNT/kre/trials/1/log'" || fail "trial 1 did not start"
unmount_fs || fail "unmount"
"$KATIBFS" -f --state "$STATE" --backend kubernetes \
	--kubeconfig "$K8S/kubeconfig" "$MNT" >>"$TMP/daemon.log" 2>&1 &
PID=$!
wait_until 10 "test -r '$MNT/README'" || fail "remount"
wait_state kre Succeeded 120
grep -q '^succeeded=4$' "$MNT/kre/status" || fail "kre status: $(cat "$MNT/kre/status")"
for n in 1 2 3 4; do
	[ "$(grep -c '^start$' "$MNT/kre/trials/$n/log")" = 1 ] &&
		[ "$(grep -c '^loss=' "$MNT/kre/trials/$n/log")" = 1 ] ||
		fail "kre trial $n log: $(cat "$MNT/kre/trials/$n/log")"
	[ "$(grep -c ',loss,' "$MNT/kre/trials/$n/observations")" = 1 ] ||
		fail "kre trial $n observations: $(cat "$MNT/kre/trials/$n/observations")"
done

# katibfs/devices is the local backend's: the cluster hands out devices
mkdir "$MNT/kdev" || fail "mkdir kdev"
spec kdev 0 2 | sed 's|^  name: kdev$|  name: kdev\n  annotations:\n    katibfs/devices: "0,1"|' >"$TMP/kdev.yaml"
grep -q 'katibfs/devices' "$TMP/kdev.yaml" || fail "kdev spec lacks the annotation"
expect_fail "devices on kubernetes" "Invalid argument" sh -c "cat '$TMP/kdev.yaml' >'$MNT/kdev/spec.yaml'"
grep -q 'metadata.annotations\[katibfs/devices\]: the kubernetes backend does not hand out devices.*resources.limits' "$MNT/kdev/events" ||
	fail "kdev events: $(cat "$MNT/kdev/events")"
rmdir "$MNT/kdev" || fail "rmdir kdev"

# a spec from examples/ unchanged (its python3 -c trial runs as the
# fake kubelet's "container")
mkdir "$MNT/random" || fail "mkdir random"
cp "$here/../../examples/random.yaml" "$MNT/random/spec.yaml" || fail "cp random.yaml"
wait_until 180 "grep -Eq '^state=(Succeeded|Failed)' '$MNT/random/status'" ||
	fail "random.yaml did not finish: $(cat "$MNT/random/status")"
state_is random Succeeded || fail "random.yaml: $(cat "$MNT/random/status")"
grep -q '^failed=0$' "$MNT/random/status" || fail "random.yaml: $(cat "$MNT/random/status")"

# early stopping (examples/medianstop.yaml, as tests/fs/test_medianstop.sh):
# the stopped trial's object is deleted and the trial ends EarlyStopped
ROOT=$(cd "$here/../.." && pwd)
mkdir -p "$TMP/runs" "$MNT/ms" || fail "mkdir ms"
sed -e 's/maxTrialCount: 6/maxTrialCount: 3/' \
	"$ROOT/examples/medianstop.yaml" >"$TMP/ms.yaml"
python3 - "$TMP/ms.yaml" "$TMP/runs" <<'PY'
import sys
p, runs = sys.argv[1], sys.argv[2]
s = open(p).read()
s = s.replace("""                command:
                  - python3""", """                command:
                  - sh
                  - -c
                  - 'n=$(ls "$0" | wc -l); touch "$0/$$"; b=false; [ "$n" -ge 2 ] && b=true; exec python3 "$1" "$2" "$3" --bad=$b --delay=0.3 # $4 unused'
                  - RUNS""")
open(p, "w").write(s.replace("RUNS", runs))
PY
cat "$TMP/ms.yaml" >"$MNT/ms/spec.yaml" || fail "medianstop spec"
wait_state ms Succeeded 120
grep -q '^state=EarlyStopped$' "$MNT/ms/trials/3/status" ||
	fail "trial 3: $(cat "$MNT/ms/trials/3/status")"
fake_api GET /fake/objects | grep -q '^\[' ||
	fail "cannot list the fake server's objects"
wait_until 20 "! $in_cluster '\"ms-'" ||
	fail "medianstop trial objects left in the cluster"

# retain: true keeps the trial objects after they end; rmdir of the
# finished experiment deletes what is left of it in the cluster
mkdir "$MNT/kret" || fail "mkdir kret"
spec kret 0 2 | sed 's/^    primaryContainerName: training-container$/    retain: true\n&/' \
	>"$MNT/kret/spec.yaml" || fail "retain spec"
wait_state kret Succeeded 60
fake_api GET /fake/objects | grep -q '"kret-' ||
	fail "retained trial objects are gone before rmdir"
rmdir "$MNT/kret" || fail "rmdir kret"
wait_until 20 "! $in_cluster '\"kret-'" ||
	fail "rmdir left the experiment's objects in the cluster"
unmount_fs

# the same tree as the local backend
STATE=$TMP/state-local
mount_fs
mkdir "$MNT/kjob" && spec kjob 0 2 >"$MNT/kjob/spec.yaml" || fail "local spec"
wait_state kjob Succeeded 60
ls "$MNT/kjob" | cmp -s - "$TMP/k8s.tree" || fail "experiment tree differs"
ls "$MNT/kjob/trials/1" | cmp -s - "$TMP/k8s.trial" || fail "trial tree differs"
exit 0
