#!/bin/sh
# scripts/fuzz.sh - build and run the libFuzzer harnesses (tests/fuzz/).
#
#   sh scripts/fuzz.sh build          build build/fuzz/fuzz_* only
#   sh scripts/fuzz.sh smoke          replay each harness's corpus and
#                                     regressions, plus a short fixed-seed
#                                     mutation run; fails on any crash
#   sh scripts/fuzz.sh run SECONDS    fuzz each harness for SECONDS
#
# New corpus entries and crash artifacts go to build/fuzz/work/<harness>/
# (scratch), never into the repository: copy a crashing input into
# tests/fuzz/regressions/<harness>/ once it is fixed.
#
# Needs clang with its fuzzer runtime. As root they are installed when
# missing (Debian: clang, libclang-rt-14-dev); otherwise the smoke run is
# skipped with a message and `run` fails.
set -eu

FUZZ_BUILD=${FUZZ_BUILD:-build/fuzz}
HARNESSES=${FUZZ_HARNESSES:-"spec metrics control kube collectors"}
mode=${1:-smoke}
seconds=${2:-60}

have_fuzzer() {
	cc=$1
	command -v "$cc" >/dev/null 2>&1 || return 1
	tmp=$(mktemp -d)
	printf '%s\n' '#include <stdint.h>' '#include <stddef.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)' \
		'{ return 0; }' >"$tmp/t.c"
	if "$cc" -fsanitize=fuzzer,address,undefined -o "$tmp/t" "$tmp/t.c" \
		>/dev/null 2>&1; then
		rm -rf "$tmp"
		return 0
	fi
	rm -rf "$tmp"
	return 1
}

find_clang() {
	for c in ${FUZZ_CC:-} clang clang-14; do
		if have_fuzzer "$c"; then
			FUZZ_CC=$c
			return 0
		fi
	done
	return 1
}

if ! find_clang; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "fuzz: installing clang and its fuzzer runtime"
		pkgs="clang"
		if apt-cache show libclang-rt-14-dev >/dev/null 2>&1; then
			pkgs="$pkgs libclang-rt-14-dev"
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y $pkgs ||
			{ apt-get update && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y $pkgs; }
	fi
	if ! find_clang; then
		msg="clang with -fsanitize=fuzzer is not available (as root: apt-get install clang libclang-rt-14-dev)"
		if [ "$mode" = smoke ]; then
			echo "fuzz-smoke: SKIPPED: $msg"
			exit 0
		fi
		echo "fuzz: $msg" >&2
		exit 1
	fi
fi
export FUZZ_CC

jobs=$(nproc 2>/dev/null || echo 2)
make --no-print-directory -j"$jobs" -f tests/fuzz/fuzz.mk \
	FUZZ_CC="$FUZZ_CC" FUZZ_BUILD="$FUZZ_BUILD"
[ "$mode" = build ] && exit 0

# ASan: no leak check at exit for the control harness (its controller
# thread is still running then); libFuzzer checks leaks per input.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/fuzz/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Existing, non-empty input directories of harness $1.
inputs() {
	for d in tests/fuzz/corpus/$1 tests/fuzz/regressions/$1; do
		if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then
			printf '%s ' "$d"
		fi
	done
}

dict() {
	if [ -f tests/fuzz/$1.dict ]; then
		printf '%s' "-dict=tests/fuzz/$1.dict"
	fi
}

status=0
for h in $HARNESSES; do
	bin=$FUZZ_BUILD/fuzz_$h
	work=$FUZZ_BUILD/work/$h
	mkdir -p "$work/corpus" "$work/artifacts"
	log=$work/$mode.log
	case $mode in
	smoke)
		# Every seed and regression input once, then a short
		# mutation run from a fixed seed.
		start=$(date +%s)
		runs=${FUZZ_SMOKE_RUNS:-4000}
		# The control harness waits for real trial processes.
		[ $h = control ] && runs=${FUZZ_SMOKE_RUNS:-300}
		rm -rf "$work/smoke-corpus"
		mkdir -p "$work/smoke-corpus"
		if ! "$bin" -runs=0 -timeout=30 \
			-artifact_prefix="$work/artifacts/" \
			"$work/smoke-corpus" $(inputs $h) >"$log" 2>&1 ||
		   ! "$bin" -runs=$runs -seed=1 \
			-timeout=30 -max_len=4096 $(dict $h) \
			-artifact_prefix="$work/artifacts/" \
			"$work/smoke-corpus" $(inputs $h) >>"$log" 2>&1; then
			echo "fuzz-smoke: fuzz_$h FAILED; see $log"
			tail -n 40 "$log"
			status=1
			continue
		fi
		n=$(for d in $(inputs $h); do ls "$d"; done | wc -l)
		echo "fuzz-smoke: fuzz_$h ok ($n inputs replayed," \
			"$runs mutations, $(($(date +%s) - start))s)"
		;;
	run)
		echo "fuzz: fuzz_$h for ${seconds}s (log: $log)"
		if ! "$bin" -max_total_time="$seconds" -timeout=30 \
			-print_final_stats=1 $(dict $h) \
			-artifact_prefix="$work/artifacts/" \
			"$work/corpus" $(inputs $h) >"$log" 2>&1; then
			echo "fuzz: fuzz_$h FOUND A CRASH; see $log and" \
				"$work/artifacts/"
			tail -n 40 "$log"
			status=1
		fi
		grep -E '^#[0-9]+.*(DONE|pulse)' "$log" | tail -n 1 || true
		grep -E '^stat::' "$log" || true
		;;
	*)
		echo "usage: $0 build | smoke | run SECONDS" >&2
		exit 2
		;;
	esac
done
exit $status
