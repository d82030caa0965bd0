#!/bin/sh
# API requests per trial on the kubernetes backend (the small version of
# bench/k8s_requests.py, which `make bench` runs with 300 trials at
# parallelTrialCount 1, 10 and 100): 30 batch/v1 Job trials at
# parallelTrialCount 10 against the fake API server, pods appearing late
# and Pending a while as on a cluster. At most 4 requests per trial
# (create, log, delete, one more) and a constant number of shared ones
# (discovery once per group version, one list + watch per kind and
# namespace, a few watch renewals); every trial object created once.
here=$(cd "$(dirname "$0")" && pwd)
[ -c /dev/fuse ] || { echo "skip: no /dev/fuse"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
exec python3 "$here/../../bench/k8s_requests.py" "$KATIBFS" --trials 30 \
	--parallel 10 --max-per-trial 4 --max-shared 12 --timeout 180
