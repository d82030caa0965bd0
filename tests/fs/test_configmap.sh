#!/bin/sh
# trialTemplate.configMap on the local backend (Katib's
# trial-configmap-source): the ConfigMap is a manifest in --configmaps DIR.
#   - without --configmaps the spec is refused (EINVAL) and events says to
#     pass it or inline the template;
#   - with it the experiment runs to Succeeded from the template read,
#     trials/N/spec runs that template, spec.yaml keeps the configMap;
#   - a missing ConfigMap, key, or a template that is not YAML: EINVAL
#     naming the field; the files are read on each write;
#   - katibfs check --configmaps checks the template; the option's errors.
. "$(dirname "$0")/lib.sh"

CMS=$TMP/configmaps
mkdir -p "$CMS"
# the trial prints its parameters, then a loss from them
cat >"$CMS/trial-templates.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: kubeflow
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: trial-templates
  namespace: kubeflow
  labels:
    katib.kubeflow.org/component: trial-templates
data:
  defaultTrialTemplate.yaml: |-
    apiVersion: batch/v1
    kind: Job
    spec:
      template:
        spec:
          containers:
            - name: training-container
              image: docker.io/kubeflowkatib/pytorch-mnist-cpu:latest
              command:
                - "sh"
                - "-c"
                - "echo from-configmap lr=${trialParameters.learningRate}; echo loss=${trialParameters.learningRate}"
          restartPolicy: Never
  broken.yaml: "kind: [Job"
EOF
# a second file: a ConfigMap without a namespace is in the experiment's
cat >"$CMS/more.yml" <<'EOF'
kind: ConfigMap
apiVersion: v1
metadata:
  name: second
data:
  job.yaml: |
    apiVersion: batch/v1
    kind: Job
    spec:
      template:
        spec:
          containers:
            - name: training-container
              command: [sh, -c, "echo second; echo loss=${trialParameters.learningRate}"]
EOF
echo 'kind: ConfigMap, not: [a manifest' >"$CMS/notes.txt"

# exp_yaml NAME KEY: Katib's example experiment (cut to one parameter)
exp_yaml() {
	cat <<EOF
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  namespace: kubeflow
  name: trial-configmap-source
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parallelTrialCount: 2
  maxTrialCount: 3
  maxFailedTrialCount: 1
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.01"
        max: "0.05"
  trialTemplate:
    primaryContainerName: training-container
    successCondition: status.conditions.#(type=="Complete")#|#(status=="True")#
    failureCondition: status.conditions.#(type=="Failed")#|#(status=="True")#
    configMap:
      configMapName: $1
      configMapNamespace: kubeflow
      templatePath: $2
    trialParameters:
      - name: learningRate
        description: Learning rate for the training model
        reference: lr
EOF
}
exp_yaml trial-templates defaultTrialTemplate.yaml >"$TMP/exp.yaml"

# refused: EINVAL on close, the field and the remedy in events
refused() { # EXP WHAT FIELD TEXT
	mkdir "$MNT/$1" || fail "mkdir $1"
	expect_fail "$1" "Invalid argument" sh -c "cat '$TMP/$1.yaml' > '$MNT/$1/spec.yaml'"
	grep -q "rejected spec.yaml: $3: .*$4" "$MNT/$1/events" ||
		fail "$1 ($2): events does not say '$3: ... $4': $(cat "$MNT/$1/events")"
	state_is "$1" Invalid || fail "$1: $(cat "$MNT/$1/status")"
	[ "$(status_value "$1" trials)" = 0 ] || fail "$1: trials made"
}

# ---- no --configmaps: say what to do
mount_fs
cp "$TMP/exp.yaml" "$TMP/nocms.yaml"
refused nocms "no --configmaps" spec.trialTemplate.configMap.configMapName \
	"pass --configmaps DIR"
grep -q "inline the template as spec.trialTemplate.trialSpec" "$MNT/nocms/events" ||
	fail "no inline hint: $(cat "$MNT/nocms/events")"
unmount_fs || fail "unmount"

# ---- with it: runs from the template read
mount_fs --configmaps "$CMS"
mkdir "$MNT/cm" || fail "mkdir cm"
cp "$TMP/exp.yaml" "$MNT/cm/spec.yaml" || fail "spec refused: $(tail -n 2 "$MNT/cm/events")"
wait_state cm Succeeded 60
[ "$(status_value cm succeeded)" = 3 ] || fail "cm: $(cat "$MNT/cm/status")"
for t in 1 2 3; do
	lr=$(sed -n 's/^lr=//p' "$MNT/cm/trials/$t/params")
	grep -qx "from-configmap lr=$lr" "$MNT/cm/trials/$t/log" ||
		fail "trial $t log: $(cat "$MNT/cm/trials/$t/log")"
	grep -q "echo from-configmap lr=$lr; echo loss=$lr" "$MNT/cm/trials/$t/spec" ||
		fail "trial $t spec: $(cat "$MNT/cm/trials/$t/spec")"
done
(cd / && sh "$MNT/cm/trials/1/spec") >"$TMP/again" 2>&1
cmp -s "$TMP/again" "$MNT/cm/trials/1/log" || fail "sh trials/1/spec: $(cat "$TMP/again")"
grep -q 'configMapName: trial-templates' "$MNT/cm/spec.yaml" || fail "spec.yaml: $(cat "$MNT/cm/spec.yaml")"
! grep -q 'trialSpec' "$MNT/cm/spec.yaml" || fail "spec.yaml shows a trialSpec"

# no namespace in the manifest: the experiment's (kubeflow here)
exp_yaml second job.yaml >"$TMP/x.yaml"
mkdir "$MNT/second" && cp "$TMP/x.yaml" "$MNT/second/spec.yaml" ||
	fail "second: $(tail -n 2 "$MNT/second/events")"
wait_state second Succeeded 60
grep -qx second "$MNT/second/trials/1/log" || fail "second: $(cat "$MNT/second/trials/1/log")"

# the spec's errors
exp_yaml no-such-map defaultTrialTemplate.yaml >"$TMP/nomap.yaml"
refused nomap "no ConfigMap" spec.trialTemplate.configMap.configMapName \
	"no ConfigMap no-such-map in namespace kubeflow"
exp_yaml trial-templates missing.yaml >"$TMP/nokey.yaml"
refused nokey "no key" spec.trialTemplate.configMap.templatePath \
	'has no key "missing.yaml" in its data (it has: defaultTrialTemplate.yaml, broken.yaml)'
exp_yaml trial-templates broken.yaml >"$TMP/broken.yaml"
refused broken "not YAML" spec.trialTemplate.configMap.templatePath \
	"data\[broken.yaml\] of ConfigMap kubeflow/trial-templates .*is not a YAML trial object"

# read on each write: a fixed manifest is taken at the next write
sed -i 's/  broken.yaml: .*/  missing.yaml: |\
    apiVersion: batch\/v1\
    kind: Job\
    spec:\
      template:\
        spec:\
          containers:\
            - name: training-container\
              command: [sh, -c, "echo fixed; echo loss=${trialParameters.learningRate}"]/' \
	"$CMS/trial-templates.yaml"
cp "$TMP/nokey.yaml" "$MNT/nokey/spec.yaml" || fail "fixed: $(tail -n 2 "$MNT/nokey/events")"
wait_state nokey Succeeded 60
grep -qx fixed "$MNT/nokey/trials/1/log" || fail "fixed: $(cat "$MNT/nokey/trials/1/log")"
unmount_fs || fail "unmount"

# ---- katibfs check
"$KATIBFS" check --configmaps "$CMS" "$TMP/exp.yaml" >"$TMP/out" 2>"$TMP/err" ||
	fail "check: $(cat "$TMP/err")"
grep -q 'configMapName: trial-templates' "$TMP/out" || fail "check output: $(cat "$TMP/out")"
[ ! -s "$TMP/err" ] || fail "check stderr: $(cat "$TMP/err")"
"$KATIBFS" check "$TMP/exp.yaml" >/dev/null 2>"$TMP/err" || fail "check without DIR: $(cat "$TMP/err")"
grep -q "was not checked; pass --configmaps DIR" "$TMP/err" || fail "check warning: $(cat "$TMP/err")"
expect_fail "check missing CM" "no ConfigMap no-such-map" \
	"$KATIBFS" check --configmaps="$CMS" "$TMP/nomap.yaml"
# the option's own errors
expect_fail "--configmaps on kubernetes" "is for the local backend" \
	"$KATIBFS" -f --backend kubernetes --configmaps "$CMS" "$MNT"
expect_fail "--configmaps missing" "No such file or directory" \
	"$KATIBFS" -f --configmaps "$TMP/none" "$MNT"
exit 0
