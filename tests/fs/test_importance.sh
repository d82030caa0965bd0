#!/bin/sh
# importance through the filesystem: listed, read-only, "# not enough
# trials yet" before any trial, then the ranking of y = 10 x + 3 [opt = b]
# + 0 lr (lr log-scaled) once the trials have run: x, opt, lr, scores
# summing to 1; plot.svg's bars in that order; the same file after a
# remount (recomputed, fixed seed).
. "$(dirname "$0")/lib.sh"
mount_fs

mkdir "$MNT/imp" || fail "mkdir"
ls "$MNT/imp" | grep -qx importance || fail "importance not listed: $(ls "$MNT/imp")"
[ "$(cat "$MNT/imp/importance")" = "# not enough trials yet" ] ||
	fail "before any trial: $(cat "$MNT/imp/importance")"
expect_fail "write importance" "Permission denied" sh -c "echo x=1 >'$MNT/imp/importance'"

{
	cat <<'END_OF_SPEC'
objective:
  type: minimize
  objectiveMetricName: loss
algorithm:
  algorithmName: random
  algorithmSettings:
    - {name: random_state, value: "7"}
parallelTrialCount: 4
maxTrialCount: 40
maxFailedTrialCount: 3
parameters:
  - name: x
    parameterType: double
    feasibleSpace: {min: "0", max: "1"}
  - name: lr
    parameterType: double
    feasibleSpace: {min: "0.0001", max: "1", distribution: logUniform}
  - name: opt
    parameterType: categorical
    feasibleSpace: {list: [a, b, c]}
trialTemplate:
  primaryContainerName: main
  trialParameters:
    - {name: x, reference: x}
    - {name: lr, reference: lr}
    - {name: opt, reference: opt}
END_OF_SPEC
	trial_job main busybox "  "
	cat <<'END_OF_SPEC'
              command:
                - sh
                - -c
                - |
                  awk -v x=${trialParameters.x} -v o=${trialParameters.opt} -v lr=${trialParameters.lr} 'BEGIN { printf "loss=%.6f\n", 10 * x + (o == "b" ? 3 : 0) + 0 * lr }'
END_OF_SPEC
} >"$MNT/imp/spec.yaml" || fail "spec"
wait_state imp Succeeded 120
[ "$(status_value imp succeeded)" = 40 ] || fail "not all trials succeeded: $(cat "$MNT/imp/status")"

# Recomputed by the controller as trials finish: wait for the ranking of
# all 40 (the order is known by construction).
wait_until 30 "[ \"\$(cut -d= -f1 '$MNT/imp/importance' | tr '\n' ' ')\" = 'x opt lr ' ]" || fail "importance: $(cat "$MNT/imp/importance")"
awk -F= '{ s += $2 } END { exit !(s > 0.999 && s < 1.001) }' "$MNT/imp/importance" ||
	fail "scores do not sum to 1: $(cat "$MNT/imp/importance")"
awk -F= '$1 == "x" { exit !($2 > 0.5) } ' "$MNT/imp/importance" ||
	fail "x should explain most: $(cat "$MNT/imp/importance")"
# the file stays put once every trial is counted
wait_until 30 "cp '$MNT/imp/importance' '$TMP/before' && sleep 1 && cmp -s '$TMP/before' '$MNT/imp/importance'" ||
	fail "importance keeps changing"

# plot.svg draws the ranking: one bar per parameter, in the file's order,
# and stays well-formed XML
python3 - "$MNT/imp/plot.svg" <<'END_OF_PY' || fail "plot.svg importance panel"
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
ns = "{http://www.w3.org/2000/svg}"
bars = [r for r in root.iter(ns + "rect") if r.get("class") == "importance-bar"]
assert len(bars) == 3, len(bars)
widths = [float(r.get("width")) for r in bars]
assert widths == sorted(widths, reverse=True) and widths[0] > widths[1], widths
texts = [t.text or "" for t in root.iter(ns + "text")]
assert any("Parameter importance" in t for t in texts), texts
names = [t for t in texts if t in ("x", "opt", "lr")]
assert names[-3:] == ["x", "opt", "lr"], names  # the panel comes last
END_OF_PY

[ -n "${KEEP_SVG:-}" ] && cp "$MNT/imp/plot.svg" "$KEEP_SVG"
unmount_fs || fail "unmount"
mount_fs
wait_until 30 "cmp -s '$TMP/before' '$MNT/imp/importance'" ||
	fail "importance after remount: $(cat "$MNT/imp/importance"), before: $(cat "$TMP/before")"
exit 0
