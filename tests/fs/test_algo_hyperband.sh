#!/bin/sh
# Hyperband (r_l 2, eta 2) runs its two brackets (5 trials: 2@1, 1@2, 2@2)
# and ENDS with SuggestionEndReached (Katib stalls there).
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mount_fs

mkdir "$MNT/hb" || fail "mkdir"
cp "$ROOT/examples/hyperband.yaml" "$MNT/hb/spec.yaml" ||
	fail "writing the hyperband spec failed"
wait_state hb Succeeded 90
[ "$(status_value hb reason)" = SuggestionEndReached ] ||
	fail "reason: $(status_value hb reason), expected SuggestionEndReached"
[ "$(status_value hb trials)" = 5 ] || fail "trials: $(status_value hb trials), expected 5"
epochs=$(for n in 1 2 3 4 5; do sed -n 's/^num-epochs=//p' "$MNT/hb/trials/$n/params"; done | tr '\n' ' ')
[ "$epochs" = "1 1 2 2 2 " ] || fail "num-epochs per trial: $epochs, expected 1 1 2 2 2"
# the child rung continues the better of the first two
lr3=$(sed -n 's/^lr=//p' "$MNT/hb/trials/3/params")
best=$(python3 -c "import csv,sys; r=[x for x in csv.DictReader(open(sys.argv[1])) if x['trial'] in ('1','2')]; print(min(r, key=lambda x: float(x['loss']))['lr'])" "$MNT/hb/trials.csv")
[ "$lr3" = "$best" ] || fail "rung 2 took lr=$lr3, the better of rung 1 was $best"
exit 0
