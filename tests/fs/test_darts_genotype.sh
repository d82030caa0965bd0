#!/bin/sh
# DARTS's text objective: trials report Best-Genotype=Genotype(...) (Katib's
# darts example's metricsFormat); the latest trial with a text value is the
# optimal one, in status, status.json (currentOptimalTrial) and best, with
# the whole genotype (several hundred bytes).
. "$(dirname "$0")/lib.sh"
mount_fs

mkdir "$MNT/dg" || fail "mkdir"
# The trial prints a whole genotype; Katib joins the arguments onto the
# program's line, after its comment.
GENOTYPE="Genotype(normal=[[('max_pooling_3x3', 0), ('max_pooling_3x3', 1)], [('max_pooling_3x3', 0), ('max_pooling_3x3', 1)], [('max_pooling_3x3', 1), ('max_pooling_3x3', 2)], [('max_pooling_3x3', 2), ('max_pooling_3x3', 3)]], normal_concat=range(2, 6), reduce=[[('max_pooling_3x3', 0), ('max_pooling_3x3', 1)], [('max_pooling_3x3', 1), ('max_pooling_3x3', 2)], [('max_pooling_3x3', 2), ('max_pooling_3x3', 3)], [('max_pooling_3x3', 3), ('max_pooling_3x3', 4)]], reduce_concat=range(2, 6), pid=\$\$)"
spec_yaml "echo \"Best-Genotype=$GENOTYPE\" #" 2 1 |
	yaml_edit '    type: minimize
    objectiveMetricName: loss' '    type: maximize
    objectiveMetricName: Best-Genotype' \
	'    algorithmName: random' '    algorithmName: darts
    algorithmSettings:
      - name: num_epochs
        value: "1"' \
	'  maxFailedTrialCount: 2' '  maxFailedTrialCount: 1' \
	'      kind: StdOut' '      kind: StdOut
    source:
      filter:
        metricsFormat:
          - "([\\w-]+)=(Genotype.*)"' \
	"$SPEC_PARAMETERS" '  nasConfig:
    graphConfig:
      numLayers: 1
      inputSizes: [32, 32, 3]
      outputSizes: [10]
    operations:
      - operationType: max_pooling
        parameters:
          - name: filter_size
            parameterType: categorical
            feasibleSpace:
              list: ["3"]' \
	"$SPEC_TRIAL_PARAMETERS" '    trialParameters:
      - name: algorithmSettings
        reference: algorithm-settings
      - name: searchSpace
        reference: search-space
      - name: numberLayers
        reference: num-layers' \
	'                  - |' '                  - |-' \
	"                    echo \"Best-Genotype=$GENOTYPE\" #" "                    echo \"Best-Genotype=$GENOTYPE\" #
                  - \${trialParameters.algorithmSettings}
                  - \${trialParameters.searchSpace}
                  - \${trialParameters.numberLayers}" >"$TMP/dg.yaml" ||
	fail "darts spec"
cp "$TMP/dg.yaml" "$MNT/dg/spec.yaml" || fail "writing the darts spec failed"
wait_state dg Succeeded 60
[ "$(status_value dg succeeded)" = 2 ] || fail "status: $(cat "$MNT/dg/status")"
[ "$(status_value dg best_trial)" = 2 ] || fail "best_trial: $(cat "$MNT/dg/status")"
g2=$(sed -n 's/^Best-Genotype=//p' "$MNT/dg/trials/2/log")
case "$g2" in Genotype\(normal=*pid=*\)) ;; *) fail "trial 2 log: $(cat "$MNT/dg/trials/2/log")" ;; esac
# a real genotype is long: kept whole, not cut
[ ${#g2} -gt 400 ] || fail "the test's genotype is only ${#g2} bytes"
# status is sh-quoted (it can be sourced)
eval "$(grep '^best_objective=' "$MNT/dg/status")"
[ "$best_objective" = "$g2" ] ||
	fail "best_objective is not trial 2's genotype: $(cat "$MNT/dg/status")"
grep -qx "trial=2" "$MNT/dg/best" || fail "best: $(cat "$MNT/dg/best")"
python3 - "$MNT/dg/status.json" "$g2" "$(sed -n 's/^name=//p' "$MNT/dg/trials/2/status")" <<'PY' ||
import json, sys
s = json.load(open(sys.argv[1]))
o = s["currentOptimalTrial"]
assert o is not None and o["trial"] == 2, o
assert sys.argv[3].startswith("dg-") and o["bestTrialName"] == sys.argv[3], o
m = {x["name"]: x for x in o["observation"]["metrics"]}
assert m["Best-Genotype"]["latest"] == sys.argv[2], m
PY
	fail "status.json: $(cat "$MNT/dg/status.json")"
exit 0
