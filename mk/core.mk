# mk/core.mk: the notification core (C, no Erlang), the NIF, the Erlang/Elixir API and their tests.

APT_PACKAGES += erlang-dev erlang-nox erlang-eunit erlang-dialyzer erlang-tools elixir rebar3 \
	libcmocka-dev libsystemd-dev valgrind cppcheck clang-tidy clang-format libclang-rt-14-dev \
	erlang-proper

CORE_DIR := $(TOP)/c_src/core
CORE_HDRS := $(wildcard $(CORE_DIR)/*.h)
# Portable C plus exactly one platform layer (vigil_platform.h), chosen by VIGIL_PLATFORM.
CORE_PLATFORM_SRCS := $(wildcard $(CORE_DIR)/vigil_platform_*.c)
CORE_PORTABLE_SRCS := $(filter-out $(CORE_PLATFORM_SRCS),$(wildcard $(CORE_DIR)/*.c))
CORE_SRCS := $(CORE_PORTABLE_SRCS) $(CORE_DIR)/vigil_platform_$(VIGIL_PLATFORM).c
# The C tests send to real AF_UNIX receivers: they test the Linux platform whatever is chosen.
CORE_LINUX_SRCS := $(CORE_PORTABLE_SRCS) $(CORE_DIR)/vigil_platform_linux.c
NIF_SRC := $(wildcard $(TOP)/c_src/nif/*.c)
NIF_HDRS := $(wildcard $(TOP)/c_src/nif/*.h)
CORE_TESTS := core oracle journal listen pressure
CORE_TEST_SRCS := $(wildcard $(TOP)/test/c/*.c $(TOP)/test/c/*.h $(TOP)/test/c/musl/*.h)
CORE_TEST_HDRS := $(wildcard $(TOP)/test/c/*.h)
C_SOURCES += $(CORE_PORTABLE_SRCS) $(CORE_PLATFORM_SRCS) $(CORE_HDRS) $(NIF_SRC) $(NIF_HDRS) \
	$(CORE_TEST_SRCS) $(TOP)/bench/notify_bench.c $(TOP)/bench/journal_bench.c

ifeq ($(filter $(VIGIL_PLATFORM),linux none),)
$(error VIGIL_PLATFORM=$(VIGIL_PLATFORM): linux or none)
endif

ALL_TARGETS += $(PRIV)/vigil_nif.so
TEST_TARGETS += test-core-c test-erl test-ex
LINT_TARGETS += lint-core
BENCH_TARGETS += bench-core
FUZZ_TARGETS += fuzz-core

# ---- the NIF ----

NIF_OBJS := $(patsubst $(TOP)/c_src/%.c,$(BUILD)/pic/%.o,$(CORE_SRCS) $(NIF_SRC))
# Names the platform the last link used, so that changing VIGIL_PLATFORM relinks.
PLATFORM_STAMP := $(BUILD)/pic/platform
$(shell mkdir -p $(BUILD)/pic && { [ "$$(cat $(PLATFORM_STAMP) 2>/dev/null)" = $(VIGIL_PLATFORM) ] \
	|| echo $(VIGIL_PLATFORM) >$(PLATFORM_STAMP); })

$(BUILD)/pic/core/%.o: $(CORE_DIR)/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) -fPIC -fvisibility=hidden -c $< -o $@

$(BUILD)/pic/nif/%.o: $(TOP)/c_src/nif/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) -fPIC -fvisibility=hidden -I$(CORE_DIR) -isystem $(ERTS_INCLUDE_DIR) \
		-c $< -o $@

$(PRIV)/vigil_nif.so: $(NIF_OBJS) $(PLATFORM_STAMP)
	@mkdir -p $(@D)
	$(Q)$(CC) $(NIF_LDFLAGS) $(LDFLAGS) $(NIF_OBJS) -o $@

-include $(NIF_OBJS:.o=.d)

# ---- C tests: cmocka under ASan+UBSan, then under valgrind ----

# Compiled and linked in one step, so -MMD cannot name every header: they are listed instead.
# $(call core_test_rule,VARIANT,NAME,FLAGS,LIBS)
define core_test_rule
$(BUILD)/$(1)/test_$(2): $(TOP)/test/c/test_$(2).c $(TOP)/test/c/receiver.c $(CORE_LINUX_SRCS) \
		$(CORE_HDRS) $(CORE_TEST_HDRS)
	@mkdir -p $$(@D)
	$$(Q)$$(CC) $$(BASE_CFLAGS) $(3) -I$(CORE_DIR) -I$(TOP)/test/c $$(filter %.c,$$^) -o $$@ \
		-lcmocka $(4)
endef

# The suites that compare with libsystemd.
ORACLE_LIBS := -lsystemd
ORACLE_TESTS := oracle listen
$(foreach t,$(CORE_TESTS),$(eval $(call core_test_rule,asan,$(t),-O1 $(SAN_FLAGS),$(if $(filter $(ORACLE_TESTS),$(t)),$(ORACLE_LIBS)))))
$(foreach t,$(CORE_TESTS),$(eval $(call core_test_rule,plain,$(t),-O0,$(if $(filter $(ORACLE_TESTS),$(t)),$(ORACLE_LIBS)))))

.PHONY: test-core-c test-core-asan test-core-valgrind test-erl test-ex lint-core bench-core fuzz-core \
	fuzz-core-short fuzz-journal fuzz-journal-short fuzz-listen fuzz-listen-short fuzz-base64 \
	fuzz-base64-short dialyzer

test-core-c: test-core-asan test-core-valgrind fuzz-core-short fuzz-journal-short fuzz-listen-short \
	fuzz-base64-short

test-core-asan: $(foreach t,$(CORE_TESTS),$(BUILD)/asan/test_$(t))
	$(Q)for t in $^; do echo "== $$t (ASan+UBSan)"; \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 $$t || exit 1; done

test-core-valgrind: $(foreach t,$(CORE_TESTS),$(BUILD)/plain/test_$(t))
	$(Q)for t in $^; do echo "== $$t (valgrind)"; $(VALGRIND) $$t || exit 1; done

# ---- fuzzing (libFuzzer): address parser, assignment validator, text rewriting ----

$(BUILD)/fuzz/fuzz_notify: $(TOP)/test/c/fuzz_notify.c $(CORE_LINUX_SRCS) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -I$(CORE_DIR) $(filter %.c,$^) -o $@

fuzz-core-short: $(BUILD)/fuzz/fuzz_notify
	$(Q)mkdir -p $(BUILD)/fuzz/corpus
	$(Q)$< -max_total_time=$(FUZZ_QUICK_SECONDS) -print_final_stats=0 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus \
		2>$(BUILD)/fuzz/short.log || { tail -40 $(BUILD)/fuzz/short.log; exit 1; }
	@echo "== fuzz_notify: $(FUZZ_QUICK_SECONDS) s without a failure"

fuzz-core: $(BUILD)/fuzz/fuzz_notify
	$(Q)mkdir -p $(BUILD)/fuzz/corpus
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus

# The journal's encoder against journald's reading of it (test/c/journal_parse.h).
FUZZ_TARGETS += fuzz-journal

$(BUILD)/fuzz/fuzz_journal: $(TOP)/test/c/fuzz_journal.c $(CORE_LINUX_SRCS) $(CORE_HDRS) \
		$(CORE_TEST_HDRS)
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -I$(CORE_DIR) -I$(TOP)/test/c $(filter %.c,$^) -o $@

fuzz-journal-short: $(BUILD)/fuzz/fuzz_journal
	$(Q)mkdir -p $(BUILD)/fuzz/corpus-journal
	$(Q)$< -max_total_time=$(FUZZ_QUICK_SECONDS) -print_final_stats=0 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-journal \
		2>$(BUILD)/fuzz/journal-short.log || { tail -40 $(BUILD)/fuzz/journal-short.log; exit 1; }
	@echo "== fuzz_journal: $(FUZZ_QUICK_SECONDS) s without a failure"

fuzz-journal: $(BUILD)/fuzz/fuzz_journal
	$(Q)mkdir -p $(BUILD)/fuzz/corpus-journal
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-journal

# Socket activation's variables (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PIDFDID) and the
# fd store's names.
FUZZ_TARGETS += fuzz-listen

$(BUILD)/fuzz/fuzz_listen: $(TOP)/test/c/fuzz_listen.c $(CORE_LINUX_SRCS) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -I$(CORE_DIR) $(filter %.c,$^) -o $@

fuzz-listen-short: $(BUILD)/fuzz/fuzz_listen
	$(Q)mkdir -p $(BUILD)/fuzz/corpus-listen
	$(Q)$< -max_total_time=$(FUZZ_QUICK_SECONDS) -print_final_stats=0 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-listen \
		2>$(BUILD)/fuzz/listen-short.log || { tail -40 $(BUILD)/fuzz/listen-short.log; exit 1; }
	@echo "== fuzz_listen: $(FUZZ_QUICK_SECONDS) s without a failure"

fuzz-listen: $(BUILD)/fuzz/fuzz_listen
	$(Q)mkdir -p $(BUILD)/fuzz/corpus-listen
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-listen

# MEMORY_PRESSURE_WRITE's base64 decoder.
FUZZ_TARGETS += fuzz-base64

$(BUILD)/fuzz/fuzz_base64: $(TOP)/test/c/fuzz_base64.c $(CORE_LINUX_SRCS) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(Q)clang $(FUZZ_CFLAGS) -I$(CORE_DIR) $(filter %.c,$^) -o $@

fuzz-base64-short: $(BUILD)/fuzz/fuzz_base64
	$(Q)mkdir -p $(BUILD)/fuzz/corpus-base64
	$(Q)$< -max_total_time=$(FUZZ_QUICK_SECONDS) -print_final_stats=0 \
		-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-base64 \
		2>$(BUILD)/fuzz/base64-short.log || { tail -40 $(BUILD)/fuzz/base64-short.log; exit 1; }
	@echo "== fuzz_base64: $(FUZZ_QUICK_SECONDS) s without a failure"

fuzz-base64: $(BUILD)/fuzz/fuzz_base64
	$(Q)mkdir -p $(BUILD)/fuzz/corpus-base64
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/ \
		$(BUILD)/fuzz/corpus-base64

# ---- Erlang and Elixir ----

# mix's test environment and rebar3's test profile would share _build/test: rebar3 gets its own.
REBAR := cd $(TOP) && REBAR_BASE_DIR=$(TOP)/_build/rebar3 rebar3

test-erl: $(PRIV)/vigil_nif.so
	$(Q)$(REBAR) eunit
	$(Q)$(REBAR) as test xref
	$(Q)$(MAKE) --no-print-directory -C $(TOP) dialyzer

dialyzer:
	$(Q)$(REBAR) dialyzer

test-ex: $(PRIV)/vigil_nif.so
	$(Q)cd $(TOP) && MIX_ENV=test mix test --warnings-as-errors

# ---- lint ----

# Every function of the Erlang sources carries a -spec (the compile for the tests does not ask).
# cppcheck -D__linux__: one configuration of the ERTS headers, not every one it could imagine.
lint-core:
	$(Q)mkdir -p $(BUILD)/speccheck && erlc -o $(BUILD)/speccheck +warn_missing_spec \
		+warnings_as_errors $(TOP)/src/*.erl
	$(Q)$(CLANG_FORMAT_CHECK) $(CORE_PORTABLE_SRCS) $(CORE_PLATFORM_SRCS) $(CORE_HDRS) \
		$(NIF_SRC) $(CORE_TEST_SRCS) $(TOP)/bench/notify_bench.c $(TOP)/bench/journal_bench.c
	$(Q)$(CPPCHECK) -D__linux__ -I$(CORE_DIR) $(CORE_PORTABLE_SRCS) $(CORE_PLATFORM_SRCS) \
		$(NIF_SRC) -I$(ERTS_INCLUDE_DIR)
	$(Q)$(call clang_tidy,$(CORE_PORTABLE_SRCS) $(CORE_PLATFORM_SRCS) $(NIF_SRC),$(CSTD) \
		-I$(CORE_DIR) -isystem $(ERTS_INCLUDE_DIR))

# ---- bench ----

$(BUILD)/bench/notify_bench: $(TOP)/bench/notify_bench.c $(CORE_LINUX_SRCS) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CSTD) $(WARNINGS) -O2 -I$(CORE_DIR) $(filter %.c,$^) -o $@ -lsystemd \
		-Wl,--wrap=malloc

$(BUILD)/bench/vigil_bench.beam: $(TOP)/bench/vigil_bench.erl
	@mkdir -p $(@D)
	$(Q)erlc -o $(@D) $<

# The host's queue of 10 datagrams would make every row measure the receiver, not the sender:
# as root the bench runs in a network namespace of its own with a deeper queue.
BENCH_QLEN := 2048
BENCH_ERL = erl -noshell -pa $(TOP)/_build/default/lib/vigil/ebin -pa $(BUILD)/bench \
	-eval 'vigil_bench:main(["$(BUILD)/bench/notify_bench"])'

bench-core: $(BUILD)/bench/notify_bench $(BUILD)/bench/vigil_bench.beam $(PRIV)/vigil_nif.so
	$(Q)cd $(TOP) && rebar3 compile >/dev/null
	$(Q)if [ "$$(id -u)" = 0 ]; then unshare --net env VIGIL_BENCH_QLEN=$(BENCH_QLEN) $(BENCH_ERL); \
	else echo "not root: measuring with the host queue"; $(BENCH_ERL); fi

# ---- watchdog bench: ping lateness idle and with every scheduler saturated ----

BENCH_TARGETS += bench-watchdog
.PHONY: bench-watchdog

$(BUILD)/bench/vigil_watchdog_bench.beam: $(TOP)/bench/vigil_watchdog_bench.erl
	@mkdir -p $(@D)
	$(Q)erlc -o $(@D) $<

bench-watchdog: $(BUILD)/bench/vigil_watchdog_bench.beam $(PRIV)/vigil_nif.so
	$(Q)cd $(TOP) && rebar3 compile >/dev/null
	$(Q)erl -noshell -pa $(TOP)/_build/default/lib/vigil/ebin -pa $(BUILD)/bench \
		-eval 'vigil_watchdog_bench:main()'

# ---- journal bench: vigil_journal_h against a gen_udp handler, logger_std_h and libsystemd ----

BENCH_TARGETS += bench-journal
.PHONY: bench-journal

$(BUILD)/bench/journal_bench: $(TOP)/bench/journal_bench.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CSTD) $(WARNINGS) -O2 $< -o $@ -lsystemd -pthread

$(BUILD)/bench/journal_bench.beam: $(TOP)/bench/journal_bench.erl
	@mkdir -p $(@D)
	$(Q)erlc -o $(@D) $<

# sd_journal_sendv() sends only to /run/systemd/journal/socket. As root the bench runs in mount
# and network namespaces of its own: a tmpfs on /run puts the receiver's socket at that path, and
# the queue is systemd's 512 datagrams. Otherwise the libsystemd row is left out, said loudly.
BENCH_JOURNAL_ERL := erl -noshell -pa $(TOP)/_build/default/lib/vigil/ebin -pa $(BUILD)/bench \
	-run journal_bench main $(BUILD)/bench/journal_bench
BENCH_JOURNAL_NS := unshare --mount --net sh -c 'mount -t tmpfs -o mode=0755 vigil-bench /run && \
	mkdir -p /run/systemd/journal && exec "$$@"' sh env VIGIL_BENCH_QLEN=512

bench-journal: $(BUILD)/bench/journal_bench $(BUILD)/bench/journal_bench.beam $(PRIV)/vigil_nif.so
	$(Q)cd $(TOP) && rebar3 compile >/dev/null
	$(Q)if [ "$$(id -u)" = 0 ] && unshare --mount --net true 2>/dev/null; then \
		$(BENCH_JOURNAL_NS) $(BENCH_JOURNAL_ERL) /run/systemd/journal/socket; \
	else echo "not root (or no namespaces): the host's queue, and no libsystemd row"; \
		$(BENCH_JOURNAL_ERL); fi

# ---- the NIF under ASan+UBSan, in the BEAM, with the EUnit suite ----

TEST_TARGETS += test-nif-asan
.PHONY: test-nif-asan

# A lib directory of its own, so that code:priv_dir(vigil) is a real directory holding this
# build: ebin and the tests are rebar3's test profile, linked; no runtime code changes.
ASAN_APP := $(BUILD)/asan-nif/lib/vigil
REBAR_TEST_APP := $(TOP)/_build/rebar3/test/lib/vigil
# The BEAM is not built with ASan: its runtime must be loaded first, before the NIF's.
ASAN_RUNTIME = $(shell $(CC) -print-file-name=libasan.so)

$(ASAN_APP)/priv/vigil_nif.so: $(CORE_LINUX_SRCS) $(NIF_SRC) $(CORE_HDRS) $(NIF_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CSTD) $(WARNINGS) -O1 -g $(SAN_FLAGS) -fPIC -shared -I$(CORE_DIR) \
		-isystem $(ERTS_INCLUDE_DIR) $(filter %.c,$^) -o $@

# detect_leaks=0: the BEAM leaves its memory to the OS at exit by design, and LeakSanitizer
# would report all of it; the NIF's own leaks are the valgrind and ASan runs of the core's.
test-nif-asan: $(ASAN_APP)/priv/vigil_nif.so
	$(Q)$(REBAR) as test compile >/dev/null
	$(Q)ln -sfn $(REBAR_TEST_APP)/ebin $(ASAN_APP)/ebin && ln -sfn $(REBAR_TEST_APP)/test $(ASAN_APP)/test
	$(Q)cd $(TOP) && LD_PRELOAD=$(ASAN_RUNTIME) ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		escript $(TOP)/test/c/eunit_with_nif.escript $(ASAN_APP) $(ASAN_APP)/test \
		>$(BUILD)/asan-nif/eunit.log 2>&1 || { tail -60 $(BUILD)/asan-nif/eunit.log; exit 1; }
	$(Q)grep -E 'tests? passed|Failed|There were' $(BUILD)/asan-nif/eunit.log | tail -1
