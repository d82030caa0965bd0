#!/bin/sh
# modgraph.sh - the module graph of katibfs, from the built objects and the
# sources: for every .c under core/ and fs/, the headers of ours it
# includes and the modules whose functions (or data) it uses, then a check
# for cycles: modules that reach each other. A cycle in the include graph
# fails (exit 1); the cycles of the calls graph are listed (a table of
# implementations whose implementations call the table's helpers, as
# core/algorithms/algorithm.c and its algorithms, is one).
#
#   sh scripts/modgraph.sh [BUILD]      (after make; BUILD defaults to build)
#   sh scripts/modgraph.sh -q [BUILD]   only the cycle check
set -eu
quiet=
[ "${1:-}" = -q ] && { quiet=1; shift; }
build=${1:-build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

objs=$(cd "$build" && find core fs -name '*.o' ! -path 'core/backends/supervisor/*' | sort)
[ -n "$objs" ] || { echo "modgraph: no objects under $build (run make)" >&2; exit 2; }

# symbol -> module that defines it; module -> symbol it uses
for o in $objs; do
	m=${o%.o}
	nm -g --defined-only "$build/$o" | awk -v m="$m" 'NF == 3 { print $3, m }'
	nm -u "$build/$o" | awk -v m="$m" '{ print m, $NF }' >>"$tmp/uses"
done | sort -u >"$tmp/defs"
sort -k2,2 "$tmp/uses" >"$tmp/uses.s"
join -1 2 -2 1 -o 1.1,2.2 "$tmp/uses.s" "$tmp/defs" | awk '$1 != $2' |
	sort -u >"$tmp/calls"

# file -> header of ours it includes (resolved against -Iinclude -Icore
# and the including file's folder), for every .c and .h under core/ fs/
# include/
for f in $(find core fs include -name '*.[ch]' ! -path 'core/backends/supervisor/*' | sort); do
	sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | while read -r h; do
		for p in "include/$h" "core/$h" "$(dirname "$f")/$h"; do
			[ -f "$p" ] && { echo "$f $p"; break; }
		done
	done
done | sort -u >"$tmp/includes"

# the module of a header is the .c beside it of the same name, if any
awk '{ h = $2; sub(/\.h$/, "", h); print $1, h }' "$tmp/includes" |
	while read -r f h; do
		hm=$h
		case $h in include/katib/*) hm=include/katib/$(basename "$h") ;; esac
		case $h in *_i) [ -f "${h%_i}.c" ] && hm=${h%_i} ;; esac
		[ -f "$hm.c" ] || hm=$h.h
		fm=${f%.[ch]}
		[ -f "$fm.c" ] || fm=$f
		[ "$fm" != "$hm" ] && echo "$fm $hm"
	done | sort -u >"$tmp/incmods"

if [ -z "$quiet" ]; then
	echo "== calls: module -> modules whose symbols it uses"
	awk '{ a[$1] = a[$1] " " $2 } END { for (m in a) print m ":" a[m] }' \
		"$tmp/calls" | sort
	echo
	echo "== includes: module -> module (or header) of each header of ours it includes"
	awk '{ a[$1] = a[$1] " " $2 } END { for (m in a) print m ":" a[m] }' \
		"$tmp/incmods" | sort
	echo
fi
# Tarjan's strongly connected components of "from to" lines: each
# component of more than one module is a cycle.
cat >"$tmp/scc.awk" <<'AWK'
{ n[$1] = 1; n[$2] = 1; adj[$1, ++deg[$1]] = $2 }
function visit(v,    i, w, c, cnt) {
	idx[v] = low[v] = ++counter
	stack[++sp] = v; on[v] = 1
	for (i = 1; i <= deg[v]; i++) {
		w = adj[v, i]
		if (!(w in idx)) { visit(w); if (low[w] < low[v]) low[v] = low[w] }
		else if (on[w] && idx[w] < low[v]) low[v] = idx[w]
	}
	if (low[v] == idx[v]) {
		c = ""; cnt = 0
		do { w = stack[sp--]; on[w] = 0; c = c " " w; cnt++ } while (w != v)
		if (cnt > 1) print substr(c, 2)
	}
}
END { for (v in n) if (!(v in idx)) visit(v) }
AWK
rc=0
for g in incmods calls; do
	awk -f "$tmp/scc.awk" "$tmp/$g" >"$tmp/$g.scc"
	if [ -s "$tmp/$g.scc" ] && [ $g = calls ] && [ -n "$quiet" ]; then
		echo "modgraph: $g: $(wc -l <"$tmp/$g") edges, $(wc -l <"$tmp/$g.scc") groups of modules that call each other (without -q: which)"
	elif [ -s "$tmp/$g.scc" ]; then
		echo "modgraph: $g: cycles (modules that reach each other):"
		sed 's/^/  /' "$tmp/$g.scc"
		[ $g = calls ] || rc=1
	else
		echo "modgraph: $g: $(wc -l <"$tmp/$g") edges, no cycle"
	fi
done
exit $rc
