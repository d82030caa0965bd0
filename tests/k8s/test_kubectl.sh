#!/bin/sh
# The fake API server is faithful enough for the real kubectl: create, get
# (also by label), logs and delete a Job and a PyTorchJob through a
# generated kubeconfig. Skips (77) without
# kubectl.
set -u
command -v kubectl >/dev/null 2>&1 || { echo "no kubectl"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/fake.sh"
D=$(mktemp -d "${TMPDIR:-/tmp}/fake-k8s.XXXXXX")
trap 'fake_stop; rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; cat "$D/err"; exit 1; }
fake_start "$D" || fail "fake API server did not start"
export KUBECONFIG="$D/kubeconfig"
cat >"$D/job.yaml" <<'YAML'
apiVersion: batch/v1
kind: Job
metadata:
  name: hello
spec:
  template:
    spec:
      containers:
      - name: main
        image: busybox
        command: [sh, -c, "echo loss=0.5; echo loss=0.25"]
      restartPolicy: Never
YAML
kubectl create -f "$D/job.yaml" --validate=false >/dev/null || fail "create"
kubectl create -f "$D/job.yaml" --validate=false 2>&1 | grep -q AlreadyExists ||
	fail "second create is not AlreadyExists"
kubectl get jobs -o name | grep -qx job.batch/hello || fail "get jobs"
for i in $(seq 50); do
	c=$(kubectl get job hello -o jsonpath='{.status.conditions[0].type}')
	[ "$c" = Complete ] && break
	sleep 0.2
done
[ "$c" = Complete ] || fail "job not Complete: $c"
[ "$(kubectl logs -l job-name=hello)" = "loss=0.5
loss=0.25" ] || fail "logs"
cat >"$D/pt.yaml" <<'YAML'
apiVersion: kubeflow.org/v1
kind: PyTorchJob
metadata:
  name: pt
  labels: {katib.kubeflow.org/experiment: e1}
spec:
  pytorchReplicaSpecs:
    Master:
      replicas: 1
      template:
        spec:
          containers:
          - name: pytorch
            image: busybox
            command: [sh, -c, "echo master"]
YAML
kubectl create -f "$D/pt.yaml" --validate=false >/dev/null || fail "create pytorchjob"
kubectl get pytorchjobs -l katib.kubeflow.org/experiment=e1 -o name |
	grep -qx pytorchjob.kubeflow.org/pt || fail "get pytorchjobs by label"
[ -n "$(kubectl get pytorchjobs -l katib.kubeflow.org/experiment=nope -o name)" ] &&
	fail "label selector matched"
for i in $(seq 50); do
	[ "$(kubectl logs pt-master-0 2>/dev/null)" = master ] && break
	sleep 0.2
done
[ "$(kubectl logs pt-master-0)" = master ] || fail "pytorchjob master log"
kubectl delete pytorchjob pt >/dev/null || fail "delete pytorchjob"
kubectl delete job hello >/dev/null 2>"$D/del.err" || fail "delete"
grep -q Unsolicited "$D/del.err" && fail "delete: $(cat "$D/del.err")"
[ -z "$(kubectl get jobs -o name)" ] || fail "job still there"
[ -z "$(kubectl get pods -o name)" ] || fail "pod still there"
KUBECONFIG=/dev/null kubectl --server "https://127.0.0.1:$(cat "$D/port")" \
	--insecure-skip-tls-verify --token wrong get pods 2>&1 | grep -qi unauthorized ||
	fail "no 401 without a token"
echo ok
