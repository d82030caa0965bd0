# fake.sh - start, query and stop the fake API server (fake_apiserver.py
# beside this file): the one way the tests and benchmarks that use it do
# so. POSIX sh.
#
# Sourced by a script in tests/<dir>/ (. "$here/../k8s/fake.sh"):
#   fake_start DIR [fake_apiserver.py options]
#       starts it with its kubelet (--kubelet), its files in DIR
#       (kubeconfig, port, ca.crt, client.crt ...; DIR/out and DIR/err its
#       output, DIR/pid its pid; DIR is made afresh), and waits until it
#       says READY (20 s at most). Sets FAKE_PID and FAKE_DIR. 0, or 1
#       with its stderr on ours when it did not start.
#   fake_stop   stops it, if started, and waits until it has ended
#   fake_api METHOD PATH [JSON]
#       a request to it as the tests' user (curl); the answer on stdout
#   fake_job_spec NAME PARALLEL MAX LINE [MAXFAILED]
#       a random-search Experiment (minimize loss over lr) whose trials
#       are batch/v1 Jobs running `sh -c LINE`; LINE prints loss=... from
#       ${trialParameters.learningRate} and holds no double quote;
#       maxFailedTrialCount MAXFAILED (1 if not given)
# Run as a command:
#   sh tests/k8s/fake.sh start DIR [options]   fake_start; the server
#       runs on (bench/k8s_requests.py)
#   sh tests/k8s/fake.sh stop DIR              fake_stop of DIR's server
#   sh tests/k8s/fake.sh api DIR METHOD PATH [JSON]
#       fake_api to DIR's server (also for wait_until's commands)
#   sh tests/k8s/fake.sh job-spec NAME PARALLEL MAX LINE [MAXFAILED]
#       fake_job_spec on stdout (bench/k8s_requests.py)

# trial_job, for fake_job_spec (from tests/fs/ or tests/k8s/: both work)
. "$(dirname "$0")/../fs/trial_job.sh"

FAKE_PID=
FAKE_DIR=
FAKE_TOKEN=katibfs-test-token

fake_start() {
	FAKE_DIR=$1
	shift
	rm -rf "$FAKE_DIR"
	mkdir -p "$FAKE_DIR" || return 1
	python3 "$(dirname "$0")/../k8s/fake_apiserver.py" --dir "$FAKE_DIR" \
		--kubelet "$@" >"$FAKE_DIR/out" 2>"$FAKE_DIR/err" &
	FAKE_PID=$!
	echo "$FAKE_PID" >"$FAKE_DIR/pid"
	_fake_end=$(($(date +%s) + 20))
	until grep -q READY "$FAKE_DIR/out" 2>/dev/null; do
		if ! kill -0 "$FAKE_PID" 2>/dev/null ||
			[ "$(date +%s)" -ge "$_fake_end" ]; then
			echo "fake API server did not start:" >&2
			cat "$FAKE_DIR/err" >&2
			fake_stop
			return 1
		fi
		sleep 0.1
	done
	return 0
}

fake_stop() {
	[ -n "$FAKE_PID" ] || return 0
	kill "$FAKE_PID" 2>/dev/null
	# our child: wait; else (started by `fake.sh start`) until it is gone
	wait "$FAKE_PID" 2>/dev/null
	_fake_end=$(($(date +%s) + 20))
	while kill -0 "$FAKE_PID" 2>/dev/null &&
		[ "$(date +%s)" -lt "$_fake_end" ]; do
		sleep 0.1
	done
	FAKE_PID=
}

fake_api() {
	curl -s --cacert "$FAKE_DIR/ca.crt" \
		-H "Authorization: Bearer $FAKE_TOKEN" -X "$1" \
		${3:+-H "Content-Type: application/json" -d "$3"} \
		"https://127.0.0.1:$(cat "$FAKE_DIR/port")$2"
}

fake_job_spec() {
	cat <<YAML
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: $1
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parallelTrialCount: $2
  maxTrialCount: $3
  maxFailedTrialCount: ${5:-1}
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace: {min: "0.01", max: "0.05"}
  trialTemplate:
    primaryContainerName: training-container
    trialParameters:
      - name: learningRate
        description: Learning rate
        reference: lr
$(trial_job training-container docker.io/kubeflowkatib/pytorch-mnist-cpu)
                command: [sh, -c, "$4"]
YAML
}

case $0 in
*/fake.sh | fake.sh)
	case ${1:-}:$# in
	start:[2-9]* | start:1[0-9]*)
		shift
		fake_start "$@"
		exit
		;;
	stop:2)
		FAKE_PID=$(cat "$2/pid" 2>/dev/null)
		fake_stop
		exit 0
		;;
	job-spec:[5-6])
		shift
		fake_job_spec "$@"
		exit
		;;
	api:[4-5])
		FAKE_DIR=$2
		shift 2
		fake_api "$@"
		exit
		;;
	esac
	echo "usage: sh fake.sh start DIR [fake_apiserver.py options]" >&2
	echo "       sh fake.sh stop DIR" >&2
	echo "       sh fake.sh api DIR METHOD PATH [JSON]" >&2
	echo "       sh fake.sh job-spec NAME PARALLEL MAX LINE [MAXFAILED]" >&2
	exit 2
	;;
esac
