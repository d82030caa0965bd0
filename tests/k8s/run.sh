#!/bin/sh
# run.sh - the kubernetes backend against the fake API server:
#   1. the real kubectl against the server (skipped without kubectl)
#   2. build/tests/test_kube_e2e (Job, PyTorchJob, restart, kill) clean
#   3. the same with faults: 5xx bursts, slow answers, dropped watches,
#      lost create answers (409 on retry), compaction (410 Gone)
# Prints the API requests made per trial. Exit 0 = pass, 77 = skip.
#   sh tests/k8s/run.sh [path/to/test_kube_e2e]
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
bin=${1:-$top/build/tests/test_kube_e2e}
command -v python3 >/dev/null 2>&1 || { echo "no python3"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "no openssl"; exit 77; }
[ -x "$bin" ] || { echo "no $bin (make unit builds it)"; exit 77; }

sh "$here/test_kubectl.sh"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 77 ] || { echo "FAIL kubectl"; exit 1; }

. "$here/fake.sh"
D=$(mktemp -d "${TMPDIR:-/tmp}/katibfs-k8s.XXXXXX")
trap 'fake_stop; [ -n "${bg:-}" ] && kill $bg 2>/dev/null; rm -rf "$D"' EXIT
export KATIBFS_TEST_KUBECONFIG="$D/kubeconfig"
export KATIBFS_TEST_TOP="$top"

fake_start "$D" || exit 1
"$bin" || { echo "FAIL e2e (clean)"; tail -20 "$D/err"; exit 1; }
fake_api GET /fake/requests >"$D/requests.json"
python3 - "$D/requests.json" <<'PY'
import json, sys, collections
reqs = json.load(open(sys.argv[1]))
c = collections.Counter()
for m, p, q in reqs:
    if p.startswith("/fake"):
        continue
    if "watch=1" in q:
        c["watch"] += 1
    elif p.endswith("/log"):
        c["log"] += 1
    elif m == "POST":
        c["create"] += 1
    elif m == "DELETE":
        c["delete"] += 1
    elif "/pods" in p:
        c["pods"] += 1
    elif p.count("/") <= 3:
        c["discovery"] += 1
    else:
        c["list"] += 1
trials = c["create"]
print("requests:", dict(c), "trials:", trials)
per = (c["create"] + c["log"] + c["delete"] + c["pods"]) / max(trials, 1)
print("per trial (create+pods+log+delete): %.2f" % per)
PY
left=$(fake_api GET /fake/objects)
echo "objects left: $left"
case $left in *'"jobs"'*|*'"pytorchjobs"'*) echo "FAIL: trial objects not deleted"; exit 1 ;; esac
fake_stop

fake_start "$D" --fail-5xx 3 --slow 0.02 --drop-watch 2 || exit 1
fake_api POST /fake/faults '{"create_lost": 2}' >/dev/null
( while sleep 3; do fake_api POST /fake/faults '{"compact": true, "fail5xx": 2}' >/dev/null || break; done ) &
bg=$!
"$bin" || { echo "FAIL e2e (faults)"; tail -20 "$D/err"; exit 1; }
kill $bg 2>/dev/null
bg=
echo ok
