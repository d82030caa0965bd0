#!/bin/sh
# katibfs in a terminal: paste these lines one at a time, or run the whole
# walkthrough with `sh examples/quickstart.sh` (about a minute).
#
# It mounts katibfs on ~/katib, runs examples/random.yaml (24 trials of a
# tiny python3 program), looks at every kind of file, and unmounts. Only
# shell commands on the mount: no client library.
#
# Set these first if yours differ:
KATIBFS=${KATIBFS:-katibfs}          # the binary: `katibfs` once installed, ./katibfs in the source tree
KATIB=${KATIB:-$HOME/katib}          # where to mount it
EXAMPLES=${EXAMPLES:-$(cd "$(dirname "$0")" 2>/dev/null && pwd)}
[ -f "$EXAMPLES/random.yaml" ] || EXAMPLES=/usr/local/share/katibfs/examples

# 1. Mount. katibfs goes to the background; its state (sqlite, trial logs)
#    lives in ~/.local/share/katibfs, so a later mount brings it all back.
mkdir -p "$KATIB"
"$KATIBFS" "$KATIB"
cat "$KATIB/README"

# 2. An experiment is a directory; writing spec.yaml starts it.
mkdir "$KATIB/quickstart"
ls "$KATIB/quickstart"
cp "$EXAMPLES/random.yaml" "$KATIB/quickstart/spec.yaml"

# 3. Control it: pause starts no new trials, resume carries on.
echo pause > "$KATIB/quickstart/control"
cat "$KATIB/quickstart/control"
echo resume > "$KATIB/quickstart/control"

# A wrong word is refused (Invalid argument) and events says what is right.
echo faster > "$KATIB/quickstart/control"
tail -n 1 "$KATIB/quickstart/events"

# 4. Watch it. In another terminal: tail -f ~/katib/quickstart/events
#    Here, poll status (valid sh: `. status` would set $state, $progress...)
#    until the experiment ends.
until grep -Eq '^state=(Succeeded|Failed|Stopped)$' "$KATIB/quickstart/status"; do grep '^progress=' "$KATIB/quickstart/status"; sleep 1; done
cat "$KATIB/quickstart/status"

# 5. The results: the best trial, every trial as CSV, the event log.
cat "$KATIB/quickstart/best"
cat "$KATIB/quickstart/trials.csv"
cat "$KATIB/quickstart/events"

# 6. One trial: its parameters, metrics, every observation, status, the
#    command that ran, its output.
ls "$KATIB/quickstart/trials"
cat "$KATIB/quickstart/trials/1/params"
cat "$KATIB/quickstart/trials/1/metrics"
cat "$KATIB/quickstart/trials/1/observations"
cat "$KATIB/quickstart/trials/1/status"
cat "$KATIB/quickstart/trials/1/spec"
cat "$KATIB/quickstart/trials/1/log"

# 7. The plot: open it in a browser (xdg-open, or file://$KATIB/quickstart/plot.svg).
cp "$KATIB/quickstart/plot.svg" "${TMPDIR:-/tmp}/quickstart-plot.svg"
head -c 300 "${TMPDIR:-/tmp}/quickstart-plot.svg"; echo

# 8. Delete the experiment (it has ended), and unmount. The daemon stops.
rmdir "$KATIB/quickstart"
fusermount3 -u "$KATIB"
