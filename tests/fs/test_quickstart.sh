#!/bin/sh
# examples/quickstart.sh end to end, as a newcomer runs it (it mounts and
# unmounts by itself, with katibfs daemonized), then the README's
# Quickstart steps as printed there. (Every example spec runs in
# test_examples.sh.)
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

# The README's Quickstart, line by line as printed there, at a person's pace:
# HOME is a scratch directory, so ~/katib and ~/.local/share/katibfs are
# the README's own paths; `./katibfs` is the binary under test; `tail -f`
# is left (Ctrl-C) after 10 s, as a person watching would, and the
# experiment must still be running then, so that pause and resume work and
# show in status. xdg-open is replaced by a look at plot.svg, and rmdir
# waits for the end, as its comment says.
HOME=$TMP/home
export HOME
unset XDG_DATA_HOME
mkdir -p "$HOME/src" || fail "mkdir src"
ln -s "$KATIBFS" "$HOME/src/katibfs" && ln -s "$ROOT/examples" "$HOME/src/examples" ||
	fail "symlinks"
MNT=$HOME/katib # for lib.sh's cleanup
sed -n '/^## Quickstart/,/^`examples\/quickstart.sh`/p' "$ROOT/README.md" |
	sed -n 's/^    //p' | sed 's/  *# .*$//' >"$TMP/readme-steps"
grep -q '^echo pause > ~/katib/demo/control$' "$TMP/readme-steps" ||
	fail "README Quickstart has no pause step: $(cat "$TMP/readme-steps")"
cd "$HOME/src" || fail "cd"
exp=$HOME/katib/demo
have_pandas=$(python3 -c 'import pandas' 2>/dev/null && echo yes)
while IFS= read -r step; do
	echo "\$ $step" >>"$TMP/walk"
	case $step in
	sudo* | make*) continue ;; # done already: the binary is built
	"tail -f "*)
		copied=$(date +%s)
		timeout 10 sh -c "$step" >>"$TMP/walk" 2>&1
		grep -q '^state=Running$' "$exp/status" ||
			fail "the experiment is not running 10 s after it started: $(cat "$exp/status")"
		continue
		;;
	"echo pause"*)
		eval "$step" || fail "README step '$step' failed $(($(date +%s) - copied)) s after the start: $(cat "$exp/status")"
		wait_until 10 "grep -q '^state=Paused$' '$exp/status'" ||
			fail "status after pause: $(cat "$exp/status")"
		continue
		;;
	"echo resume"*)
		eval "$step" || fail "README step '$step' failed: $(cat "$exp/status")"
		wait_until 10 "grep -Eq '^state=(Running|Succeeded)$' '$exp/status'" ||
			fail "status after resume: $(cat "$exp/status")"
		continue
		;;
	"python3 -c 'import pandas"*)
		[ -n "$have_pandas" ] || { echo "(no pandas here: skipped)" >>"$TMP/walk"; continue; }
		;;
	xdg-open*)
		grep -q '<svg' "$exp/plot.svg" || fail "plot.svg: $(head -c 200 "$exp/plot.svg")"
		continue
		;;
	rmdir*)
		wait_until 120 "grep -q '^state=Succeeded$' '$exp/status'" ||
			fail "the Quickstart experiment did not succeed: $(cat "$exp/status"; grep -v 'started\|Succeeded' "$exp/events" | tail -n 8)"
		;;
	esac
	eval "$step" >>"$TMP/walk" 2>&1 </dev/null ||
		fail "README step '$step' failed: $(tail -n 5 "$TMP/walk")"
done <"$TMP/readme-steps"
is_mounted && fail "still mounted after the README's fusermount3 -u"
grep -q '^\$ echo resume' "$TMP/walk" || fail "the walk did not get to resume: $(cat "$TMP/walk")"
[ -d "$HOME/.local/share/katibfs" ] || fail "no state in ~/.local/share/katibfs"
exit 0
