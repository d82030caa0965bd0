# katibfs - Kubeflow Katib as a filesystem. Plain GNU make.
#
#   make            build ./katibfs
#   make deps       install the Debian packages needed (as root) or name them
#   make demo       mount, run examples/demo.yaml to completion, show the results
#   make test       unit tests (cmocka) + mounted filesystem tests
#   make check      the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make valgrind   unit tests under valgrind
#   make bench      benchmarks (bench/)
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format the sources

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
PKGS := fuse3 yaml-0.1 libcjson sqlite3 libcurl libpcre2-8 lapacke openblas
CFLAGS ?= -O2 -g
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wno-format-truncation -Wshadow -Wstrict-prototypes
CPPFLAGS += -Iinclude -D_GNU_SOURCE -DKATIBFS_VERSION=\"$(VERSION)\"
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SAN) -MMD -MP $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
VERSION := 0.1.0

CORE_SRC := $(sort $(wildcard core/*.c core/algorithms/*.c core/earlystopping/*.c core/kube/*.c))
FS_SRC := $(sort $(wildcard fs/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
FS_OBJ := $(FS_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps demo test unit fstest check valgrind bench clean install format

all: $(BUILD)/.deps-ok katibfs katibfs-shim

$(BUILD)/.deps-ok: scripts/deps.sh
	@sh scripts/deps.sh build
	@mkdir -p $(BUILD) && touch $@

deps:
	@sh scripts/deps.sh test

katibfs: $(BUILD)/katibfs
	cp $< $@

# The per-trial supervisor: static and tiny, so starting it is cheap; never
# built with sanitizers (it is exec'd, and static linking excludes them).
katibfs-shim: $(BUILD)/katibfs-shim
	cp $< $@

$(BUILD)/katibfs-shim: core/supervisor/katibfs-shim.c | $(BUILD)/.deps-ok
	$(CC) -std=c11 $(WARN) -O2 -static -o $@ $<

$(BUILD)/katibfs: $(FS_OBJ) $(BUILD)/libkatib.a $(BUILD)/katibfs-shim
	$(CC) $(ALL_CFLAGS) -o $@ $(FS_OBJ) $(BUILD)/libkatib.a $(LDLIBS)

$(BUILD)/libkatib.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkatib.a $(BUILD)/katibfs-shim
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libkatib.a $(LDLIBS) -lcmocka

unit: $(UNIT_BIN)
	@failed=; for t in $(UNIT_BIN); do echo "== $$t"; $$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "unit tests failed:$$failed"; exit 1; fi

fstest: $(BUILD)/katibfs
	@sh scripts/deps.sh test
	KATIBFS=$(abspath $(BUILD)/katibfs) sh tests/fs/run.sh

test: deps all unit fuzz-smoke fstest

# libFuzzer harnesses (tests/fuzz/, clang, built in build/fuzz/):
# fuzz-smoke replays each corpus briefly, fuzz runs each FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
.PHONY: fuzz fuzz-smoke
fuzz-smoke:
	@sh scripts/fuzz.sh smoke
fuzz:
	@sh scripts/fuzz.sh run $(FUZZ_SECONDS)

check:
	$(MAKE) BUILD=build/san SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" CFLAGS="-O1 -g" test

valgrind: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do valgrind -q --error-exitcode=1 --leak-check=full $$t; done

demo: all
	sh scripts/demo.sh

bench: all $(BUILD)/algo_harness $(BUILD)/latency
	sh bench/run.sh

$(BUILD)/algo_harness $(BUILD)/latency: $(BUILD)/%: bench/%.c bench/bench_functions.h $(BUILD)/libkatib.a
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libkatib.a $(LDLIBS)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/libexec/katibfs \
		$(DESTDIR)$(PREFIX)/share/katibfs/examples \
		$(DESTDIR)$(PREFIX)/lib/systemd/user
	install -m 755 katibfs $(DESTDIR)$(PREFIX)/bin/katibfs
	install -m 755 katibfs-shim $(DESTDIR)$(PREFIX)/libexec/katibfs/katibfs-shim
	sed 's|/usr/local|$(PREFIX)|g' docs/katibfs.1 >$(DESTDIR)$(PREFIX)/share/man/man1/katibfs.1
	chmod 644 $(DESTDIR)$(PREFIX)/share/man/man1/katibfs.1
	cp -R examples/. $(DESTDIR)$(PREFIX)/share/katibfs/examples/
	sed 's|/usr/local/bin/katibfs|$(PREFIX)/bin/katibfs|' contrib/systemd/katibfs@.service \
		>$(DESTDIR)$(PREFIX)/lib/systemd/user/katibfs@.service
	chmod 644 $(DESTDIR)$(PREFIX)/lib/systemd/user/katibfs@.service

format:
	clang-format -i $(CORE_SRC) $(FS_SRC) $(UNIT_SRC) include/katib/*.h core/supervisor/*.c

clean:
	rm -rf build katibfs

-include $(CORE_OBJ:.o=.d) $(FS_OBJ:.o=.d)
