#!/bin/sh
# run.sh - run every mounted filesystem test (tests/fs/test_*.sh).
#
#   KATIBFS=/abs/path/to/katibfs sh tests/fs/run.sh [test_name...]
#
# Each test mounts its own katibfs; exit 0 = pass, 77 = skip, else fail.
# Prints PASS/FAIL/SKIP per test and a final "N passed, M failed" line
# (", K skipped" when some were skipped); exits non-zero on any failure.

: "${KATIBFS:?set KATIBFS to the katibfs binary (absolute path)}"
case $KATIBFS in
/*) ;;
*) KATIBFS=$(pwd)/$KATIBFS ;;
esac
export KATIBFS
[ -x "$KATIBFS" ] || { echo "run.sh: $KATIBFS is not executable" >&2; exit 2; }

dir=$(cd "$(dirname "$0")" && pwd)
per_test_timeout=${KATIBFS_TEST_TIMEOUT:-240}
passed=0
failed=0
skipped=0
failures=

if [ $# -gt 0 ]; then
	tests=
	for t in "$@"; do
		tests="$tests $dir/${t%.sh}.sh"
	done
else
	tests=$(ls "$dir"/test_*.sh)
fi

for t in $tests; do
	name=$(basename "$t" .sh)
	log=$(mktemp "${TMPDIR:-/tmp}/katibfs-$name.XXXXXX")
	start=$(date +%s)
	timeout -k 10 "$per_test_timeout" sh "$t" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0)
		echo "PASS $name (${secs}s)"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP $name: $(tail -n 1 "$log")"
		skipped=$((skipped + 1))
		;;
	*)
		[ $rc -eq 124 ] && echo "timed out after ${per_test_timeout}s" >>"$log"
		echo "FAIL $name (exit $rc, ${secs}s)"
		sed 's/^/    /' "$log" | tail -n 40
		failed=$((failed + 1))
		failures="$failures $name"
		;;
	esac
	rm -f "$log"
done

if [ $skipped -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ]
