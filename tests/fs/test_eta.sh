#!/bin/sh
# eta_seconds says how long is really left when something other than
# parallelTrialCount limits how many trials run at once: one device
# (katibfs/devices) for parallelTrialCount 8, so trials run one at a time,
# and the estimate at trial 8 of 20 is compared with the time the last 12
# then took. Waves of parallelTrialCount (the old estimate) said an eighth
# of it; the rate trials start at says it within a factor of 2 (each side
# +0.5 s for eta_seconds' rounding and the polling). No sleep synchronises
# anything: the test reads status until it sees progress 8, then waits for
# Succeeded with a deadline.
. "$(dirname "$0")/lib.sh"

mount_fs
mkdir "$MNT/eta"
spec_yaml "$(slow_program 0.4)" 20 8 |
	yaml_edit '  namespace: kubeflow' '  namespace: kubeflow
  annotations:
    katibfs/devices: "0"' >"$TMP/spec.yaml" || fail "spec edit"
cp "$TMP/spec.yaml" "$MNT/eta/spec.yaml" ||
	fail "spec refused: $(tail -3 "$MNT/eta/events")"

# the first status that shows 8 (or more) ended trials and an estimate
end=$(($(date +%s) + 60))
while :; do
	st=$(cat "$MNT/eta/status")
	at=$(date +%s.%N)
	ended=$(echo "$st" | sed -n 's|^progress=\([0-9]*\)/.*|\1|p')
	eta=$(echo "$st" | sed -n 's/^eta_seconds=//p')
	[ "${ended:-0}" -ge 8 ] && [ -n "$eta" ] && break
	[ "$(date +%s)" -ge "$end" ] && fail "no progress=8 with eta_seconds: $st"
	sleep 0.1
done
[ "$ended" -le 12 ] || fail "progress jumped to $ended: $st"
wait_state eta Succeeded 120
left=$(awk -v a="$at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
grep -q '^eta_seconds=' "$MNT/eta/status" &&
	fail "eta_seconds after the end: $(cat "$MNT/eta/status")"
echo "progress=$ended/20 eta_seconds=$eta, $left s left"
echo "$eta $left" | awk '{ exit !($1 >= $2 / 2 - 0.5 && $1 <= $2 * 2 + 0.5) }' ||
	fail "eta_seconds=$eta at progress $ended/20, but the rest took $left s"
