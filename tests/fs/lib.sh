# lib.sh - helpers for the mounted katibfs tests (sourced by test_*.sh).
#
# Each test gets a private mountpoint and state directory under one mktemp
# directory, a daemon in the foreground (so its pid is known), a trap that
# unmounts (lazily if need be) and kills the daemon, and timeouts on every
# wait. Exit 77 = skip, only when /dev/fuse is absent.

set -u

. "$(dirname "$0")/trial_job.sh"

: "${KATIBFS:?set KATIBFS to the katibfs binary}"
[ -c /dev/fuse ] || { echo "skip: no /dev/fuse"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/katibfs-test.XXXXXX")
MNT=$TMP/mnt
STATE=$TMP/state
mkdir -p "$MNT"
PID=

fail() {
	echo "FAIL: $*" >&2
	if [ -s "$TMP/daemon.log" ]; then
		echo "--- daemon log (last lines)" >&2
		tail -n 20 "$TMP/daemon.log" >&2
	fi
	exit 1
}

# wait_until SECONDS 'shell command': poll until it succeeds.
wait_until() {
	_t=$1
	_end=$(($(date +%s) + _t))
	while ! timeout 10 sh -c "$2" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.2
	done
	return 0
}

# holds SECONDS 'shell command': a negative check. The command stays true
# for the whole time (polled); returns 1 as soon as it is false. SECONDS
# must be long enough for what it rules out to have happened by then.
holds() {
	_end=$(($(date +%s) + $1))
	while timeout 10 sh -c "$2" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$_end" ] && return 0
		sleep 0.2
	done
	return 1
}

# free_port: a TCP port of 127.0.0.1 that nothing listens on now (the
# kernel's pick), for a trial's server: a fixed port collides when tests
# run in parallel.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

is_mounted() {
	grep -q " $MNT fuse" /proc/mounts
}

# mount_fs [EXTRA_ARGS...]: katibfs -f in the background.
mount_fs() {
	"$KATIBFS" -f --state "$STATE" "$@" "$MNT" >>"$TMP/daemon.log" 2>&1 &
	PID=$!
	wait_until 10 "grep -q ' $MNT fuse' /proc/mounts" ||
		fail "mount did not appear"
	wait_until 10 "test -r '$MNT/README'" ||
		fail "README not readable after mount"
}

unmount_fs() {
	[ -n "$PID" ] || return 0
	timeout 10 fusermount3 -u "$MNT" 2>/dev/null ||
		timeout 10 fusermount3 -u -z "$MNT" 2>/dev/null
	_i=0
	while kill -0 "$PID" 2>/dev/null && [ $_i -lt 150 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if kill -0 "$PID" 2>/dev/null; then
		kill -9 "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
		PID=
		return 1
	fi
	wait "$PID" 2>/dev/null
	PID=
	return 0
}

cleanup() {
	unmount_fs
	is_mounted && timeout 10 fusermount3 -u -z "$MNT" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

# state_is EXP STATE
state_is() {
	grep -q "^state=$2\$" "$MNT/$1/status"
}

# wait_state EXP STATE [SECONDS]: fails at once if another final state
# (Succeeded, Failed, Stopped) is reached instead.
wait_state() {
	_end=$(($(date +%s) + ${3:-60}))
	while :; do
		_s=$(timeout 10 sed -n 's/^state=//p' "$MNT/$1/status" 2>/dev/null)
		[ "$_s" = "$2" ] && return 0
		case $_s in
		Succeeded | Failed | Stopped)
			fail "$1 reached state=$_s, expected $2: $(tr '\n' ' ' <"$MNT/$1/status")"
			;;
		esac
		[ "$(date +%s)" -ge "$_end" ] &&
			fail "$1 did not reach state=$2: $(tr '\n' ' ' <"$MNT/$1/status" 2>&1)"
		sleep 0.2
	done
}

# wait_trial_state EXP N STATE [SECONDS]
wait_trial_state() {
	wait_until "${4:-60}" "grep -q '^state=$3\$' '$MNT/$1/trials/$2/status'" ||
		fail "$1 trial $2 did not reach state=$3: $(tr '\n' ' ' <"$MNT/$1/trials/$2/status" 2>&1)"
}

# status_value EXP KEY
status_value() {
	sed -n "s/^$2=//p" "$MNT/$1/status"
}

# expect_fail WHAT ERRNO-TEXT command...: the command fails and its stderr
# names the error (e.g. "Permission denied").
expect_fail() {
	_what=$1
	_msg=$2
	shift 2
	if "$@" 2>"$TMP/err"; then
		fail "$_what: succeeded, expected '$_msg'"
	fi
	grep -q "$_msg" "$TMP/err" ||
		fail "$_what: expected '$_msg', got: $(cat "$TMP/err")"
}

# spec_yaml's search space and the trial parameters that name it (as it
# writes them: yaml_edit can replace them).
SPEC_PARAMETERS='  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.01"
        max: "0.1"
    - name: layers
      parameterType: int
      feasibleSpace:
        min: "1"
        max: "4"'
SPEC_TRIAL_PARAMETERS='    trialParameters:
      - name: lr
        description: Learning rate
        reference: lr
      - name: layers
        reference: layers'

# spec_yaml PROGRAM [MAX [PARALLEL [COLLECTOR]]]
# A Katib v1beta1 Experiment over lr (double) and layers (int) whose trial
# runs PROGRAM with sh -c; ${trialParameters.lr} etc. are substituted.
spec_yaml() {
	cat <<END_OF_SPEC
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: from-the-yaml
  namespace: kubeflow
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parallelTrialCount: ${3:-2}
  maxTrialCount: ${2:-4}
  maxFailedTrialCount: $(( ${2:-4} < 3 ? ${2:-4} : 3 ))
  metricsCollectorSpec:
    collector:
      kind: ${4:-StdOut}
$SPEC_PARAMETERS
  trialTemplate:
    primaryContainerName: training-container
$SPEC_TRIAL_PARAMETERS
$(trial_job training-container docker.io/library/python:3.11-slim)
                command:
                  - sh
                  - -c
                  - |
                    $1
END_OF_SPEC
}

# yaml_edit FROM TO [FROM TO ...]
# Standard input with the first FROM replaced by TO, for each pair in turn
# (exact text; a newline is added to both): a variant of spec_yaml's
# spec. Fails naming a FROM that is not there.
yaml_edit() {
	python3 -c '
import sys
text, edits = sys.stdin.read(), sys.argv[1:]
for old, new in zip(edits[::2], edits[1::2]):
    if old + "\n" not in text:
        sys.exit("yaml_edit: not in the spec: " + old)
    text = text.replace(old + "\n", new + "\n", 1)
sys.stdout.write(text)' "$@"
}

# A quick trial: prints its parameters and a loss computed from them.
QUICK='echo "lr=${trialParameters.lr} layers=${trialParameters.layers}"; python3 -c "import sys; lr=float(sys.argv[1]); n=int(sys.argv[2]); print(\"loss=%.6f\" % ((lr-0.05)**2 + n/100.0))" ${trialParameters.lr} ${trialParameters.layers}'

# slow_program SECONDS: a trial that sleeps before printing its loss.
slow_program() {
	echo "echo \"start lr=\${trialParameters.lr}\"; sleep $1; echo \"loss=\${trialParameters.layers}\""
}

# algo_spec_with ALGORITHM PROGRAM MAX PARALLEL SETTINGS-YAML
# spec_yaml with algorithmName ALGORITHM and the algorithmSettings lines
# SETTINGS-YAML (sed replacement text: lines end in "\").
algo_spec_with() {
	spec_yaml "$2" "$3" "$4" | sed "s/algorithmName: random/algorithmName: $1\\
    algorithmSettings:\\
$5/"
}

# algo_expect_bad_setting ALGORITHM SETTING-YAML WHAT EVENT-TEXT
# Writing a spec with that one setting to $MNT/bad fails with EINVAL and
# $MNT/bad/events then holds EVENT-TEXT.
algo_expect_bad_setting() {
	algo_spec_with "$1" "$QUICK" 4 1 "$2" >"$TMP/bad.yaml"
	expect_fail "$3" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
	grep -q "$4" "$MNT/bad/events" ||
		fail "events does not name $4: $(cat "$MNT/bad/events")"
}

# algo_run_and_resume ALGORITHM SETTINGS-YAML
# With a seeded model-based ALGORITHM: in $MNT/cma a 14-trial experiment,
# two at a time, succeeds with distinct in-bounds trials; in $MNT/resume a
# 12-trial one of slow trials is unmounted and mounted again after four and
# still finishes without duplicates, its spec.yaml naming ALGORITHM.
algo_run_and_resume() {
	algo_spec_with "$1" "$QUICK" 14 2 "$2" >"$MNT/cma/spec.yaml" ||
		fail "valid $1 spec rejected"
	wait_state cma Succeeded 120
	[ "$(status_value cma succeeded)" = 14 ] || fail "status: $(cat "$MNT/cma/status")"
	python3 - "$MNT/cma/trials.csv" <<'PY' || fail "trials.csv: $(cat "$MNT/cma/trials.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 14, len(rows)
seen = {(r["lr"], r["layers"]) for r in rows}
assert len(seen) == 14, "duplicate assignments"
for r in rows:
    assert 0.01 <= float(r["lr"]) <= 0.1, r
    assert r["layers"] in ("1", "2", "3", "4"), r
PY

	algo_spec_with "$1" "$(slow_program 0.3)" 12 1 "$2" >"$MNT/resume/spec.yaml" ||
		fail "resume spec"
	wait_until 60 "[ \$(sed -n 's/^succeeded=//p' '$MNT/resume/status') -ge 4 ]" ||
		fail "resume: no progress: $(cat "$MNT/resume/status")"
	unmount_fs || fail "unmount"
	mount_fs
	wait_state resume Succeeded 120
	python3 - "$MNT/resume/trials.csv" <<'PY' || fail "after resume: $(cat "$MNT/resume/trials.csv")"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["state"] == "Succeeded"]
assert len(rows) >= 12, len(rows)
assert len({(r["lr"], r["layers"]) for r in rows}) == len(rows), "duplicates"
PY
	grep -qi "$1" "$MNT/resume/spec.yaml" || fail "spec.yaml lost the algorithm"
}
