#!/bin/sh
# The kubernetes backend against the fake API server (tests/k8s/run.sh).
here=$(cd "$(dirname "$0")" && pwd)
exec sh "$here/../k8s/run.sh" "$(dirname "$KATIBFS")/tests/test_kube_e2e"
