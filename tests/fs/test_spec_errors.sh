#!/bin/sh
# Rejected specs: close() fails with EINVAL, status has error=, events says
# why; a good spec afterwards clears it. Immutable changes: EPERM. Size cap.
. "$(dirname "$0")/lib.sh"
mount_fs

E=$MNT/bad
mkdir "$E" || fail "mkdir"

# min > max: the write (taken at close) fails.
spec_yaml "$QUICK" 2 1 | sed 's/max: "0.1"/max: "0.001"/' >"$TMP/minmax.yaml"
expect_fail "min > max via cat" "Invalid argument" sh -c "cat '$TMP/minmax.yaml' > '$E/spec.yaml'"
grep -q "^error='.*feasibleSpace" "$E/status" || fail "status error=: $(cat "$E/status")"
grep -q 'feasibleSpace' "$E/events" || fail "events has no reason: $(cat "$E/events")"
# A never-started experiment may show Invalid while the rejection stands.
state_is bad Created || state_is bad Invalid || fail "a rejected spec started something: $(cat "$E/status")"
(cd "$E" && . ./status && [ -n "$error" ]) || fail "status with error= is not sourceable"

# Garbage through /bin/echo (a shell's builtin echo ignores close errors).
expect_fail "garbage via /bin/echo" "Invalid argument" sh -c "/bin/echo 'spec: [unclosed' > '$E/spec.yaml'"
expect_fail "unknown field" "Invalid argument" sh -c "printf 'spec:\n  bogusField: 1\n' | cat > '$E/spec.yaml'"
grep -q 'bogusField' "$E/events" || fail "events does not name the unknown field"

# Python sees the error at close.
python3 - "$E/spec.yaml" <<'PY' || fail "python did not get EINVAL at close"
import errno, sys
try:
    with open(sys.argv[1], "w") as f:
        f.write("spec:\n  maxTrialCount: -5\n")
except OSError as e:
    sys.exit(0 if e.errno == errno.EINVAL else 1)
sys.exit(1)
PY

# More than 1 MiB: EFBIG.
python3 -c "import sys; sys.stdout.write('#' * (1100 * 1024) + '\n')" >"$TMP/huge.yaml"
expect_fail "huge spec" "too large" sh -c "cat '$TMP/huge.yaml' > '$E/spec.yaml'"

# A good spec clears the error and starts the experiment.
spec_yaml "$(slow_program 2)" 3 1 >"$TMP/good.yaml"
cat "$TMP/good.yaml" >"$E/spec.yaml" || fail "good spec rejected"
grep -q '^error=' "$E/status" && fail "error= still there after a good spec"
wait_state bad Running 10

# Immutable field of a running experiment: EPERM; editable one: fine.
sed 's/objectiveMetricName: loss/objectiveMetricName: accuracy/' "$TMP/good.yaml" >"$TMP/immutable.yaml"
expect_fail "immutable change" "Operation not permitted" sh -c "cat '$TMP/immutable.yaml' > '$E/spec.yaml'"
sed 's/maxTrialCount: 3/maxTrialCount: 2/; s/maxFailedTrialCount: 3/maxFailedTrialCount: 2/' "$TMP/good.yaml" >"$TMP/editable.yaml"
cat "$TMP/editable.yaml" >"$E/spec.yaml" || fail "changing maxTrialCount was refused"
grep -q 'maxTrialCount: 2' "$E/spec.yaml" || fail "maxTrialCount change not read back"
wait_state bad Succeeded 30
[ "$(status_value bad trials)" = 2 ] || fail "trials after maxTrialCount=2: $(status_value bad trials)"
exit 0
