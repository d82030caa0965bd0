#!/bin/sh
# `make install DESTDIR=... PREFIX=/usr`: the binary, the man page (rendered
# by `man -l` without warnings), the examples (byte for byte the source
# tree's, none naming a path: tests/fs/test_examples.sh running them from
# the checkout covers the installed copies) and the systemd user unit (`systemd-analyze verify`
# where systemd is present). No mount needed. Skipped (77) only when man
# cannot be had.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/katibfs-install.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
DEST=$TMP/dest
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Install what was built (make test and make check build ./katibfs first).
if [ -x "$ROOT/katibfs" ]; then
	NOBUILD="-o all"
else
	NOBUILD=
fi
make -s -C "$ROOT" $NOBUILD install DESTDIR="$DEST" PREFIX=/usr >"$TMP/make.log" 2>&1 ||
	fail "make install: $(tail -n 20 "$TMP/make.log")"
for f in bin/katibfs share/man/man1/katibfs.1 lib/systemd/user/katibfs@.service \
	share/katibfs/examples/random.yaml share/katibfs/examples/grid.yaml \
	share/katibfs/examples/quickstart.sh share/katibfs/examples/notebook.ipynb \
	share/katibfs/examples/mnist/mnist.yaml; do
	[ -f "$DEST/usr/$f" ] || fail "not installed: /usr/$f ($(cd "$DEST" && find . -type f | head -n 30 | tr '\n' ' '))"
done
[ -x "$DEST/usr/bin/katibfs" ] || fail "katibfs not executable"
[ -x "$DEST/usr/share/katibfs/examples/quickstart.sh" ] || fail "quickstart.sh not executable"
"$DEST/usr/bin/katibfs" --version >/dev/null || fail "installed katibfs --version"
# The examples are installed as they are in the source tree, and none
# depends on where it lies (no install path, no file beside it to run), so
# what test_examples.sh runs from the checkout is what runs installed.
diff -r "$ROOT/examples" "$DEST/usr/share/katibfs/examples" >"$TMP/diff" 2>&1 ||
	fail "installed examples differ from the source tree: $(head -n 20 "$TMP/diff")"
for f in "$DEST"/usr/share/katibfs/examples/*.yaml "$DEST"/usr/share/katibfs/examples/*/*.yaml; do
	if grep -nE '/usr/(local/)?share/katibfs|/opt/katibfs|workingDir:|\.py$' "$f" >"$TMP/paths"; then
		fail "$f depends on a path: $(cat "$TMP/paths")"
	fi
	"$DEST/usr/bin/katibfs" check "$f" >/dev/null 2>"$TMP/err" ||
		fail "installed $f does not check: $(cat "$TMP/err")"
done
grep -q '^ExecStart=/usr/bin/katibfs -f %h/%I$' "$DEST/usr/lib/systemd/user/katibfs@.service" ||
	fail "unit ExecStart: $(grep ExecStart "$DEST/usr/lib/systemd/user/katibfs@.service")"
grep -q '/usr/local' "$DEST/usr/share/man/man1/katibfs.1" && fail "man page still names /usr/local"

# The systemd unit, where systemd is: verified as an instance whose
# ExecStart is the binary just installed, the man page on MANPATH (for
# Documentation=man:katibfs(1)).
if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/bin/katibfs|$DEST/usr/bin/katibfs|" \
		"$DEST/usr/lib/systemd/user/katibfs@.service" >"$TMP/katibfs@verify.service"
	MANPATH=$DEST/usr/share/man systemd-analyze verify "$TMP/katibfs@verify.service" \
		>"$TMP/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$TMP/verify.log")"
else
	echo "note: no systemd-analyze here; unit not verified"
fi

# The man page renders, without groff warnings, and documents every file.
if ! command -v man >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends man-db >"$TMP/apt.log" 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends man-db >"$TMP/apt.log" 2>&1; }
fi
if ! command -v man >/dev/null 2>&1; then
	echo "install checks passed; skip: man is missing (apt-get install man-db)"
	exit 77
fi
MANWIDTH=80 man -l "$DEST/usr/share/man/man1/katibfs.1" >"$TMP/man.txt" 2>"$TMP/man.err" ||
	fail "man -l: $(cat "$TMP/man.err")"
[ -s "$TMP/man.err" ] && fail "man -l warnings: $(cat "$TMP/man.err")"
MANWIDTH=80 man --warnings -l "$DEST/usr/share/man/man1/katibfs.1" 2>"$TMP/warn" >/dev/null
[ -s "$TMP/warn" ] && fail "groff warnings: $(cat "$TMP/warn")"
for want in 'katibfs - Kubeflow Katib' SYNOPSIS OPTIONS 'THE TREE' ERRORS \
	spec.yaml status status.json control best trials.csv events plot.svg \
	params params.json metrics observations log EACCES ENOENT EINVAL EBUSY \
	EPERM EEXIST EFBIG /usr/share/katibfs/examples; do
	grep -qF -- "$want" "$TMP/man.txt" || fail "man page lacks '$want'"
done
exit 0
