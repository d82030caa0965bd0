#!/bin/sh
# Install (as root) or name (otherwise) the Debian packages katibfs needs to build and test.
# Usage: scripts/deps.sh [build|test|notebook|bench]
#   notebook: only the optional group for tests/fs/test_notebook.sh and
#   test_plot.sh (Jupyter, pandas, matplotlib, Chromium); those tests call it
#   when root and skip (exit 77) when it cannot install them.
set -eu
PKGS="gcc make pkg-config libfuse3-dev fuse3 libyaml-dev libcjson-dev libsqlite3-dev sqlite3 \
libcurl4-openssl-dev libpcre2-dev libcmocka-dev liblapacke-dev libopenblas-dev zlib1g-dev"
case "${1:-build}" in
test) PKGS="$PKGS python3 procps clang-format curl nghttp2-proxy" ;; # nghttpx: tests/fs/test_k8s_h2.sh
notebook) PKGS="python3 python3-pandas python3-matplotlib jupyter-nbconvert python3-ipykernel chromium" ;;
bench) PKGS="python3 python3-optuna" ;; # make bench: Optuna 3.1 baselines
esac
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
	echo "deps: installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	case " $missing " in # the tests run their own nghttpx, not a service
	*" nghttp2-proxy "*) systemctl disable --now nghttpx >/dev/null 2>&1 || : ;;
	esac
else
	echo "deps: missing Debian packages. Run:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
