#!/bin/sh
# Katib's verdicts on a mounted katibfs (issue 12): a setting Katib's cmaes
# service ignores is a warning (in `events` and on `katibfs check`'s
# stderr) and the experiment runs; a batch/v1 Job trialSpec with a field
# the Job has not is refused naming its path; the primary container runs
# as Katib's pod webhook leaves it, one sh -c line, so Katib's NAS argument
# form --architecture="${trialParameters.x}" reaches the program without
# its quotes (Katib's ENAS/DARTS trial code json.loads it).
. "$(dirname "$0")/lib.sh"

algo_spec_with cmaes "$QUICK" 2 1 '      - {name: popsize, value: "10"}\
      - {name: random_state, value: "-3"}' >"$TMP/warn.yaml"

"$KATIBFS" check "$TMP/warn.yaml" >"$TMP/out" 2>"$TMP/err" ||
	fail "katibfs check refused it: $(cat "$TMP/err")"
grep -q "^katibfs: check: warning: spec.algorithm.algorithmSettings\[popsize\]: unknown setting for algorithm 'cmaes', ignored" "$TMP/err" ||
	fail "no warning on stderr: $(cat "$TMP/err")"
grep -q "(line [0-9]*)" "$TMP/err" || fail "the warning has no line: $(cat "$TMP/err")"
grep -q 'algorithmName: cmaes' "$TMP/out" || fail "no normalized spec: $(cat "$TMP/out")"

mount_fs
mkdir "$MNT/warn" || fail "mkdir warn"
cp "$TMP/warn.yaml" "$MNT/warn/spec.yaml" ||
	fail "spec refused: $(cat "$MNT/warn/events")"
grep -q "warning: spec.algorithm.algorithmSettings\[popsize\]: unknown setting" "$MNT/warn/events" ||
	fail "no warning in events: $(cat "$MNT/warn/events")"
wait_state warn Succeeded 60

# a misspelt container field of a Job: EINVAL, its path and a suggestion
mkdir "$MNT/typo" || fail "mkdir typo"
spec_yaml "$QUICK" 2 1 |
	sed 's/^\(  *\)image: \(.*\)$/\1image: \2\n\1imagePullPolicyy: Always/' >"$TMP/typo.yaml"
grep -q imagePullPolicyy "$TMP/typo.yaml" || fail "sed did not add the field"
expect_fail "a misspelt Job field" "Invalid argument" \
	sh -c "cat '$TMP/typo.yaml' > '$MNT/typo/spec.yaml'"
grep -q "spec.trialTemplate.trialSpec.spec.template.spec.containers\[0\].imagePullPolicyy: unknown field of a Container .*did you mean imagePullPolicy?" "$MNT/typo/events" ||
	fail "events: $(cat "$MNT/typo/events")"
grep -q "^error='spec.trialTemplate.trialSpec.spec.template.spec.containers\[0\].imagePullPolicyy" "$MNT/typo/status" ||
	fail "status: $(cat "$MNT/typo/status")"

# Katib's NAS argument form on the local backend
cat >"$TMP/run_trial.py" <<'END'
import argparse, json
p = argparse.ArgumentParser()
p.add_argument("--architecture")
p.add_argument("--nn_config")
a = p.parse_args()
print("architecture=%r" % a.architecture)
arch = json.loads(a.architecture.replace("'", '"'))
cfg = json.loads(a.nn_config.replace("'", '"'))
assert isinstance(arch, list) and isinstance(cfg, dict), (arch, cfg)
print("accuracy=%d" % (len(arch) + cfg["num_layers"]))
END
cat >"$TMP/nas.yaml" <<END
objective: {type: maximize, objectiveMetricName: accuracy}
algorithm: {algorithmName: random}
maxTrialCount: 1
parallelTrialCount: 1
parameters:
  - name: arch
    parameterType: categorical
    feasibleSpace: {list: ["[[0], [0, 1]]"]}
  - name: cfg
    parameterType: categorical
    feasibleSpace: {list: ["{'num_layers': 2}"]}
trialTemplate:
  primaryContainerName: training-container
  trialParameters:
    - {name: architecture, reference: arch}
    - {name: config, reference: cfg}
$(trial_job training-container docker.io/kubeflowkatib/enas-cnn-cifar10-cpu "  ")
              command:
                - python3
                - $TMP/run_trial.py
                - --architecture="\${trialParameters.architecture}"
                - --nn_config="\${trialParameters.config}"
END
mkdir "$MNT/nas" || fail "mkdir nas"
cp "$TMP/nas.yaml" "$MNT/nas/spec.yaml" || fail "nas spec: $(cat "$MNT/nas/events")"
wait_state nas Succeeded 60
grep -qx "architecture='\[\[0\], \[0, 1\]\]'" "$MNT/nas/trials/1/log" ||
	fail "the program got the quotes: $(cat "$MNT/nas/trials/1/log")"
grep -qx "accuracy=4" "$MNT/nas/trials/1/metrics" ||
	fail "metrics: $(cat "$MNT/nas/trials/1/metrics")"
grep -q "^exec 'sh' '-c' 'python3 $TMP/run_trial.py --architecture=\"\[\[0\], \[0, 1\]\]\" --nn_config=" "$MNT/nas/trials/1/spec" ||
	fail "trials/1/spec does not show the sh -c line: $(cat "$MNT/nas/trials/1/spec")"
exit 0
