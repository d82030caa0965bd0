#!/bin/sh
# The kubernetes backend's connections: 20 trials' log streams open at once
# (parallelTrialCount 20, trials that wait to be released), plus the
# watches and requests, travel over at most 4 TCP connections when the
# API server speaks HTTP/2. The server is nghttpx (Debian nghttp2-proxy: a
# TLS + h2 frontend, ALPN, with the fake API server's certificate, so the
# kubeconfig's certificate-authority-data is trusted as with a cluster) in
# front of the HTTP/1.1 fake API server (tests/k8s/fake_apiserver.py).
# Then the same experiment straight to the HTTP/1.1 server works too,
# every open stream holding a connection of its own. Connections are the
# daemon's established sockets to the server's port (/proc/PID/fd and
# /proc/net/tcp). Every trial ends with its metric.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "skip: no openssl"; exit 77; }
command -v nghttpx >/dev/null 2>&1 ||
	{ echo "skip: no nghttpx (make deps installs nghttp2-proxy)"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "skip: no curl"; exit 77; }
N=20

. "$here/../k8s/fake.sh"
K8S=$TMP/k8s
H2=
trap 'cleanup; fake_stop; [ -n "$H2" ] && kill $H2 2>/dev/null' EXIT
fake_start "$K8S" || fail "fake API server did not start"
BPORT=$(cat "$K8S/port")

# nghttpx on a free port, TLS + h2 in front, TLS to the fake behind
FPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nghttpx --conf=/dev/null --frontend="127.0.0.1,$FPORT" --backend="127.0.0.1,$BPORT;;tls" \
	--insecure --workers=1 --no-ocsp --backend-read-timeout=10m \
	--frontend-http2-read-timeout=10m --errorlog-file="$TMP/nghttpx.log" \
	"$K8S/server.key" "$K8S/server.crt" >>"$TMP/nghttpx.log" 2>&1 &
H2=$!
sed "s|https://127.0.0.1:$BPORT|https://127.0.0.1:$FPORT|" "$K8S/kubeconfig" \
	>"$TMP/kubeconfig.h2"
grep -q "127.0.0.1:$FPORT" "$TMP/kubeconfig.h2" || fail "kubeconfig for nghttpx"
# the version of HTTP nghttpx answers /version with (2 = h2 by ALPN)
h2check="curl -s --http2 --cacert '$K8S/ca.crt' -o /dev/null -w '%{http_version}' \
	-H 'Authorization: Bearer katibfs-test-token' https://127.0.0.1:$FPORT/version"
wait_until 20 "[ \"\$($h2check)\" = 2 ]" ||
	fail "nghttpx does not answer HTTP/2: $(cat "$TMP/nghttpx.log")"

# the daemon's established TCP connections to 127.0.0.1:PORT
conns() {
	python3 - "$PID" "$1" <<'PY'
import os, sys
pid, port = sys.argv[1], int(sys.argv[2])
inodes = set()
for fd in os.listdir("/proc/%s/fd" % pid):
    try:
        t = os.readlink("/proc/%s/fd/%s" % (pid, fd))
    except OSError:
        continue
    if t.startswith("socket:["):
        inodes.add(t[8:-1])
n = 0
for line in open("/proc/%s/net/tcp" % pid).readlines()[1:]:
    f = line.split()
    if f[3] == "01" and int(f[2].split(":")[1], 16) == port and f[9] in inodes:
        n += 1
print(n)
PY
}

spec() { # spec NAME: N trials that wait for $TMP/release-NAME
	fake_job_spec "$1" "$N" "$N" "echo start; while [ ! -e $TMP/release-$1 ]; do sleep 0.1; done; echo loss=\${trialParameters.learningRate}"
}

# run NAME KUBECONFIG PORT: the experiment; prints the most connections
# seen while the N streams were open
run() {
	"$KATIBFS" -f --state "$TMP/state-$1" --backend kubernetes \
		--kubeconfig "$2" "$MNT" >>"$TMP/daemon.log" 2>&1 &
	PID=$!
	wait_until 10 "test -r '$MNT/README'" || fail "$1: mount"
	mkdir "$MNT/$1" && spec "$1" >"$MNT/$1/spec.yaml" || fail "$1: spec"
	wait_until 90 "[ \$(grep -l '^start\$' '$MNT/$1'/trials/*/log 2>/dev/null | wc -l) -eq $N ]" ||
		fail "$1: not all $N trials started: $(grep -l '^start$' "$MNT/$1"/trials/*/log | wc -l)"
	most=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		c=$(conns "$3")
		[ "$c" -gt "$most" ] && most=$c
		sleep 0.2
	done
	touch "$TMP/release-$1"
	wait_state "$1" Succeeded 120
	grep -q "^succeeded=$N\$" "$MNT/$1/status" ||
		fail "$1: $(cat "$MNT/$1/status")"
	for t in $(seq $N); do
		[ "$(grep -c ',loss,' "$MNT/$1/trials/$t/observations")" = 1 ] ||
			fail "$1 trial $t observations: $(cat "$MNT/$1/trials/$t/observations")"
	done
	unmount_fs || fail "$1: unmount"
	echo "$most" >"$TMP/most-$1"
}

run h2 "$TMP/kubeconfig.h2" "$FPORT"
most=$(cat "$TMP/most-h2")
echo "HTTP/2: $N log streams open over $most TCP connection(s)"
[ "$most" -ge 1 ] && [ "$most" -le 4 ] ||
	fail "HTTP/2: $most TCP connections for $N log streams (at most 4)"

run h1 "$K8S/kubeconfig" "$BPORT"
most=$(cat "$TMP/most-h1")
echo "HTTP/1.1: $N log streams open over $most TCP connection(s)"
[ "$most" -ge $N ] ||
	fail "HTTP/1.1: $most TCP connections for $N open log streams"
exit 0
