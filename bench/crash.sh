#!/bin/sh
# bench/crash.sh - the long crash test: a 100-trial experiment
# (parallelTrialCount 4) whose daemon is killed with SIGKILL 20 times at
# random moments and mounted again each time, until it has Succeeded.
# Reports kills survived, trials, duplicates (must be 0), lost (must be 0)
# and the time; exits non-zero if anything was lost, run twice or corrupt.
#
#   sh bench/crash.sh            CRASH_TRIALS, CRASH_KILLS override
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
KATIBFS=${KATIBFS:-$top/build/katibfs}
export KATIBFS
CRASH_TRIALS=${CRASH_TRIALS:-100}
CRASH_KILLS=${CRASH_KILLS:-20}
CRASH_DEADLINE=${CRASH_DEADLINE:-300}
# Longer trials than the short test's (0.3-2 s): 20 kills, each followed by
# a remount of about half a second, must fit in the run.
CRASH_SLEEP_MIN=${CRASH_SLEEP_MIN:-0.3}
CRASH_SLEEP_MAX=${CRASH_SLEEP_MAX:-2.0}
CRASH_GAP=${CRASH_GAP:-700}
export CRASH_TRIALS CRASH_KILLS CRASH_DEADLINE CRASH_SLEEP_MIN CRASH_SLEEP_MAX CRASH_GAP
log=$(mktemp /tmp/katibfs-crash.XXXXXX)
trap 'rm -f "$log"' EXIT
rc=0
timeout -k 10 $((CRASH_DEADLINE + 60)) sh "$top/tests/fs/test_crash.sh" >"$log" 2>&1 || rc=$?
line=$(grep '^crash: ' "$log" || true)
if [ $rc -ne 0 ] || [ -z "$line" ]; then
	echo "crash bench FAILED (exit $rc):"
	tail -n 30 "$log"
	exit 1
fi
echo "$line" | sed 's/^crash: /crash bench: /'
