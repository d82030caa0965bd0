#!/bin/sh
# comment-names.sh - the names a comment points at must exist: every file
# name (katib.c, include/katib/spec.h, tests/fs/lib.sh, ...) and every
# function written as name() in the comments of our C sources, headers,
# Makefile and scripts. A file name is found as written (from the top or the
# commenting file's folder) or, for a bare name, anywhere in the tree; a
# function in the code (comments stripped) of our sources or in a system
# header. Prints each name that exists nowhere; exits 1 if any.
#
#   sh scripts/comment-names.sh
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

srcs=$(git ls-files 'core/*.[ch]' 'fs/*.[ch]' 'include/*.h' 'tests/*.[ch]' \
	'bench/*.[ch]' | grep -v '^tests/fuzz/corpus')

# comments -> "file line text"; code -> identifiers
for f in $srcs; do
	awk -v f="$f" '
	{
		line = $0; code = ""; text = ""
		while (line != "") {
			if (incom) {
				i = index(line, "*/")
				if (!i) { text = text " " line; line = ""; break }
				text = text " " substr(line, 1, i - 1)
				line = substr(line, i + 2); incom = 0
				continue
			}
			i = index(line, "/*"); j = index(line, "//")
			q = index(line, "\"")
			if (q && (!i || q < i) && (!j || q < j)) {
				# skip a string literal
				rest = substr(line, q + 1)
				while (match(rest, /^([^"\\]|\\.)*"/)) { code = code substr(line, 1, q); line = substr(rest, RLENGTH + 1); rest = ""; break }
				if (rest != "") { code = code line; line = "" }
				continue
			}
			if (j && (!i || j < i)) {
				code = code substr(line, 1, j - 1)
				text = text " " substr(line, j + 2); line = ""; break
			}
			if (i) {
				code = code substr(line, 1, i - 1)
				line = substr(line, i + 2); incom = 1
				continue
			}
			code = code line; line = ""
		}
		if (text != "") print f, NR, text > "/dev/stdout"
		if (code != "") print code > CODE
	}' CODE="$tmp/code.$$" "$f" >>"$tmp/comments"
	cat "$tmp/code.$$" >>"$tmp/code" 2>/dev/null || true
	rm -f "$tmp/code.$$"
done
# the Makefile's and the scripts' comments
for f in Makefile $(git ls-files 'scripts/*.sh' 'tests/*.sh' 'bench/*.sh'); do
	awk -v f="$f" '/^[ \t]*#/ { print f, NR, $0 }' "$f" >>"$tmp/comments"
done

tr -c 'A-Za-z0-9_' '\n' <"$tmp/code" | grep -v '^$' | sort -u >"$tmp/idents"
git ls-files >"$tmp/files"
sed 's|.*/||' "$tmp/files" | sort -u >"$tmp/basenames"

# Names that are not files of this tree: the files of the mounted tree
# (spec.yaml) and the user's (SPEC.yaml), the design documents in
# /work/shared, upstream Katib's, Optuna's and fANOVA's sources (*.py,
# examples/v1beta1/), goptuna's sobol.NewSampler().
external='^(spec\.yaml|SPEC\.yaml|INTERFACE\.md|KATIB\.md|ARCHITECTURE\.md|FS-LESSONS\.md|.*\.py|(examples/v1beta1|hp-tuning)/.*|NewSampler)$'

bad=0
# file names: a word ending in a source or document suffix
grep -o '^[^ ]* [0-9]* \|[A-Za-z0-9_./-]*[A-Za-z0-9_]\.\(c\|h\|sh\|py\|md\|yaml\|supp\|mk\)\b' "$tmp/comments" |
	awk 'NF == 2 { where = $1 ":" $2; next } { print where, $0 }' |
	sort -u >"$tmp/filenames"
while read -r where name; do
	f=${where%:*}
	case $name in
	*.*.*) continue ;;                   # a host name, a version
	/* | */usr/* | *\$*) continue ;;    # a system path
	esac
	echo "$name" | grep -Eq "$external" && continue
	[ -e "$name" ] && continue
	[ -e "$(dirname "$f")/$name" ] && continue
	case $name in */*) grep -q "/$name\$\|^$name\$" "$tmp/files" && continue ;; esac
	case $name in */*) ;; *) grep -qx "$name" "$tmp/basenames" && continue ;; esac
	echo "$where: file $name"
	bad=1
done <"$tmp/filenames"

# functions: name() in a comment
grep -o '^[^ ]* [0-9]* \|\b[A-Za-z_][A-Za-z0-9_]*()' "$tmp/comments" |
	awk 'NF == 2 { where = $1 ":" $2; next } { sub(/\(\)$/, ""); print where, $0 }' |
	sort -u >"$tmp/funcs"
while read -r where name; do
	grep -qx "$name" "$tmp/idents" && continue
	echo "$name" | grep -Eq "$external" && continue
	grep -rqw "$name" /usr/include 2>/dev/null && continue
	echo "$where: function $name()"
	bad=1
done <"$tmp/funcs"
[ $bad = 0 ] && echo "comment-names: every file and function named in a comment exists"
exit $bad
