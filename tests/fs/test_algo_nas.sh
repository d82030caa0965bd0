#!/bin/sh
# ENAS and DARTS trials receive their values in Katib's format.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mount_fs

for exp in enas darts; do
	mkdir "$MNT/$exp" || fail "mkdir $exp"
	cp "$ROOT/examples/$exp.yaml" "$MNT/$exp/spec.yaml" ||
		fail "writing the $exp spec failed"
done
wait_state enas Succeeded 90
wait_state darts Succeeded 60
[ "$(status_value enas succeeded)" = 4 ] || fail "enas: $(cat "$MNT/enas/status")"
for n in 1 2 3 4; do
	grep -q '^layers=2 ops=[a-z]*,[a-z]*$' "$MNT/enas/trials/$n/log" ||
		fail "enas trial $n: $(cat "$MNT/enas/trials/$n/log")"
	python3 - "$MNT/enas/trials/$n/params.json" <<'PY' || fail "enas trial $n params: $(cat "$MNT/enas/trials/$n/params.json")"
import json, re, sys
p = json.load(open(sys.argv[1]))
assert re.fullmatch(r"\[\[[0-7]\], \[[0-7], [01]\]\]", p["architecture"]), p
assert p["nn_config"].startswith("{'num_layers': 2, 'input_sizes': [32, 32, 3], "
                                 "'output_sizes': [10], 'embedding': {'"), p
cfg = json.loads(p["nn_config"].replace("'", '"'))
arch = json.loads(p["architecture"])
assert all(str(layer[0]) in cfg["embedding"] for layer in arch), p
PY
done
[ "$(status_value darts succeeded)" = 1 ] || fail "darts: $(cat "$MNT/darts/status")"
grep -q "^num_epochs=1 search_space=max_pooling_3x3,skip_connection layers=1$" "$MNT/darts/trials/1/log" ||
	fail "darts trial: $(cat "$MNT/darts/trials/1/log")"
python3 -c "import json,sys; p=json.load(open(sys.argv[1])); assert p['search-space']==\"['max_pooling_3x3', 'skip_connection']\" and p['num-layers']=='1', p" \
	"$MNT/darts/trials/1/params.json" || fail "darts params: $(cat "$MNT/darts/trials/1/params.json")"
exit 0
