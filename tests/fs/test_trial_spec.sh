#!/bin/sh
# trials/N/spec on the local backend is a sh script that runs the trial
# again: `sh spec` gives the same output as the trial's log. The trial runs
# as Katib's pod webhook leaves it: command and args joined into one
# `sh -c` line, so the arguments are shell words (quotes, a quoted newline,
# an empty one, a $(...) kept from the shell by single quotes); a
# multi-line program comes through the env, with the container's other
# env (one name that is not a sh name), its workingDir, and the variables
# katibfs adds (KATIB_TRIAL_NAME, ...).
. "$(dirname "$0")/lib.sh"

mkdir "$TMP/work" || fail "mkdir work"
cat >"$TMP/spec.yaml" <<END
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: respec
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  parallelTrialCount: 1
  maxTrialCount: 1
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace: {min: "0.01", max: "0.1"}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - name: lr
        reference: lr
$(trial_job main python:3.11-slim)
                workingDir: $TMP/work
                env:
                  - name: GREETING
                    value: "it's \"quoted\"\\nand two lines \$HOME"
                  - name: my.dotted
                    value: "dot ok"
                  - name: PROGRAM
                    value: |
                      # a comment line: the program must not become one
                      import os, sys
                      print("argv=%r" % (sys.argv[1:],))
                      print("cwd=%s" % os.getcwd())
                      for k in ("GREETING", "my.dotted", "KATIB_TRIAL_NAME",
                                "KATIB_TRIAL_DIR", "PYTHONUNBUFFERED"):
                          print("%s=%r" % (k, os.environ.get(k)))
                      print("loss=%s" % sys.argv[1])
                command:
                  - python3
                  - -c
                  - '"\$PROGRAM"'
                  - "\${trialParameters.lr}"
                  - "\"it's a 'quoted' arg\""
                  - "'line one\nline two'"
                  - "''"
                  - "'\$(echo not run) \`echo nor this\` *'"
END
mount_fs
mkdir "$MNT/respec" || fail "mkdir"
cp "$TMP/spec.yaml" "$MNT/respec/spec.yaml" || fail "spec: $(cat "$MNT/respec/events")"
wait_state respec Succeeded 60
spec=$MNT/respec/trials/1/spec
log=$MNT/respec/trials/1/log

head -n 1 "$spec" | grep -qx '#!/bin/sh' || fail "spec has no #!/bin/sh: $(cat "$spec")"
grep -q '^# katibfs: experiment respec, trial 1 (respec-' "$spec" ||
	fail "spec does not name the experiment and trial: $(cat "$spec")"
grep -q "^exec " "$spec" || fail "spec has no exec line: $(cat "$spec")"
grep -q "^export KATIB_TRIAL_NAME='respec-" "$spec" || fail "no KATIB_TRIAL_NAME export: $(cat "$spec")"
grep -q "^import os, sys\$" "$spec" ||
	fail "the program's newlines were not kept: $(cat "$spec")"
grep -q "^exec env 'my.dotted=dot ok' 'sh' '-c' 'python3 -c \"\$PROGRAM\" 0\.[0-9]* \"it" "$spec" ||
	fail "spec does not run Katib's sh -c line: $(cat "$spec")"
grep -q "^loss=0\.0" "$log" || fail "trial log: $(cat "$log")"
grep -q "line two" "$log" || fail "trial log lacks the multi-line argument: $(cat "$log")"
grep -q "^argv=\['0\.0[0-9]*', \"it's a 'quoted' arg\", 'line one\\\\nline two', '', '\$(echo not run) \`echo nor this\` \*'\]\$" "$log" ||
	fail "the shell did not split the words as Katib's sh -c does: $(cat "$log")"

# Run it again by hand, from elsewhere and with a clean environment: the
# output is the trial's, byte for byte.
(cd / && env -i PATH="$PATH" HOME="$HOME" sh "$spec") >"$TMP/again" 2>&1 ||
	fail "sh spec failed: $(cat "$TMP/again")"
cmp -s "$TMP/again" "$log" ||
	fail "sh spec output differs from the log: $(diff "$log" "$TMP/again")"
exit 0
