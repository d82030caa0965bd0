#!/bin/sh
# Devices per trial and KATIB_TRIAL_SLOT (local backend): every running
# trial gets its own devices in CUDA_VISIBLE_DEVICES and a slot of its own;
# the devices cap how many run at once (with an events line); a daemon
# killed and mounted again never hands out the devices or slot of a trial it
# re-adopted; bad annotations are EINVAL naming the field.
#
# Overlap is checked without timing: each trial mkdir's a marker per slot
# and per device while it runs (mkdir fails if another trial holds it) and
# records the most trials it saw running at once.
. "$(dirname "$0")/lib.sh"
R=$TMP/rec
mkdir -p "$R"

# PROG: the trial. Waits up to 3 s for a peer so that trials overlap, or
# (with a second argument) until the test creates $R/gate-<trial name>.
prog() {
	# continuation lines indented for spec_yaml's `|` block
	prog_text "$@" | sed '2,$s/^/                    /'
}
prog_text() {
	cat <<END
R=$R; s=\$KATIB_TRIAL_SLOT; echo "lr=\${trialParameters.lr} slot=\$s devices=\$CUDA_VISIBLE_DEVICES"
[ -n "\$s" ] || echo "no slot" >>\$R/conflicts
mkdir \$R/slot-$1-\$s 2>/dev/null || echo "slot \$s twice" >>\$R/conflicts
for d in \$(echo "\$CUDA_VISIBLE_DEVICES" | tr , ' '); do mkdir \$R/dev-\$d 2>/dev/null || echo "device \$d twice" >>\$R/conflicts; done
echo "\$KATIB_TRIAL_NAME \$s \$CUDA_VISIBLE_DEVICES" >>\$R/seen-$1
i=0; while [ \$(ls -d \$R/slot-$1-* | wc -l) -lt 2 ] && [ \$i -lt 30 ]; do sleep 0.1; i=\$((i+1)); done
ls -d \$R/slot-$1-* | wc -l >>\$R/conc-$1
if [ -n "${2:-}" ]; then i=0; while [ ! -e \$R/gate-\$KATIB_TRIAL_NAME ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done; fi
for d in \$(echo "\$CUDA_VISIBLE_DEVICES" | tr , ' '); do rmdir \$R/dev-\$d; done
rmdir \$R/slot-$1-\$s
echo loss=\${trialParameters.lr}
END
}

# with_annotations EXP ANNOTATIONS... : spec_yaml with metadata.annotations
with_annotations() {
	_prog=$1
	_max=$2
	_par=$3
	shift 3
	_ann=$(printf '%s;' "$@")
	spec_yaml "$_prog" "$_max" "$_par" | awk -v ann="${_ann%;}" '
		{ print }
		/^  namespace: / && ann != "" {
			print "  annotations:"
			n = split(ann, a, ";")
			for (i = 1; i <= n; i++) print "    " a[i]
		}'
}

BADPROG='echo loss=${trialParameters.lr} ${trialParameters.layers}'
# ---- bad annotations: EINVAL at spec time, naming the field ----
bad() {
	bad2 "$1" "" "$2"
}
bad2() {
	if [ -n "${2:-}" ]; then
		with_annotations "$BADPROG" 4 2 "$1" "$2" >"$TMP/bad.yaml"
	else
		with_annotations "$BADPROG" 4 2 "$1" >"$TMP/bad.yaml"
	fi
	set -- "$1" "$3"
	"$KATIBFS" check "$TMP/bad.yaml" >/dev/null 2>"$TMP/bad.err" &&
		fail "check accepted $1"
	grep -q "$2" "$TMP/bad.err" || fail "check of $1: expected '$2', got: $(cat "$TMP/bad.err")"
}
bad 'katibfs/devices: "0,,1"' 'metadata.annotations\[katibfs/devices\]: must be a comma-separated list'
bad 'katibfs/devices: "0,1,0"' 'names device "0" twice'
bad2 'katibfs/devices: "0,1"' 'katibfs/devices-per-trial: "3"' 'asks 3 devices per trial, but katibfs/devices lists only 2'
bad 'katibfs/devices-per-trial: "1"' 'devices-per-trial\]: needs katibfs/devices'
bad2 'katibfs/devices: "0"' 'katibfs/devices-per-trial: "one"' 'must be a whole number of devices'
bad 'katibfs/device: "0"' 'did you mean katibfs/devices?'

mount_fs

# ---- 4 devices, 2 per trial, parallelTrialCount 3: 2 at a time ----
E=$MNT/gpus
mkdir "$E" || fail "mkdir gpus"
with_annotations "$(prog gpus) \${trialParameters.layers}" 6 3 \
	'katibfs/devices: "0,1,2,3"' 'katibfs/devices-per-trial: "2"' >"$E/spec.yaml" ||
	fail "spec with devices refused: $(tail -3 "$E/events")"
wait_state gpus Succeeded 120
[ ! -s "$R/conflicts" ] || fail "trials shared a slot or device: $(cat "$R/conflicts")"
[ "$(status_value gpus succeeded)" = 6 ] || fail "not 6 succeeded: $(cat "$E/status")"
[ "$(sort -n "$R/conc-gpus" | tail -1)" = 2 ] ||
	fail "expected 2 trials at once at most and at least once: $(tr '\n' ' ' <"$R/conc-gpus")"
grep -q 'at most 2 trials at once, not parallelTrialCount 3: 4 devices (katibfs/devices), 2 per trial' "$E/events" ||
	fail "events does not say the devices cap parallelism: $(cat "$E/events")"
# every trial had 2 devices and a slot in 0..1
awk 'NF != 3 || ($2 != 0 && $2 != 1) || split($3, d, ",") != 2 { bad = 1; print }
	END { exit bad }' "$R/seen-gpus" || fail "bad slot or devices: $(cat "$R/seen-gpus")"
# trials/N/spec shows what the trial got
grep -q "^export KATIB_TRIAL_SLOT='[01]'" "$E/trials/1/spec" || fail "spec lacks KATIB_TRIAL_SLOT: $(cat "$E/trials/1/spec")"
grep -q "^export CUDA_VISIBLE_DEVICES='[0-3],[0-3]'" "$E/trials/1/spec" || fail "spec lacks CUDA_VISIBLE_DEVICES: $(cat "$E/trials/1/spec")"

# ---- no devices: KATIB_TRIAL_SLOT alone, unique among running trials ----
E=$MNT/slots
mkdir "$E" || fail "mkdir slots"
spec_yaml "$(prog slots) \${trialParameters.layers}" 4 2 >"$E/spec.yaml" || fail "spec slots"
wait_state slots Succeeded 120
[ ! -s "$R/conflicts" ] || fail "trials shared a slot: $(cat "$R/conflicts")"
awk 'NF != 2 || ($2 != 0 && $2 != 1) { bad = 1; print } END { exit bad }' "$R/seen-slots" ||
	fail "bad slot without devices: $(cat "$R/seen-slots")"
grep -q "^export CUDA_VISIBLE_DEVICES" "$E/trials/1/spec" && fail "CUDA_VISIBLE_DEVICES set without the annotation"

# ---- a restart: re-adopted trials keep their devices and slots ----
E=$MNT/again
mkdir "$E" || fail "mkdir again"
with_annotations "$(prog again gate) \${trialParameters.layers}" 3 2 \
	'katibfs/devices: "a,b"' >"$E/spec.yaml" || fail "spec again"
wait_trial_state again 1 Running 20
wait_trial_state again 2 Running 20
kill -9 "$PID"
wait "$PID" 2>/dev/null
PID=
timeout 10 fusermount3 -u -z "$MNT" 2>/dev/null
mount_fs
wait_trial_state again 1 Running 20
# trial 2 (the second slot and device) ends first; trial 3 must get its
# slot and device, not those of trial 1, which still runs
t2=$(sed -n 's/^name=//p' "$E/trials/2/status")
touch "$R/gate-$t2"
wait_trial_state again 2 Succeeded 30
wait_trial_state again 3 Running 30
[ ! -s "$R/conflicts" ] || fail "after a restart a device or slot was given twice: $(cat "$R/conflicts")"
# Running comes before the process: wait for trial 3's own line, or its
# gate is never opened
wait_until 30 "[ \$(wc -l <'$R/seen-again') -ge 3 ]" ||
	fail "trial 3 did not run: $(cat "$R/seen-again")"
for t in $(awk '{ print $1 }' "$R/seen-again"); do touch "$R/gate-$t"; done
wait_state again Succeeded 60
[ ! -s "$R/conflicts" ] || fail "after a restart a device or slot was given twice: $(cat "$R/conflicts")"
[ "$(wc -l <"$R/seen-again")" = 3 ] || fail "not 3 trials: $(cat "$R/seen-again")"
echo "ok"
