#!/bin/sh
# Every way people write files: cp, tee, python open('w') in pieces, an
# editor's save through a temporary file and rename, sed -i, echo >>.
. "$(dirname "$0")/lib.sh"
mount_fs

spec_yaml "$QUICK" 2 2 >"$TMP/spec.yaml"

mkdir "$MNT/bycp" "$MNT/bytee" "$MNT/bypy" "$MNT/bymv" "$MNT/bysed" || fail "mkdir"
cp "$TMP/spec.yaml" "$MNT/bycp/spec.yaml" || fail "cp"
tee "$MNT/bytee/spec.yaml" <"$TMP/spec.yaml" >/dev/null || fail "tee"
python3 - "$TMP/spec.yaml" "$MNT/bypy/spec.yaml" <<'PY' || fail "python writes"
import sys
text = open(sys.argv[1]).read()
with open(sys.argv[2], "w") as f:
    for line in text.splitlines(True):
        f.write(line)
        f.flush()          # one write(2) per line: the spec arrives in pieces
PY

# Editor-style: a temporary file in the experiment directory, renamed.
cp "$TMP/spec.yaml" "$MNT/bymv/.spec.yaml.tmp" || fail "create a scratch file"
ls -a "$MNT/bymv" | grep -qx .spec.yaml.tmp || fail "scratch file not listed"
cmp -s "$TMP/spec.yaml" "$MNT/bymv/.spec.yaml.tmp" || fail "scratch file content"
mv "$MNT/bymv/.spec.yaml.tmp" "$MNT/bymv/spec.yaml" || fail "mv onto spec.yaml"
[ ! -e "$MNT/bymv/.spec.yaml.tmp" ] || fail "scratch file left after the rename"

for e in bycp bytee bypy bymv; do
	wait_state $e Succeeded 60
	[ "$(status_value $e trials)" = 2 ] || fail "$e: trials=$(status_value $e trials)"
done

# Scratch files: create, list, read, remove; renames that are refused.
echo hello >"$MNT/bymv/notes" || fail "scratch create"
[ "$(cat "$MNT/bymv/notes")" = hello ] || fail "scratch read"
echo more >>"$MNT/bymv/notes" || fail "scratch append"
[ "$(wc -l <"$MNT/bymv/notes")" -eq 2 ] || fail "scratch append content"
mv "$MNT/bymv/notes" "$MNT/bymv/notes2" || fail "scratch to scratch rename"
expect_fail "mv spec.yaml away" "Operation not permitted" mv "$MNT/bymv/spec.yaml" "$MNT/bymv/old.yaml"
expect_fail "mv scratch onto status" "Operation not permitted" mv "$MNT/bymv/notes2" "$MNT/bymv/status"
rm "$MNT/bymv/notes2" || fail "scratch unlink"
[ ! -e "$MNT/bymv/notes2" ] || fail "scratch still there"
# A bad spec through rename: rename fails, the temporary file stays.
echo 'spec: [' >"$MNT/bymv/bad.tmp" || fail "bad scratch"
# (mv words EINVAL as "a subdirectory of itself": ask python for the errno.)
python3 -c "
import errno, os, sys
try:
    os.rename(sys.argv[1], sys.argv[2])
except OSError as e:
    sys.exit(0 if e.errno == errno.EINVAL else 1)
sys.exit(1)" "$MNT/bymv/bad.tmp" "$MNT/bymv/spec.yaml" || fail "rename of a bad spec did not fail with EINVAL"
mv "$MNT/bymv/bad.tmp" "$MNT/bymv/spec.yaml" 2>/dev/null && fail "mv of a bad spec succeeded"
[ -e "$MNT/bymv/bad.tmp" ] || fail "failed rename removed its source"
rm -f "$MNT/bymv/bad.tmp"
# Scratch files are capped: 1 MiB each, 32 per experiment.
expect_fail "huge scratch" "too large" dd if=/dev/zero of="$MNT/bymv/huge" bs=1M count=2 status=none
rm -f "$MNT/bymv/huge"
i=1
while [ $i -le 32 ]; do
	: >"$MNT/bymv/s$i" || fail "scratch file $i"
	i=$((i + 1))
done
expect_fail "33rd scratch file" "No space" sh -c ": > '$MNT/bymv/s33'"
rm -f "$MNT"/bymv/s[0-9]*
# Modes are fixed: cp -p (same mode) works, chmod to another mode does not.
cp -p "$TMP/spec.yaml" "$MNT/bymv/spec.yaml" 2>"$TMP/err" || fail "cp -p: $(cat "$TMP/err")"
expect_fail "chmod spec.yaml" "Operation not permitted" chmod 600 "$MNT/bymv/spec.yaml"

# sed -i on a running experiment: raise maxTrialCount (Katib lets you).
spec_yaml "$(slow_program 2)" 2 1 >"$MNT/bysed/spec.yaml" || fail "bysed spec"
wait_state bysed Running 10
grep -q 'maxTrialCount: 2' "$MNT/bysed/spec.yaml" || fail "spec.yaml: $(cat "$MNT/bysed/spec.yaml")"
sed -i 's/maxTrialCount: 2/maxTrialCount: 3/' "$MNT/bysed/spec.yaml" || fail "sed -i"
grep -q 'maxTrialCount: 3' "$MNT/bysed/spec.yaml" || fail "sed -i did not take"
ls -a "$MNT/bysed" | grep -q '^sed' && fail "sed left its temporary file"
want=3
# vim, if installed, with a backup file and a swap file: maxTrialCount 4.
if command -v vim >/dev/null 2>&1; then
	timeout 30 vim -u NONE -N -es -c 'set backup' \
		-c '%s/maxTrialCount: 3/maxTrialCount: 4/' -c 'wq' \
		"$MNT/bysed/spec.yaml" </dev/null || fail "vim could not save spec.yaml"
	grep -q 'maxTrialCount: 4' "$MNT/bysed/spec.yaml" || fail "vim's save did not take"
	want=4
fi
wait_state bysed Succeeded 60
[ "$(status_value bysed trials)" = $want ] || fail "bysed trials=$(status_value bysed trials), want $want"

# echo >> spec.yaml appends to the current spec (a comment: no change).
echo '# a comment' >>"$MNT/bysed/spec.yaml" || fail "append to spec.yaml"
grep -q '^error=' "$MNT/bysed/status" && fail "appending a comment made an error"

# truncate(2) to 0 is accepted (the write that follows is what counts).
truncate -s 0 "$MNT/bysed/spec.yaml" || fail "truncate spec.yaml"
grep -q "maxTrialCount: $want" "$MNT/bysed/spec.yaml" || fail "truncate alone changed the spec"
exit 0
