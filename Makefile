# katibfs - Kubeflow Katib as a filesystem. Plain GNU make.
#
#   make            build ./katibfs and ./katibfs-shim (never installs packages)
#   make deps       install the Debian packages needed (as root) or name them
#   make demo       deps, then mount, run examples/demo.yaml, show the results
#   make test       deps, then format-check + unit tests (cmocka) + fuzz smoke
#                   + mounted filesystem tests
#   make check      the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make tsan       the threaded tests under ThreadSanitizer (build/tsan)
#   make valgrind   unit tests under valgrind
#   make bench      benchmarks (bench/)
#   make install    PREFIX=/usr/local DESTDIR=
#   make format     clang-format the sources; format-check only checks
#   make structure-check  no include cycle, no comment naming what is gone
#   make job-schema regenerate core/spec/job_schema.c (tools/gen_job_schema.py)
#   make clean      remove everything built
#   make CC=clang   build with clang (same -Werror warnings)

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
PKGS := fuse3 yaml-0.1 libcjson sqlite3 libcurl libpcre2-8 lapacke openblas zlib
CFLAGS ?= -O2 -g
# -Wformat-truncation is gcc's alone (clang rejects the option).
IS_CLANG := $(shell $(CC) --version 2>/dev/null | grep -q clang && echo 1)
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wshadow -Wstrict-prototypes \
	$(if $(IS_CLANG),,-Wno-format-truncation)
CPPFLAGS += -Iinclude -Icore -D_GNU_SOURCE -DKATIBFS_VERSION=\"$(VERSION)\"
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SAN) -MMD -MP $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
VERSION := 0.1.0

# Every module under core/ (one folder per part of the architecture; see
# README "Source layout"), except the shim (core/backends/supervisor/), a
# program of its own. SHIM_UTIL: what of core/util/ the shim links too
# (libc only).
SHIM_SRC := $(wildcard core/backends/supervisor/*.c)
SHIM_UTIL := core/util/mkdir_p.c
CORE_SRC := $(sort $(filter-out $(SHIM_SRC),$(wildcard core/*/*.c core/*/*/*.c)))
FS_SRC := $(sort $(wildcard fs/*.c))
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
# What the unit tests share (tests/unit/*.c that are not a test_*.c suite),
# linked into every unit test binary.
UNIT_LIB_SRC := $(sort $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c)))
UNIT_LIB_OBJ := $(UNIT_LIB_SRC:%.c=$(BUILD)/%.o)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
FS_OBJ := $(FS_SRC:%.c=$(BUILD)/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps demo test test-run unit fstest check valgrind bench clean \
	install format format-check tsan tsan-run job-schema job-schema-check


all: katibfs katibfs-shim

# The compiler and flags of this build tree, written when they change:
# everything built depends on the file, so `make CC=clang` after `make` (or
# new CFLAGS) compiles everything again instead of mixing two compilers'
# objects.
FLAGS_FILE := $(BUILD)/.flags
FLAGS_NOW := $(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(LDLIBS)
ifneq ($(FLAGS_NOW),$(shell cat $(FLAGS_FILE) 2>/dev/null))
$(shell mkdir -p $(BUILD) && printf '%s\n' '$(FLAGS_NOW)' >$(FLAGS_FILE))
endif

# Packages are installed here only; `test` and `demo` run it in a make of
# its own first, so nothing compiles (even under -j) before it is done.
# LDLIBS and ALL_CFLAGS are recursively expanded, so pkg-config runs after.
deps:
	@sh scripts/deps.sh test

katibfs: $(BUILD)/katibfs
	cp $< $@

# The per-trial supervisor: static and tiny, so starting it is cheap; never
# built with sanitizers (it is exec'd, and static linking excludes them).
katibfs-shim: $(BUILD)/katibfs-shim
	cp $< $@

$(BUILD)/katibfs-shim: $(SHIM_SRC) $(SHIM_UTIL) $(SHIM_UTIL:.c=.h) \
		$(wildcard core/backends/supervisor/*.h) $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(WARN) -O2 -static -Icore -o $@ $(SHIM_SRC) $(SHIM_UTIL)

$(BUILD)/katibfs: $(FS_OBJ) $(BUILD)/libkatib.a $(BUILD)/katibfs-shim
	$(CC) $(ALL_CFLAGS) -o $@ $(FS_OBJ) $(BUILD)/libkatib.a $(LDLIBS)

$(BUILD)/libkatib.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(UNIT_BIN): $(BUILD)/tests/%: tests/unit/%.c $(UNIT_LIB_OBJ) $(BUILD)/libkatib.a $(BUILD)/katibfs-shim $(FLAGS_FILE)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MF $@.d -MT $@ -o $@ $< $(UNIT_LIB_OBJ) $(BUILD)/libkatib.a $(LDLIBS) -lcmocka $(UNIT_LDFLAGS)

# test_suggest_race holds the controller where a suggestion computed off the
# model lock ends (ld --wrap; the product has no hook for it).
$(BUILD)/tests/test_suggest_race: UNIT_LDFLAGS := -Wl,--wrap=search_history_attach_used
# test_rmdir_wait holds rmdir where it waits for the store (ld --wrap).
$(BUILD)/tests/test_rmdir_wait: UNIT_LDFLAGS := -Wl,--wrap=store_sync
# test_render_oom fails allocations of the library one by one.
$(BUILD)/tests/test_render_oom: UNIT_LDFLAGS := \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=strdup,--wrap=strndup

unit: $(UNIT_BIN)
	@failed=; for t in $(UNIT_BIN); do echo "== $$t"; $$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "unit tests failed:$$failed"; exit 1; fi

fstest: $(BUILD)/katibfs
	KATIBFS=$(abspath $(BUILD)/katibfs) sh tests/fs/run.sh

test:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory test-run

test-run: format-check job-schema-check
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory structure-check
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory fstest

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

demo:
	@$(MAKE) --no-print-directory deps
	@$(MAKE) --no-print-directory all
	sh scripts/demo.sh

bench: all $(BUILD)/algo_harness $(BUILD)/latency $(BUILD)/mo_harness $(BUILD)/importance $(BUILD)/tests/test_importance $(BUILD)/lockhold.so
	sh bench/run.sh

$(BUILD)/algo_harness $(BUILD)/latency $(BUILD)/mo_harness $(BUILD)/importance: $(BUILD)/%: bench/%.c bench/bench_functions.h $(BUILD)/libkatib.a $(FLAGS_FILE)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MF $@.d -MT $@ -o $@ $< $(BUILD)/libkatib.a $(LDLIBS)

# bench/lockhold.c: LD_PRELOAD timing of the model lock's holds (see its head).
$(BUILD)/lockhold.so: bench/lockhold.c
	$(CC) -O2 -g -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

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

# Every C source and header of ours (not tests/fuzz corpora).
FORMAT_SRC = $(sort $(wildcard core/*/*.[ch] core/*/*/*.[ch] fs/*.[ch] \
	include/katib/*.h tests/unit/*.[ch] tests/fuzz/*.c bench/*.[ch]))

format:
	clang-format -i $(FORMAT_SRC)

# The batch/v1 Job schema a Job trialSpec is checked against
# (core/spec/job_check.c), generated from Kubernetes' OpenAPI definitions
# (not part of the tree: K8S_OPENAPI names the file). job-schema-check
# fails when the committed table is not what the script writes, and says
# it skipped when the definitions are not on this machine.
K8S_OPENAPI ?= /work/shared/kubernetes/batch-v1-job.openapi.json
job-schema:
	python3 tools/gen_job_schema.py $(K8S_OPENAPI) > core/spec/job_schema.c.tmp
	mv core/spec/job_schema.c.tmp core/spec/job_schema.c

job-schema-check:
	@if [ ! -r $(K8S_OPENAPI) ]; then \
		echo "job-schema-check: skipped ($(K8S_OPENAPI) absent)"; \
	else python3 tools/gen_job_schema.py $(K8S_OPENAPI) | \
		diff -u core/spec/job_schema.c - >/dev/null && \
		echo "job-schema-check: core/spec/job_schema.c is what tools/gen_job_schema.py writes" || \
		{ echo "job-schema-check: core/spec/job_schema.c differs from tools/gen_job_schema.py's output; run make job-schema"; exit 1; }; fi

# The structure: no include cycle between modules (scripts/modgraph.sh,
# on the objects of $(BUILD)), and no comment naming a file or function
# that does not exist (scripts/comment-names.sh).
.PHONY: structure-check
structure-check: $(BUILD)/libkatib.a
	@sh scripts/modgraph.sh -q $(BUILD)
	@sh scripts/comment-names.sh

format-check:
	@clang-format --dry-run -Werror $(FORMAT_SRC) && \
		echo "format-check: $(words $(FORMAT_SRC)) files ok"

# ThreadSanitizer: the unit tests that start the controller's threads and
# the mounted tests that drive the daemon from several processes. Reports
# go to build/tsan/logs (tests/tsan.supp: documented false positives only);
# any report fails the run.
# TSAN_FS: the mounted tests to run (all when empty).
TSAN_UNIT := test_katib test_kube_e2e test_suggest_race test_rmdir_wait \
	test_importance_task
TSAN_FS ?=
tsan:
	@$(MAKE) --no-print-directory BUILD=build/tsan SAN="-fsanitize=thread" \
		CFLAGS="-O1 -g" tsan-run

tsan-run: $(TSAN_UNIT:%=$(BUILD)/tests/%) $(BUILD)/katibfs $(BUILD)/katibfs-shim
	@rm -rf $(BUILD)/logs && mkdir -p $(BUILD)/logs
	@export TSAN_OPTIONS="suppressions=$(abspath tests/tsan.supp) log_path=$(abspath $(BUILD)/logs)/tsan second_deadlock_stack=1 history_size=4"; \
	failed=; for t in $(TSAN_UNIT); do echo "== $$t (tsan)"; \
		case $$t in \
		test_kube_e2e) sh tests/k8s/run.sh $(abspath $(BUILD))/tests/$$t || [ $$? -eq 77 ] ;; \
		*) $(BUILD)/tests/$$t ;; \
		esac || failed="$$failed $$t"; done; \
	KATIBFS=$(abspath $(BUILD)/katibfs) sh tests/fs/run.sh $(TSAN_FS) || failed="$$failed fstest"; \
	if ls $(BUILD)/logs/tsan.* >/dev/null 2>&1; then \
		echo "tsan: ThreadSanitizer reports:"; cat $(BUILD)/logs/tsan.*; failed="$$failed reports"; fi; \
	if [ -n "$$failed" ]; then echo "tsan failed:$$failed"; exit 1; fi; \
	echo "tsan: no reports"

clean:
	rm -rf build katibfs katibfs-shim
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

-include $(CORE_OBJ:.o=.d) $(FS_OBJ:.o=.d) $(UNIT_BIN:=.d) $(UNIT_LIB_OBJ:.o=.d) \
	$(BUILD)/algo_harness.d $(BUILD)/latency.d $(BUILD)/mo_harness.d \
	$(BUILD)/importance.d
