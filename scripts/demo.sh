#!/bin/sh
# demo.sh - `make demo`: mount katibfs on a temporary directory with a
# temporary state, run examples/demo.yaml to the end, show the results,
# unmount. Uses only shell commands on the mount, as a user would.
#
#   KATIBFS=path/to/katibfs sh scripts/demo.sh     (default ./katibfs)

set -u
root=$(cd "$(dirname "$0")/.." && pwd)
KATIBFS=${KATIBFS:-$root/katibfs}
[ -x "$KATIBFS" ] || KATIBFS=$root/build/katibfs
[ -x "$KATIBFS" ] || { echo "demo: build katibfs first (make)" >&2; exit 1; }
[ -c /dev/fuse ] || { echo "demo: /dev/fuse is missing" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/katibfs-demo.XXXXXX")
mnt=$tmp/mnt
pid=
mkdir -p "$mnt"

cleanup() {
	cd /
	if grep -q " $mnt fuse" /proc/mounts; then
		timeout 10 fusermount3 -u "$mnt" 2>/dev/null ||
			timeout 10 fusermount3 -u -z "$mnt" 2>/dev/null
	fi
	if [ -n "$pid" ]; then
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill "$pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

run() {
	echo "\$ $*"
	sh -c "$*"
}

"$KATIBFS" -f --state "$tmp/state" "$mnt" 2>"$tmp/daemon.log" &
pid=$!
i=0
until grep -q " $mnt fuse" /proc/mounts; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "demo: katibfs did not mount:" >&2
		cat "$tmp/daemon.log" >&2
		exit 1
	fi
	sleep 0.1
done

cd "$mnt" || exit 1
echo "katibfs mounted on $mnt"
run "mkdir demo"
run "cp '$root/examples/demo.yaml' demo/spec.yaml" || exit 1
echo "waiting for the experiment to finish (6 trials, 2 at a time)..."
i=0
until grep -Eq '^state=(Succeeded|Failed|Stopped)$' demo/status; do
	i=$((i + 1))
	if [ $i -gt 600 ]; then
		echo "demo: timed out" >&2
		cat demo/status >&2
		exit 1
	fi
	sleep 0.2
done
run "cat demo/status"
run "cat demo/best"
run "cat demo/trials.csv"
run "ls demo/trials/1"
run "cat demo/trials/1/log"
run "cat demo/events"
grep -q '^state=Succeeded$' demo/status
