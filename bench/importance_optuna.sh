#!/bin/sh
# make bench: Optuna 3.1's FanovaImportanceEvaluator re-run live on the
# trials of tests/fixtures/gen_importance.py, and katibfs's ranking checked
# against it (build/tests/test_importance with IMPORTANCE_FIXTURE). Installs
# Debian's python3-optuna and python3-sklearn when root; skips (saying so)
# when they cannot be had.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
if ! "$py" -c 'import optuna, sklearn' 2>/dev/null; then
	if [ "$(id -u)" -eq 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends python3-optuna python3-sklearn >/dev/null
	fi
fi
if ! "$py" -c 'import optuna, sklearn' 2>/dev/null; then
	echo "importance vs optuna: skipped (python3-optuna, python3-sklearn not installed)"
	exit 0
fi
tmp=$(mktemp /tmp/katibfs-importance.XXXXXX)
trap 'rm -f "$tmp"' EXIT
"$py" "$top/tests/fixtures/gen_importance.py" "$tmp"
if cmp -s "$tmp" "$top/tests/fixtures/importance.txt"; then
	echo "importance vs optuna: live run identical to the committed fixture"
else
	echo "importance vs optuna: live run differs from the committed fixture (optuna $("$py" -c 'import optuna; print(optuna.__version__)'))"
fi
rc=0
IMPORTANCE_FIXTURE=$tmp "$top/build/tests/test_importance" >"$tmp.out" 2>&1 || rc=$?
grep -E '^# |PASSED|FAILED|Error' "$tmp.out" || true
rm -f "$tmp.out"
exit $rc
