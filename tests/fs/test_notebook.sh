#!/bin/sh
# examples/notebook.ipynb executed by `jupyter nbconvert --execute` against
# a real mount (KATIBFS_MOUNT): it creates an experiment from a Python
# string, watches, pauses and resumes it, reads trials.csv with pandas,
# plots with matplotlib and shows plot.svg. Skipped (77) only when Jupyter,
# pandas or matplotlib are missing and cannot be installed.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NB=$ROOT/examples/notebook.ipynb
# Debian's jupyter and kernel run /usr/bin/python3, whatever python3 is first
# on PATH.
PY=/usr/bin/python3

have_tools() {
	command -v jupyter-nbconvert >/dev/null 2>&1 &&
		"$PY" -c 'import pandas, matplotlib, ipykernel, nbconvert' 2>/dev/null
}

if ! have_tools && [ "$(id -u)" -eq 0 ]; then
	sh "$ROOT/scripts/deps.sh" notebook >"$TMP/deps.log" 2>&1
fi
if ! have_tools; then
	echo "skip: needs jupyter-nbconvert python3-ipykernel python3-pandas python3-matplotlib (sh scripts/deps.sh notebook as root)"
	exit 77
fi

# The notebook talks to the mount through files only.
if grep -Eq '(import|from) +katib' "$NB"; then
	fail "the notebook imports something of ours"
fi

mount_fs
export KATIBFS_MOUNT="$MNT"
export JUPYTER_RUNTIME_DIR="$TMP/jupyter-runtime"
export JUPYTER_DATA_DIR="$TMP/jupyter-data"
export IPYTHONDIR="$TMP/ipython"
export MPLCONFIGDIR="$TMP/matplotlib"
PATH=/usr/bin:/bin:$PATH timeout 200 jupyter nbconvert --to notebook \
	--execute --ExecutePreprocessor.timeout=150 \
	--output-dir "$TMP" --output executed "$NB" >"$TMP/nbconvert.log" 2>&1 ||
	fail "notebook failed: $(tail -n 40 "$TMP/nbconvert.log")"

# Every cell ran; the matplotlib figure and plot.svg are in the outputs.
"$PY" - "$TMP/executed.ipynb" <<'EOF' || fail "executed notebook"
import json
import sys

nb = json.load(open(sys.argv[1]))
code = [c for c in nb["cells"] if c["cell_type"] == "code"]
assert all(c.get("execution_count") for c in code), "a cell did not run"
outputs = [o for c in code for o in c.get("outputs", [])]
assert not [o for o in outputs if o["output_type"] == "error"]
kinds = set(k for o in outputs for k in o.get("data", {}))
assert "image/png" in kinds, "no matplotlib figure: %s" % kinds
assert "image/svg+xml" in kinds, "no plot.svg shown: %s" % kinds
svg = [o["data"]["image/svg+xml"] for o in outputs
       if "image/svg+xml" in o.get("data", {})][0]
svg = "".join(svg) if isinstance(svg, list) else svg
assert "loss per trial (minimize)" in svg, svg[:500]
print("notebook: %d code cells ran" % len(code))
EOF
grep -q '^state=Succeeded$' "$MNT/notebook/status" ||
	fail "experiment: $(cat "$MNT/notebook/status")"
grep -q 'PausedByUser\|pause' "$MNT/notebook/events" ||
	fail "no pause in events: $(cat "$MNT/notebook/events")"
exit 0
