# mk/gen.mk: the unit generator vigil-unit (C), its templates, golden/round-trip/cmocka/fuzz
# tests and its bench. Objects go to $(BUILD)/gen, the binary and templates to priv/.

GEN_SRC := $(TOP)/c_src/gen
GEN_BUILD := $(BUILD)/gen
GEN_TEST := $(TOP)/test/gen
# UTF-8 by systemd's rules is shared with the notification core.
GEN_SHARED_SRCS := $(TOP)/c_src/core/vigil_utf8.c
GEN_INCLUDES := -I$(GEN_SRC) -I$(TOP)/c_src/core
GEN_LIB_SRCS := $(addprefix $(GEN_SRC)/,buf.c escape.c io.c opts.c opts_help.c config.c sdver.c model.c names.c \
	exec_env.c hardening.c exposure_table_252.c exposure_table_257.c sandbox.c sections.c sockets.c sockspec.c overrides.c \
	cluster.c \
	render.c cli.c) \
	$(GEN_SHARED_SRCS)
GEN_SRCS := $(GEN_LIB_SRCS) $(GEN_SRC)/main.c
# Helpers only the tests use (reading escaped values back); not part of the binary.
GEN_TEST_SRCS := $(GEN_TEST)/unquote.c
GEN_TEST_HDRS := $(GEN_TEST)/unquote.h
GEN_TEMPLATES := $(wildcard $(TOP)/templates/*)
GEN_BIN := $(PRIV)/vigil-unit

APT_PACKAGES += systemd python3 libcmocka-dev valgrind cppcheck clang-tidy clang-format clang \
	libclang-rt-14-dev
ALL_TARGETS += $(GEN_BIN) $(patsubst $(TOP)/templates/%,$(PRIV)/templates/%,$(GEN_TEMPLATES))
TEST_TARGETS += test-gen
BENCH_TARGETS += bench-gen
FUZZ_TARGETS += fuzz-gen
LINT_TARGETS += lint-gen
CLEAN_DIRS += $(GEN_BUILD) $(PRIV)/templates
C_SOURCES += $(GEN_SRCS) $(wildcard $(GEN_SRC)/*.h) $(GEN_TEST)/gen_test.c $(GEN_TEST)/fuzz_gen.c \
	$(GEN_TEST_SRCS) $(GEN_TEST_HDRS)

GEN_OBJS := $(patsubst $(TOP)/c_src/%.c,$(GEN_BUILD)/%.o,$(GEN_SRCS))
# The one-step binaries (tests, fuzz target) compile every source at once: any header change
# rebuilds them.
GEN_HDRS := $(wildcard $(GEN_SRC)/*.h) $(TOP)/c_src/core/vigil_utf8.h

.PHONY: test-gen test-gen-golden test-gen-roundtrip test-gen-unit test-gen-asan test-gen-valgrind \
	test-gen-fuzz-quick test-gen-cli test-gen-exposure bench-gen fuzz-gen lint-gen gen-golden-update \
	gen-exposure-update gen-exposure-update-257

$(GEN_BUILD)/%.o: $(TOP)/c_src/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(GEN_INCLUDES) -c $< -o $@

$(GEN_BIN): $(GEN_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $^ -o $@

$(PRIV)/templates/%: $(TOP)/templates/%
	@mkdir -p $(@D)
	$(Q)cp $< $@

-include $(GEN_OBJS:.o=.d)

# cmocka suite, built plain, with ASan/UBSan, and run under valgrind.
$(GEN_BUILD)/gen_test: $(GEN_TEST)/gen_test.c $(GEN_LIB_SRCS) $(GEN_TEST_SRCS) $(GEN_HDRS) \
		$(GEN_TEST_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(GEN_INCLUDES) -I$(GEN_TEST) $(filter %.c,$^) -lcmocka -o $@

$(GEN_BUILD)/gen_test_asan: $(GEN_TEST)/gen_test.c $(GEN_LIB_SRCS) $(GEN_TEST_SRCS) $(GEN_HDRS) \
		$(GEN_TEST_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) $(GEN_INCLUDES) -I$(GEN_TEST) $(filter %.c,$^) -lcmocka -o $@

$(GEN_BUILD)/vigil-unit-asan: $(GEN_SRCS) $(GEN_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) $(GEN_INCLUDES) $(filter %.c,$^) -o $@

$(GEN_BUILD)/fuzz_gen: $(GEN_TEST)/fuzz_gen.c $(GEN_LIB_SRCS) $(GEN_TEST_SRCS) $(GEN_HDRS) \
		$(GEN_TEST_HDRS)
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) $(GEN_INCLUDES) -I$(GEN_TEST) $(filter %.c,$^) -o $@

test-gen: test-gen-unit test-gen-asan test-gen-valgrind test-gen-cli test-gen-golden \
	test-gen-roundtrip test-gen-exposure test-gen-fuzz-quick
	@echo "vigil-unit: all generator tests passed"

test-gen-unit: $(GEN_BUILD)/gen_test
	$(Q)$<

test-gen-asan: $(GEN_BUILD)/gen_test_asan
	$(Q)ASAN_OPTIONS=detect_leaks=1 $<

test-gen-valgrind: $(GEN_BUILD)/gen_test
	$(Q)$(VALGRIND) $< >/dev/null

test-gen-cli: $(GEN_BUILD)/vigil-unit-asan all
	$(Q)VIGIL_UNIT=$(GEN_BUILD)/vigil-unit-asan TEMPLATES=$(TOP)/templates $(GEN_TEST)/cli_test.sh

test-gen-golden: all
	$(Q)python3 $(GEN_TEST)/golden.py --bin $(GEN_BIN) --templates $(TOP)/templates --cases $(GEN_TEST)/cases

gen-golden-update: all
	$(Q)python3 $(GEN_TEST)/golden.py --bin $(GEN_BIN) --templates $(TOP)/templates --cases $(GEN_TEST)/cases --update

# Every combination the exposure table covers, generated and scored again.
test-gen-exposure: all
	$(Q)python3 $(GEN_TEST)/exposure.py --bin $(GEN_BIN) --templates $(TOP)/templates --check

# Regenerates 252's table from this host's systemd-analyze (Debian 12's 252), and 257's from
# the Debian 13 container's (test/e2e/trixie_test.sh, as root).
gen-exposure-update: all
	$(Q)python3 $(GEN_TEST)/exposure.py --bin $(GEN_BIN) --templates $(TOP)/templates \
		--systemd 252 --write $(GEN_SRC)/exposure_table_252.c
	$(Q)clang-format -i $(GEN_SRC)/exposure_table_252.c

gen-exposure-update-257:
	$(Q)VIGIL_EXPOSURE_WRITE=$(GEN_SRC)/exposure_table_257.c $(TOP)/test/e2e/trixie_test.sh exposure
	$(Q)clang-format -i $(GEN_SRC)/exposure_table_257.c

test-gen-roundtrip: all
	$(Q)python3 $(GEN_TEST)/roundtrip.py --bin $(GEN_BIN) --templates $(TOP)/templates

test-gen-fuzz-quick: $(GEN_BUILD)/fuzz_gen
	@mkdir -p $(GEN_BUILD)/fuzz-corpus
	$(Q)$< -max_total_time=$(FUZZ_QUICK_SECONDS) -max_len=2048 -artifact_prefix=$(GEN_BUILD)/ \
		$(GEN_BUILD)/fuzz-corpus \
		$(GEN_TEST)/fuzz-seeds 2>$(GEN_BUILD)/fuzz-quick.log || { tail -40 $(GEN_BUILD)/fuzz-quick.log; exit 1; }

fuzz-gen: $(GEN_BUILD)/fuzz_gen
	@mkdir -p $(GEN_BUILD)/fuzz-corpus
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -artifact_prefix=$(GEN_BUILD)/ \
		$(GEN_BUILD)/fuzz-corpus $(GEN_TEST)/fuzz-seeds

bench-gen: all
	$(Q)python3 $(TOP)/bench/gen_bench.py --bin $(GEN_BIN) --templates $(TOP)/templates

# The shared lint policy (see the top Makefile and .clang-tidy).
lint-gen:
	$(Q)$(CPPCHECK) $(GEN_INCLUDES) $(GEN_SRCS)
	$(Q)$(call clang_tidy,$(GEN_SRCS),$(CSTD) $(GEN_INCLUDES))
	$(Q)$(CLANG_FORMAT_CHECK) $(GEN_SRCS) $(wildcard $(GEN_SRC)/*.h) $(GEN_TEST)/gen_test.c \
		$(GEN_TEST)/fuzz_gen.c $(GEN_TEST_SRCS) $(GEN_TEST_HDRS)
