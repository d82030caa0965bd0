#!/bin/sh
# The TensorFlowEvent, Custom, PrometheusMetric and None collectors on the
# local backend, and their bad input: a corrupt and a truncated event file,
# a collector that cannot start, a scrape target that never answers, a
# metric line of 1 MB. Each: an events line saying what and where, the
# trial's other observations kept, the daemon serving.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

# with_collector OBJECTIVE-METRIC TYPE PROGRAM COLLECTOR-YAML-FILE
# spec_yaml (one trial) with that objective and metricsCollectorSpec.
with_collector() {
	spec_yaml ": \${trialParameters.lr} \${trialParameters.layers}; $3" 1 1 | python3 -c '
import sys
s = sys.stdin.read()
s = s.replace("  metricsCollectorSpec:\n    collector:\n      kind: StdOut\n",
              open(sys.argv[1]).read())
s = s.replace("type: minimize\n    objectiveMetricName: loss",
              "type: %s\n    objectiveMetricName: %s%s" % (sys.argv[3], sys.argv[2],
              "" if sys.argv[2] == "loss" else "\n    additionalMetricNames: [loss]"))
sys.stdout.write(s)' "$4" "$1" "$2"
}

# observed EXP NAME: the values of NAME in trial 1's observations, sorted.
observed() {
	awk -F, -v n="$2" '$2 == n { print $3 }' "$MNT/$1/trials/1/observations" | sort | tr '\n' ' '
}

# event_says EXP TEXT...: trial 1's events hold a line with every TEXT.
event_says() {
	_e=$1
	shift
	_pat=$(printf '%s' "$*" | sed 's/ /.*/g')
	wait_until 20 "grep -q '$_pat' '$MNT/$_e/events'" ||
		fail "$_e: no events line with $*: $(tail -n 5 "$MNT/$_e/events")"
}

mount_fs

# ---- TensorFlowEvent: TF1 and TF2 scalars, a torn record, a corrupt one,
# another directory, a truncated end ----
cat >"$TMP/tf_trial.py" <<'PY'
import os, sys, time
sys.path.insert(0, sys.argv[1])
from tfevent_writer import Writer, event, record, simple_value
log = os.path.join(os.environ["KATIB_TRIAL_DIR"], "tfevent-metrics.log")

def wait_for(text):
    end = time.time() + 30
    while time.time() < end:
        if os.path.exists(log) and text in open(log).read():
            return
        time.sleep(0.05)
    sys.exit("the collector never took " + text)

d = "/var/log/katib/tfevent"
os.makedirs(d + "/train", exist_ok=True)
os.makedirs(d + "/test", exist_ok=True)
w = Writer(d + "/train/events.out.tfevents." + sys.argv[2])
w.scalar("accuracy", 0.5, step=1)        # TF1 simple_value
w.tensor("accuracy", 0.75, step=2)       # TF2 scalar tensor
w.tensor("loss", 0.125, step=2)
wait_for("train/accuracy=0.75")
torn = record(event("accuracy", simple_value(0.875), step=3))
w.write(torn[:10])                       # a record still being written
time.sleep(1)                            # a few collector passes see it torn
w.write(torn[10:])
wait_for("train/accuracy=0.875")
w.scalar("accuracy", 0.1, step=4, corrupt=True)
w.scalar("accuracy", 0.9375, step=5)
Writer(d + "/test/events.out.tfevents." + sys.argv[2]).scalar("accuracy", 0.99)
wait_for("train/accuracy=0.9375")
w.write(record(event("accuracy", simple_value(0.2)))[:7])  # cut short
print("trained")
PY
printf '  metricsCollectorSpec:\n    collector:\n      kind: TensorFlowEvent\n' >"$TMP/tf.yaml"
mkdir "$MNT/tf" || fail "mkdir tf"
# a name of this run's own: files left in the shared directory by others
# (sh trials/N/spec runs a trial without its private view) are not ours
EVENTS=events.out.tfevents.$(basename "$TMP")
with_collector train/accuracy maximize "python3 $TMP/tf_trial.py $HERE $(basename "$TMP")" "$TMP/tf.yaml" \
	>"$MNT/tf/spec.yaml" || fail "TensorFlowEvent spec refused: $(tail -n 3 "$MNT/tf/events")"
wait_state tf Succeeded 60
[ "$(observed tf train/accuracy)" = "0.5 0.75 0.875 0.9375 " ] ||
	fail "tf: train/accuracy observed $(observed tf train/accuracy); log: $(cat "$MNT/tf/trials/1/log")"
[ "$(observed tf loss)" = "0.125 " ] || fail "tf: loss observed $(observed tf loss)"
grep -q '^train/accuracy=0.9375$' "$MNT/tf/trials/1/metrics" ||
	fail "tf metrics: $(cat "$MNT/tf/trials/1/metrics")"
event_says tf "trial 1: TensorFlowEvent collector: /var/log/katib/tfevent/train/$EVENTS:" \
	"offset" "fails its CRC32C check; skipped"
event_says tf "$EVENTS: truncated" "observations are kept"
# the trial's files were its own: nothing under the shared directory
[ ! -e "/var/log/katib/tfevent/train/$EVENTS" ] ||
	fail "the event file was written to the shared directory"

# a remount while the trial writes: every record counted once
cat >"$TMP/tf_remount.py" <<'PY'
import os, sys, time
sys.path.insert(0, sys.argv[1])
from tfevent_writer import Writer
os.makedirs("/var/log/katib/tfevent/train", exist_ok=True)
w = Writer("/var/log/katib/tfevent/train/events.out.tfevents.remount")
w.scalar("accuracy", 0.5, step=1)
go = os.path.join(os.environ["KATIB_TRIAL_DIR"], "go")
end = time.time() + 60
while not os.path.exists(go) and time.time() < end:
    time.sleep(0.05)
w.scalar("accuracy", 0.75, step=2)
PY
mkdir "$MNT/tfremount" || fail "mkdir tfremount"
with_collector train/accuracy maximize "python3 $TMP/tf_remount.py $HERE" "$TMP/tf.yaml" \
	>"$MNT/tfremount/spec.yaml" || fail "spec refused"
wait_until 30 "grep -q ',train/accuracy,0.5' '$MNT/tfremount/trials/1/observations'" ||
	fail "tfremount: 0.5 not observed: $(cat "$MNT/tfremount/trials/1/observations")"
unmount_fs || fail "unmount"
mount_fs
touch "$STATE/experiments/tfremount/1/go"
wait_state tfremount Succeeded 60
[ "$(observed tfremount train/accuracy)" = "0.5 0.75 " ] ||
	fail "tfremount: train/accuracy observed $(observed tfremount train/accuracy) across a remount"

# ---- Custom: a collector beside the trial, metricsFormat honoured ----
cat >"$TMP/collector.py" <<'PY'
import os, signal, sys, time
pos = 0
def drain():
    global pos
    try:
        with open("metrics.txt") as f:
            f.seek(pos)
            text = f.read()
    except FileNotFoundError:
        return
    text = text[: text.rfind("\n") + 1]
    pos += len(text)
    sys.stdout.write(text)
    sys.stdout.flush()
def stop(*_):
    drain()
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
sys.stdout.write("greeting=%s\n" % os.environ["COLLECTOR_GREETING"])
open("collector.ready", "w").close()  # the trial waits for this
while True:
    drain()
    time.sleep(0.1)
PY
cat >"$TMP/custom.yaml" <<Y
  metricsCollectorSpec:
    collector:
      kind: Custom
      customCollector:
        name: my-collector
        image: example.com/collector:1
        command: [python3, $TMP/collector.py]
        env:
          - {name: COLLECTOR_GREETING, value: hello from the spec}
    source:
      filter:
        metricsFormat:
          - "{metricName: ([\\\\w|-]+), metricValue: ((-?\\\\d+)(\\\\.\\\\d+)?)}"
Y
mkdir "$MNT/custom" || fail "mkdir custom"
with_collector loss minimize 'echo "loss=9 is the trial output, which a Custom collector does not read"; i=0; while [ ! -e collector.ready ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; for v in 0.5 0.25 0.125; do echo "{metricName: loss, metricValue: $v}" >>metrics.txt; sleep 0.2; done' \
	"$TMP/custom.yaml" >"$MNT/custom/spec.yaml" ||
	fail "Custom spec refused: $(tail -n 3 "$MNT/custom/events")"
wait_state custom Succeeded 60
[ "$(observed custom loss)" = "0.125 0.25 0.5 " ] ||
	fail "custom: loss observed $(observed custom loss)"
grep -q '^loss=0.125$' "$MNT/custom/trials/1/metrics" || fail "custom metrics: $(cat "$MNT/custom/trials/1/metrics")"
grep -q '^greeting=hello from the spec$' "$STATE/experiments/custom/1/collector-output.log" ||
	fail "the collector's env: $(cat "$STATE/experiments/custom/1/collector-output.log")"

# a collector that cannot start: the trial runs, events say why
sed "s|command: \[python3, .*\]|command: [/nonexistent/katibfs-collector, -v]|" \
	"$TMP/custom.yaml" >"$TMP/nostart.yaml"
mkdir "$MNT/nostart" || fail "mkdir nostart"
with_collector loss minimize 'echo ran' "$TMP/nostart.yaml" >"$MNT/nostart/spec.yaml" ||
	fail "spec refused"
wait_trial_state nostart 1 MetricsUnavailable 60
event_says nostart "trial 1: Custom collector (collector.customCollector) exited with code 127" \
	"cannot start the custom collector /nonexistent/katibfs-collector" "No such file"
grep -q '^ran$' "$MNT/nostart/trials/1/log" || fail "the trial did not run: $(cat "$MNT/nostart/trials/1/log")"

# a collector that never exits: once the trial has ended it has 2 s to
# end on its own, then it is stopped; the trial ends on its own exit
# status with what the collector printed, and events say so (as on the
# kubernetes backend)
sed "s|command: \[python3, .*\]|command: [sh, -c, 'echo \"{metricName: loss, metricValue: 0.75}\"; exec sleep 600']|" \
	"$TMP/custom.yaml" >"$TMP/forever.yaml"
grep -q 'exec sleep 600' "$TMP/forever.yaml" || fail "forever.yaml: $(cat "$TMP/forever.yaml")"
mkdir "$MNT/forever" || fail "mkdir forever"
with_collector loss minimize 'echo ran' "$TMP/forever.yaml" >"$MNT/forever/spec.yaml" ||
	fail "spec refused"
wait_state forever Succeeded 60
[ "$(observed forever loss)" = "0.75 " ] || fail "forever: loss observed $(observed forever loss)"
event_says forever "trial 1: Custom collector (collector.customCollector) did not exit within 2 s" \
	"was stopped (SIGTERM); the trial ends on its own exit status, with the observations collected"

# ---- PrometheusMetric: scraped while the trial runs ----
PORT=$(free_port)
cat >"$TMP/prom_trial.py" <<'PY'
import http.server, os, sys, threading, time
log = os.path.join(os.environ["KATIB_TRIAL_DIR"], "prometheus-metrics.log")
value = {"accuracy": "0.5"}
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("# HELP accuracy Accuracy.\n# TYPE accuracy gauge\n"
                'accuracy{split="validation",note="a \\"b\\""} %s\n'
                "loss_total +Inf\nother NaN\n" % value["accuracy"]).encode()
        self.send_response(200 if self.path == "/custom/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
def wait_for(text):
    end = time.time() + 30
    while time.time() < end:
        if os.path.exists(log) and text in open(log).read():
            return
        time.sleep(0.05)
    sys.exit("never scraped: " + text)
wait_for("accuracy=0.5\n")
value["accuracy"] = "0.875"
wait_for("accuracy=0.875\n")
print("served")
PY
printf '  metricsCollectorSpec:\n    collector:\n      kind: PrometheusMetric\n    source:\n      httpGet:\n        port: %s\n        path: /custom/metrics\n' \
	"$PORT" >"$TMP/prom.yaml"
mkdir "$MNT/prom" || fail "mkdir prom"
with_collector accuracy maximize "python3 $TMP/prom_trial.py $PORT" "$TMP/prom.yaml" \
	>"$MNT/prom/spec.yaml" || fail "Prometheus spec refused: $(tail -n 3 "$MNT/prom/events")"
wait_state prom Succeeded 60
[ "$(observed prom accuracy)" = "0.5 0.875 " ] ||
	fail "prom: accuracy observed $(observed prom accuracy); log: $(cat "$MNT/prom/trials/1/log")"

# a target that never answers: events say so; MetricsUnavailable
mkdir "$MNT/noanswer" || fail "mkdir noanswer"
with_collector accuracy maximize "sleep 3; echo accuracy=0.9" "$TMP/prom.yaml" \
	>"$MNT/noanswer/spec.yaml" || fail "spec refused"
wait_trial_state noanswer 1 MetricsUnavailable 60
event_says noanswer "trial 1: PrometheusMetric collector: http://127.0.0.1:$PORT/custom/metrics never answered"

# ---- None: no metrics, a trial ends on its exit status ----
printf '  metricsCollectorSpec:\n    collector:\n      kind: None\n' >"$TMP/none.yaml"
mkdir "$MNT/none" || fail "mkdir none"
with_collector loss minimize 'echo no metrics here' "$TMP/none.yaml" \
	>"$MNT/none/spec.yaml" || fail "None spec refused: $(tail -n 3 "$MNT/none/events")"
wait_state none Succeeded 60
[ "$(status_value none succeeded)" = 1 ] || fail "none: $(cat "$MNT/none/status")"
[ -z "$(status_value none best_trial)" ] || fail "none has a best trial: $(cat "$MNT/none/status")"
mkdir "$MNT/nonefail" || fail "mkdir nonefail"
with_collector loss minimize 'exit 3' "$TMP/none.yaml" >"$MNT/nonefail/spec.yaml" || fail "spec refused"
wait_trial_state nonefail 1 Failed 60

# ---- a metric line of 1 MB (StdOut): said in events, the others kept ----
mkdir "$MNT/long" || fail "mkdir long"
spec_yaml ": \${trialParameters.lr} \${trialParameters.layers}; python3 -c \"print('loss=0.5'); print('x' * 1048576 + ' loss=0.0625'); print('loss=0.25')\"" 1 1 \
	>"$MNT/long/spec.yaml" || fail "spec refused"
wait_state long Succeeded 60
[ "$(observed long loss)" = "0.25 0.5 " ] || fail "long: loss observed $(observed long loss)"
event_says long "trial 1: a line of at least 1048576 bytes at offset 9 of" "/log is longer than katibfs reads"

# ... and pushed (Push): the write fails, says so in events, and neither
# it nor a value cut from it counts; the other pushes do
mkdir "$MNT/longpush" || fail "mkdir longpush"
spec_yaml 'echo ${trialParameters.lr} ${trialParameters.layers}; i=0; while [ ! -e "$KATIB_TRIAL_DIR/go" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done' 1 1 Push \
	>"$MNT/longpush/spec.yaml" || fail "spec refused"
wait_trial_state longpush 1 Running 20
echo loss=0.5 >>"$MNT/longpush/trials/1/metrics" || fail "push"
python3 - "$MNT/longpush/trials/1/metrics" <<'PY' && fail "a 1 MB metrics line was taken"
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
data = b"loss=" + b"1" * 1048576 + b"\n"
try:
    while data:
        data = data[os.write(fd, data):]
    os.close(fd)  # the last line is submitted here
except OSError as e:
    sys.exit(e.strerror)
PY
event_says longpush "rejected trials/1/metrics write: a line of" "bytes, longer than katibfs takes"
echo loss=0.25 >>"$MNT/longpush/trials/1/metrics" || fail "push after the long line"
touch "$STATE/experiments/longpush/1/go"
wait_state longpush Succeeded 30
[ "$(observed longpush loss)" = "0.25 0.5 " ] || fail "longpush: loss observed $(observed longpush loss)"

# the daemon still serves
ls "$MNT" >/dev/null || fail "the mount stopped answering"

# ---- where the kernel refuses namespaces: TensorFlowEvent trials take
# turns on the shared directory, and each reads only its own files ----
unmount_fs || fail "unmount"
KATIBFS_TEST_NO_NAMESPACES=1 mount_fs
cat >"$TMP/tf_same.py" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from tfevent_writer import Writer
w = Writer(sys.argv[2] + "/events.out.tfevents.same")  # the same name each time
w.scalar("accuracy", 0.25, step=1)
w.scalar("accuracy", 0.5, step=2)
PY
printf '  metricsCollectorSpec:\n    collector:\n      kind: TensorFlowEvent\n    source:\n      fileSystemPath:\n        path: %s/shared-tf/\n        kind: Directory\n' \
	"$TMP" >"$TMP/tfshared.yaml"
mkdir "$MNT/tfshared" || fail "mkdir tfshared"
with_collector accuracy maximize "python3 $TMP/tf_same.py $HERE $TMP/shared-tf" "$TMP/tfshared.yaml" |
	sed 's/maxTrialCount: 1/maxTrialCount: 2/; s/parallelTrialCount: 1/parallelTrialCount: 2/' \
		>"$MNT/tfshared/spec.yaml" || fail "spec refused"
wait_state tfshared Succeeded 60
for t in 1 2; do
	got=$(awk -F, '$2 == "accuracy" { print $3 }' "$MNT/tfshared/trials/$t/observations" | sort | tr '\n' ' ')
	[ "$got" = "0.25 0.5 " ] || fail "tfshared trial $t observed $got"
	[ -s "$STATE/experiments/tfshared/$t/collector/events.out.tfevents.same" ] ||
		fail "trial $t's event file was not moved to its collector/"
done
[ -z "$(ls -A "$TMP/shared-tf")" ] || fail "left in the shared directory: $(ls -A "$TMP/shared-tf")"
exit 0
