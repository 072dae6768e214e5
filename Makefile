# imsd — plain GNU make, one build dir per variant (build/, build-asan/).
# `make run` and `make test` are the two front doors (see README.md).

BUILD    ?= build
CC       ?= gcc
PKGS     := libmicrohttpd jansson sqlite3 libpq libcrypto libargon2 inih libvirt libxml-2.0 libcurl
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wno-unused-parameter -Wformat=2 -Wvla
CFLAGS   ?= -O2 -g
override CFLAGS += -std=gnu17 $(WARN) -Iinclude -D_GNU_SOURCE -pthread \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# libvirt's headers only: lib/compute/libvirt_api.c loads the library when a
# libvirt compute source opens (linked, it and its dependencies were 3.6 MiB of RSS).
LINK_PKGS := $(filter-out libvirt,$(PKGS))
# ASan finds the real functions behind its interceptors when the program
# starts; libvirt's RPC calls libtirpc's xdr_* through them, NULL had libtirpc
# come later with libvirt (SEGV at pc 0). The sanitized build links libtirpc.
comma     := ,
SAN_LIBS  := $(if $(findstring -fsanitize=address,$(CFLAGS)),-Wl$(comma)--push-state$(comma)--no-as-needed \
               $(shell pkg-config --libs libtirpc 2>/dev/null) -Wl$(comma)--pop-state)
override LDLIBS += $(shell pkg-config --libs $(LINK_PKGS) 2>/dev/null) $(SAN_LIBS) -pthread -lm

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
COMMON_SRC := $(wildcard src/common/*.c)
IMSD_SRC := $(wildcard src/imsd/*.c) $(COMMON_SRC)
CTL_SRC  := $(wildcard src/imsctl/*.c) $(COMMON_SRC)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Each fuzz target is also built with fuzz/fuzz_main.c into a replay program
# that runs it over its committed corpus (fuzz/corpus/<name>/) in every test run.
FUZZ_SRC := $(filter-out fuzz/fuzz_main.c,$(wildcard fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz-replay/%)

.PHONY: all deps run test test-unit test-api test-api-pg test-asan fuzz fuzz-merge bench clean
all: $(BUILD)/imsd $(BUILD)/imsctl $(UNIT_BIN) $(FUZZ_REPLAY)

# V=1 shows the full commands.
Q := $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# Data compiled into the library: data/os_versions.tsv as one C string.
GEN_OBJ  := $(BUILD)/gen/os_versions_data.o
$(BUILD)/gen/os_versions_data.c: data/os_versions.tsv
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo "  GEN     $@")
	$(Q){ printf 'extern const char ims_os_versions_tsv[];\nconst char ims_os_versions_tsv[] =\n'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; \
	  printf '    "";\n'; } > $@
# data/metadefs_schemas.json (Glance 25's metadata definition schemas) likewise.
GEN_OBJ  += $(BUILD)/gen/metadefs_schemas_data.o
$(BUILD)/gen/metadefs_schemas_data.c: data/metadefs_schemas.json
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo "  GEN     $@")
	$(Q){ printf 'extern const char ims_metadefs_schemas_json[];\nconst char ims_metadefs_schemas_json[] =\n'; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/\t/\\t/g' -e 's/^/    "/' -e 's/$$/\\n"/' $<; \
	  printf '    "";\n'; } > $@
$(BUILD)/gen/%_data.o: $(BUILD)/gen/%_data.c
	@$(if $(V),true,echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libims.a: $(LIB_OBJ) $(GEN_OBJ)
	@$(if $(V),true,echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/imsd: $(IMSD_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libims.a
	@$(if $(V),true,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/imsctl: $(CTL_SRC:%.c=$(BUILD)/%.o) $(BUILD)/libims.a
	@$(if $(V),true,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(BUILD)/libims.a
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(BUILD)/fuzz-replay/%: $(BUILD)/fuzz/%.o $(BUILD)/fuzz/fuzz_main.o $(BUILD)/libims.a
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

# libFuzzer programs: scripts/fuzz.sh builds them with clang and BUILD=build-fuzz,
# the library compiled once with -fsanitize=fuzzer-no-link (coverage only).
$(BUILD)/fuzz-bin/%: $(BUILD)/fuzz/%.o $(BUILD)/libims.a
	@mkdir -p $(dir $@)
	@$(if $(V),true,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

# Objects reached only through pattern rules (tests, fuzz targets) are kept,
# not deleted as make's intermediates, so relinking is cheap.
.SECONDARY:

deps:
	@scripts/install-deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory all
	@scripts/test.sh

test-unit: all
	@scripts/test.sh unit

test-api: all
	@scripts/test.sh api

test-api-pg: all
	@scripts/test.sh api-pg

test-asan: deps
	@scripts/test.sh asan

# FUZZ_SECONDS per target (default 60); fails on any finding.
fuzz: deps
	@scripts/fuzz.sh

# Adds the coverage-adding inputs of earlier `make fuzz` runs to fuzz/corpus/.
fuzz-merge: deps
	@scripts/fuzz.sh merge

$(BUILD)/authz_bench: $(BUILD)/bench/authz_bench.o $(BUILD)/libims.a
	@$(if $(V),true,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/convert_bench: $(BUILD)/bench/convert_bench.o $(BUILD)/libims.a
	@$(if $(V),true,echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

bench: deps all $(BUILD)/authz_bench $(BUILD)/convert_bench
	@$(BUILD)/authz_bench
	@$(BUILD)/convert_bench
	@bench/run.sh
	@/usr/bin/python3 bench/ims_bench.py
	@/usr/bin/python3 bench/catalog_bench.py

clean:
	rm -rf build build-asan build-fuzz

# Every object's header dependencies, tests, fuzz targets and benchmarks
# included: a stale object built against an older struct layout corrupts
# memory at run time.
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
