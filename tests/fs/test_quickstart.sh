#!/bin/sh
# examples/quickstart.sh end to end, as a newcomer runs it (it mounts and
# unmounts by itself, with katibfs daemonized), then the example specs:
# examples/grid.yaml and examples/mnist/mnist.yaml, copied as they are,
# run to Succeeded on a mount.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

KATIB=$MNT XDG_DATA_HOME=$TMP/data EXAMPLES=$ROOT/examples TMPDIR=$TMP \
	timeout 180 sh "$ROOT/examples/quickstart.sh" >"$TMP/out" 2>&1
rc=$?
show() { tail -n 40 "$TMP/out"; }
[ $rc -eq 0 ] || fail "quickstart.sh exit $rc: $(show)"
is_mounted && fail "quickstart.sh left $MNT mounted"
for want in 'katibfs: Kubeflow Katib as a filesystem' \
	'state=Paused' "unknown control word 'faster'" \
	'state=Succeeded' 'trial,state,lr,momentum,optimizer,loss,accuracy' \
	'observations=' 'epoch=3 loss=' '<svg xmlns="http://www.w3.org/2000/svg"'; do
	grep -qF "$want" "$TMP/out" || fail "quickstart output lacks '$want': $(show)"
done
[ -f "$TMP/data/katibfs/katib.db" ] || [ -n "$(ls "$TMP/data/katibfs" 2>/dev/null)" ] ||
	fail "no state under XDG_DATA_HOME: $(ls -R "$TMP/data" 2>&1 | head)"

# The example specs validate and run.
for f in random.yaml grid.yaml mnist/mnist.yaml; do
	"$KATIBFS" check "$ROOT/examples/$f" >/dev/null 2>"$TMP/err" ||
		fail "katibfs check examples/$f: $(cat "$TMP/err")"
done
mount_fs
mkdir "$MNT/grid" "$MNT/mnist" || fail "mkdir"
cp "$ROOT/examples/grid.yaml" "$MNT/grid/spec.yaml" || fail "grid spec"
cp "$ROOT/examples/mnist/mnist.yaml" "$MNT/mnist/spec.yaml" || fail "mnist spec"
wait_state grid Succeeded 120
wait_state mnist Succeeded 120
[ "$(status_value grid trials)" = 20 ] || fail "grid: $(cat "$MNT/grid/status")"
[ "$(status_value grid succeeded)" = 20 ] || fail "grid: $(cat "$MNT/grid/status")"
[ "$(status_value mnist succeeded)" = 12 ] || fail "mnist: $(cat "$MNT/mnist/status")"
grep -q '^Validation-accuracy=0\.[0-9]' "$MNT/mnist/best" || fail "mnist best: $(cat "$MNT/mnist/best")"
grep -q 'Train Epoch: 1' "$MNT/mnist/trials/1/log" || fail "mnist log: $(cat "$MNT/mnist/trials/1/log")"
exit 0
