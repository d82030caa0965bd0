# tests/fuzz/fuzz.mk - the libFuzzer harnesses, built by scripts/fuzz.sh.
#
# The core is compiled again with clang and the main Makefile's flags plus
# the fuzzer instrumentation and sanitizers, into build/fuzz/ (never build/
# itself). Keep PKGS, WARN and CPPFLAGS in step with the Makefile.
#
# The core is built without -Werror here: clang warns about things gcc does
# not (-Wmissing-field-initializers on `{NULL}`), and a warning in someone
# else's module must not turn `make test` red through fuzz-smoke. The
# harnesses themselves are built with -Werror.

CC := $(FUZZ_CC)
FUZZ_BUILD ?= build/fuzz
PKGS := fuse3 yaml-0.1 libcjson sqlite3 libcurl libpcre2-8 lapacke openblas zlib
WARN := -Wall -Wextra -Wno-unused-parameter -Wno-format-truncation \
	-Wshadow -Wstrict-prototypes -Wno-unknown-warning-option \
	-Wno-missing-field-initializers
CPPFLAGS := -Iinclude -Icore -D_GNU_SOURCE -DKATIBFS_VERSION=\"fuzz\"
SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FLAGS := -std=c11 $(WARN) -O1 -g $(SAN) -MMD -MP \
	$(shell pkg-config --cflags $(PKGS))
LDLIBS := $(shell pkg-config --libs $(PKGS)) -lpthread -lm

SHIM_SRC := $(wildcard core/backends/supervisor/*.c)
SHIM_UTIL := core/util/mkdir_p.c
CORE_SRC := $(sort $(filter-out $(SHIM_SRC),$(wildcard core/*/*.c core/*/*/*.c)))
CORE_OBJ := $(CORE_SRC:%.c=$(FUZZ_BUILD)/%.o)
HARNESS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,\
	$(wildcard tests/fuzz/fuzz_*.c))

all: $(HARNESS) $(FUZZ_BUILD)/katibfs-shim

# The trial supervisor, found beside the harness binaries (fuzz_control).
$(FUZZ_BUILD)/katibfs-shim: $(SHIM_SRC) $(SHIM_UTIL) \
		$(wildcard core/backends/supervisor/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 -O2 -g -Icore -o $@ $(SHIM_SRC) $(SHIM_UTIL)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(FLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libkatib-fuzz.a: $(CORE_OBJ)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_BUILD)/tests/fuzz/%.o: tests/fuzz/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(FLAGS) -Werror -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/tests/fuzz/fuzz_%.o \
		$(FUZZ_BUILD)/libkatib-fuzz.a
	$(CC) $(FLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

.PRECIOUS: $(FUZZ_BUILD)/tests/fuzz/%.o
.PHONY: all
-include $(CORE_OBJ:.o=.d) \
	$(patsubst $(FUZZ_BUILD)/%,$(FUZZ_BUILD)/tests/fuzz/%.d,$(HARNESS))
