#!/bin/sh
# katibfs/suggestion-command: the program gets the JSON document on stdin
# and its assignments run; failures (bad JSON, exit status, a value outside
# the space, the time limit) are events lines quoting its last stderr
# line, three in a row fail the experiment; reads are not slowed while it
# runs; a missing or non-executable program, or a built-in algorithmName,
# is EINVAL at spec time naming the annotation.
. "$(dirname "$0")/lib.sh"
# a short time limit, so that the timeout case takes seconds
KATIBFS_SUGGESTION_TIMEOUT=2
export KATIBFS_SUGGESTION_TIMEOUT
mount_fs

# The plugin: what it does is in $TMP/mode.<experiment>.
cat >"$TMP/plugin.sh" <<'EOF'
#!/bin/sh
dir=$1 exp=$2
mode=$(cat "$dir/mode.$exp")
cat >"$dir/input.$exp.json"
case $mode in
ok) python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
n = len(d["trials"])
print(json.dumps([{"lr": round(0.02 + 0.001 * (n + i), 6), "layers": 1 + (n + i) % 4}
                  for i in range(d["count"])]))' "$dir/input.$exp.json" ;;
badjson) echo "parsing the history" >&2; echo "not json"; echo "gave up on the model" >&2 ;;
exit) echo "boom: no model for you" >&2; exit 3 ;;
outside) echo '[{"lr": 5, "layers": 1}]' ;;
missing) echo '[{"lr": 0.05}]' ;;
slow) touch "$dir/started.$exp"; sleep 4; echo "never heard" >&2 ;;
flaky) if [ -e "$dir/failed.$exp" ]; then echo "$mode" >/dev/null; echo '[{"lr": 0.03, "layers": 2}]'; else touch "$dir/failed.$exp"; echo "first time unlucky" >&2; exit 1; fi ;;
esac
EOF
chmod +x "$TMP/plugin.sh"

# plugin_spec EXP MAX PARALLEL: spec_yaml run by the plugin
plugin_spec() {
	spec_yaml "$QUICK" "$2" "$3" |
		sed "s/algorithmName: random/algorithmName: my-search/; s|^  namespace: kubeflow|  namespace: kubeflow\\n  annotations:\\n    katibfs/suggestion-command: \"$TMP/plugin.sh $TMP $1\"|"
}

# run EXP MODE MAX PARALLEL
run() {
	echo "$2" >"$TMP/mode.$1"
	mkdir "$MNT/$1" || fail "mkdir $1"
	plugin_spec "$1" "$3" "$4" >"$MNT/$1/spec.yaml" || fail "$1 spec: $(cat "$MNT/$1/status")"
}

# --- it works, and gets the document of INTERFACE.md
run good ok 5 2
wait_state good Succeeded 60
[ "$(status_value good succeeded)" = 5 ] || fail "good: $(cat "$MNT/good/status")"
[ "$(sed -n 's/^lr=//p' "$MNT/good/trials/1/params")" = 0.02 ] || fail "trial 1: $(cat "$MNT/good/trials/1/params")"
python3 - "$TMP/input.good.json" <<'PY' || fail "input document: $(cat "$TMP/input.good.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["experiment"] == "good", d["experiment"]
assert [p["name"] for p in d["spec"]["parameters"]] == ["lr", "layers"], d["spec"]
assert d["spec"]["algorithm"]["algorithmName"] == "my-search"
assert d["count"] >= 1
t = [x for x in d["trials"] if x["state"] == "Succeeded"]
assert t, d["trials"]
assert set(t[0]) == {"number", "state", "params", "metrics"}, t[0]
assert isinstance(t[0]["metrics"]["loss"], float), t[0]
assert t[0]["params"]["lr"].startswith("0.0"), t[0]
PY

# --- failures: events quote the last stderr line; three in a row fail it
run badjson badjson 3 1
wait_state badjson Failed 60
grep -q "suggestion command failed (1 in a row): its output does not fit: its output is not JSON (9 bytes: not json.*); its last stderr line: 'gave up on the model'" \
	"$MNT/badjson/events" || fail "badjson events: $(cat "$MNT/badjson/events")"
grep -q "suggestion command failed (3 in a row)" "$MNT/badjson/events" || fail "no third failure: $(cat "$MNT/badjson/events")"
grep -q "algorithm my-search failed: metadata.annotations\[katibfs/suggestion-command\]: failed 3 times in a row; the last time its output does not fit" \
	"$MNT/badjson/events" || fail "no failure reason: $(cat "$MNT/badjson/events")"
[ "$(status_value badjson reason)" = AlgorithmFailed ] || fail "badjson: $(cat "$MNT/badjson/status")"
[ "$(status_value badjson trials)" = 0 ] || fail "badjson ran trials: $(cat "$MNT/badjson/status")"

run exits exit 3 1
wait_state exits Failed 60
grep -q "suggestion command failed (1 in a row): it exited with status 3; its last stderr line: 'boom: no model for you'" \
	"$MNT/exits/events" || fail "exit events: $(cat "$MNT/exits/events")"

run outside outside 3 1
wait_state outside Failed 60
grep -q "its output does not fit: lr: 5 is outside \[0.01, 0.1\]" "$MNT/outside/events" ||
	fail "outside events: $(cat "$MNT/outside/events")"

run missing missing 3 1
wait_state missing Failed 60
grep -q "its output does not fit: layers: missing" "$MNT/missing/events" ||
	fail "missing events: $(cat "$MNT/missing/events")"

# a failure then a success: the count starts again, the experiment goes on
run flaky flaky 2 1
wait_state flaky Succeeded 60
grep -q "suggestion command failed (1 in a row): it exited with status 1; its last stderr line: 'first time unlucky'" \
	"$MNT/flaky/events" || fail "flaky events: $(cat "$MNT/flaky/events")"

# --- the time limit, and reads while the program runs
run slow slow 3 1
wait_until 20 "test -e '$TMP/started.slow'" || fail "the slow plugin did not start"
start=$(date +%s%N)
for i in 1 2 3 4 5; do
	timeout 1 cat "$MNT/slow/status" "$MNT/good/trials.csv" "$MNT/events" >/dev/null ||
		fail "a read waited for the suggestion command"
done
ms=$((($(date +%s%N) - start) / 1000000))
[ "$ms" -lt 1500 ] || fail "15 reads took ${ms} ms while the suggestion command ran"
wait_state slow Failed 60
grep -q "suggestion command failed (1 in a row): it did not answer within 2 s and was killed (KATIBFS_SUGGESTION_TIMEOUT sets the limit); its last stderr line" \
	"$MNT/slow/events" && fail "the killed plugin's stderr is quoted though it wrote none before the limit"
grep -q "suggestion command failed (1 in a row): it did not answer within 2 s and was killed (KATIBFS_SUGGESTION_TIMEOUT sets the limit)" \
	"$MNT/slow/events" || fail "slow events: $(cat "$MNT/slow/events")"

# --- bad input at spec time
mkdir "$MNT/bad" || fail "mkdir bad"
plugin_spec bad 2 1 | sed "s|$TMP/plugin.sh|/nonexistent/prog|" >"$TMP/bad.yaml"
expect_fail "missing program" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
grep -q 'metadata.annotations\[katibfs/suggestion-command\]: /nonexistent/prog does not exist' "$MNT/bad/events" ||
	fail "missing events: $(grep rejected "$MNT/bad/events")"
"$KATIBFS" check "$TMP/bad.yaml" >/dev/null 2>&1 && fail "katibfs check took a missing program"
cp "$TMP/plugin.sh" "$TMP/noexec.sh"
chmod -x "$TMP/noexec.sh"
plugin_spec bad 2 1 | sed "s|$TMP/plugin.sh|$TMP/noexec.sh|" >"$TMP/bad.yaml"
expect_fail "not executable" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
grep -q "noexec.sh is not executable" "$MNT/bad/events" || fail "noexec events: $(grep rejected "$MNT/bad/events")"
plugin_spec bad 2 1 | sed "s|$TMP/plugin.sh|no-such-program-here|" >"$TMP/bad.yaml"
expect_fail "not on PATH" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
grep -q 'no program "no-such-program-here" on PATH' "$MNT/bad/events" || fail "PATH events: $(grep rejected "$MNT/bad/events")"
plugin_spec bad 2 1 | sed "s/algorithmName: my-search/algorithmName: tpe/" >"$TMP/bad.yaml"
expect_fail "built-in algorithm" "Invalid argument" sh -c "cat '$TMP/bad.yaml' > '$MNT/bad/spec.yaml'"
grep -q "is for an algorithmName katibfs does not know, and 'tpe' is built in" "$MNT/bad/events" ||
	fail "built-in events: $(grep rejected "$MNT/bad/events")"
exit 0
