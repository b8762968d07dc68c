# mk/platform.mk: the builds for other systems, proven on this one.
#
#   test-platform-none  `make VIGIL_PLATFORM=none all` (the path of macOS and the BSDs) into
#                       $(BUILD)/none, then the application with that NIF and a real receiver:
#                       every call answers ok and nothing is sent
#   test-musl           the NIF, vigil-unit and the core's tests built with musl-gcc (Alpine's
#                       libc); the core's tests and the generator's golden, round-trip and
#                       command-line tests run against the musl builds

APT_PACKAGES += musl-tools linux-libc-dev
TEST_TARGETS += test-platform-none test-musl

.PHONY: test-platform-none test-musl

# Appended to a command: its output goes to LOG; on failure all of LOG is shown and the recipe
# fails, else only its last line. (A pipe into tail would hide the command's status.)
# $(call summary_of,LOG)
summary_of = >$(1) 2>&1 || { cat $(1); exit 1; }; tail -1 $(1)

# ---- VIGIL_PLATFORM=none ----

NONE_DIR := $(BUILD)/none
# As a release lays it out: code:priv_dir(vigil) is NONE_APP/priv.
NONE_APP := $(NONE_DIR)/lib/vigil-$(VIGIL_VERSION)

# Without _GNU_SOURCE glibc declares only POSIX: what macOS and the BSDs have too. The core
# (platform none) and the generator must compile so.
PORTABLE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(VERSION_CFLAGS) $(WARNINGS)

# The core's own view of it: a cmocka suite linked with the none platform, under ASan+UBSan.
$(NONE_DIR)/test_none: $(TOP)/test/c/test_none.c $(TOP)/test/c/receiver.c $(CORE_PORTABLE_SRCS) \
		$(CORE_DIR)/vigil_platform_none.c $(CORE_HDRS) $(CORE_TEST_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) -O1 $(SAN_FLAGS) -I$(CORE_DIR) -I$(TOP)/test/c $(filter %.c,$^) \
		-o $@ -lcmocka

# The generator is built for none too (it needs no platform layer) and must pass its golden cases.
test-platform-none: $(NONE_DIR)/test_none
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 $(NONE_DIR)/test_none \
		$(call summary_of,$(NONE_DIR)/test_none.log)
	$(Q)for f in $(CORE_PORTABLE_SRCS) $(CORE_DIR)/vigil_platform_none.c $(GEN_SRCS); do \
		$(CC) $(PORTABLE_CFLAGS) -I$(CORE_DIR) $(GEN_INCLUDES) -fsyntax-only $$f || exit 1; done
	$(Q)$(CC) $(PORTABLE_CFLAGS) -I$(CORE_DIR) -isystem $(ERTS_INCLUDE_DIR) -fsyntax-only $(NIF_SRC)
	$(Q)$(MAKE) --no-print-directory -C $(TOP) -s VIGIL_PLATFORM=none BUILD=$(NONE_DIR)/build \
		PRIV=$(NONE_APP)/priv all
	$(Q)if nm -D $(NONE_APP)/priv/vigil_nif.so | grep -qwE 'socket|sendmsg|connect'; then \
		echo "platform none: vigil_nif.so still opens sockets" >&2; exit 1; fi
	$(Q)mkdir -p $(NONE_APP)/ebin && erlc -o $(NONE_APP)/ebin $(TOP)/src/*.erl && \
		cp $(TOP)/src/vigil.app.src $(NONE_APP)/ebin/vigil.app
	$(Q)escript $(TOP)/test/c/platform_none.escript $(NONE_APP)
	$(Q)python3 $(TOP)/test/gen/golden.py --bin $(NONE_APP)/priv/vigil-unit \
		--templates $(TOP)/templates --cases $(TOP)/test/gen/cases \
		$(call summary_of,$(NONE_DIR)/golden.log)

# ---- musl (Alpine) ----

MUSL_DIR := $(BUILD)/musl
MUSL_CC := musl-gcc
# Debian's musl-gcc searches /usr/include/x86_64-linux-musl alone, which has no kernel headers
# (linux/vm_sockets.h). Alpine puts them beside musl's (linux-headers); here a directory that
# links only the kernel's headers from linux-libc-dev stands in, keeping glibc's out of sight.
MUSL_KERNEL_HEADERS := $(MUSL_DIR)/kernel-headers
MUSL_CFLAGS = $(CSTD) $(WARNINGS) $(OPT) -isystem $(MUSL_KERNEL_HEADERS)
MULTIARCH = $(shell gcc -print-multiarch)
MUSL_LIBC := /usr/lib/$(MULTIARCH:-gnu=-musl)/libc.so

$(MUSL_KERNEL_HEADERS):
	$(Q)mkdir -p $@ && ln -sfn /usr/include/linux $@/linux && \
		ln -sfn /usr/include/$(MULTIARCH)/asm $@/asm && ln -sfn /usr/include/asm-generic $@/asm-generic

$(MUSL_DIR)/vigil_nif.so: $(CORE_LINUX_SRCS) $(NIF_SRC) $(CORE_HDRS) $(NIF_HDRS) | $(MUSL_KERNEL_HEADERS)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -fPIC -fvisibility=hidden -shared -I$(CORE_DIR) \
		-isystem $(ERTS_INCLUDE_DIR) $(filter %.c,$^) -o $@

$(MUSL_DIR)/vigil-unit: $(GEN_SRCS) $(wildcard $(GEN_SRC)/*.h) $(CORE_HDRS)
	@mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -static $(GEN_INCLUDES) $(filter %.c,$^) -o $@

# The core's cmocka suite, with test/c/musl/cmocka.h standing in for glibc's libcmocka.
$(MUSL_DIR)/test_core: $(TOP)/test/c/test_core.c $(TOP)/test/c/receiver.c $(CORE_LINUX_SRCS) \
		$(CORE_HDRS) $(CORE_TEST_HDRS) $(TOP)/test/c/musl/cmocka.h | $(MUSL_KERNEL_HEADERS)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -static -I$(TOP)/test/c/musl -I$(CORE_DIR) -I$(TOP)/test/c \
		$(filter %.c,$^) -o $@

# A glibc BEAM cannot load a musl library: the NIF is checked to need nothing but the BEAM's
# enif_/erl_ symbols and musl's libc.
test-musl: $(MUSL_DIR)/vigil_nif.so $(MUSL_DIR)/vigil-unit $(MUSL_DIR)/test_core
	$(Q)nm -D --defined-only $(MUSL_LIBC) | awk '{print $$3}' | sort -u >$(MUSL_DIR)/libc.syms
	$(Q)nm -D --undefined-only $(MUSL_DIR)/vigil_nif.so | awk '$$1 == "U" {print $$2}' | \
		grep -vE '^(enif_|erl_)' | sort -u | comm -23 - $(MUSL_DIR)/libc.syms >$(MUSL_DIR)/missing
	$(Q)if [ -s $(MUSL_DIR)/missing ]; then echo "musl: vigil_nif.so needs symbols musl lacks:"; \
		cat $(MUSL_DIR)/missing; exit 1; fi
	$(Q)readelf -d $(MUSL_DIR)/vigil_nif.so | grep -q 'NEEDED.*\[libc\.so\]'
	$(Q)$(MUSL_DIR)/test_core $(call summary_of,$(MUSL_DIR)/test_core.log)
	$(Q)python3 $(GEN_TEST)/golden.py --bin $(MUSL_DIR)/vigil-unit --templates $(TOP)/templates \
		--cases $(GEN_TEST)/cases $(call summary_of,$(MUSL_DIR)/golden.log)
	$(Q)python3 $(GEN_TEST)/roundtrip.py --bin $(MUSL_DIR)/vigil-unit --templates $(TOP)/templates \
		$(call summary_of,$(MUSL_DIR)/roundtrip.log)
	$(Q)VIGIL_UNIT=$(MUSL_DIR)/vigil-unit TEMPLATES=$(TOP)/templates $(GEN_TEST)/cli_test.sh \
		$(call summary_of,$(MUSL_DIR)/cli_test.log)

# ---- a system with a compiler and libcmocka only ----

# test-cmocka: every cmocka suite that needs neither libsystemd (the oracle suites compare with
# it), valgrind nor clang (the fuzzers), built with $(CC) under ASan+UBSan. It is how another
# platform's C is checked (test/e2e/trixie_test.sh: Debian 13's gcc 14); make test runs these
# suites with the rest.
.PHONY: test-cmocka
CMOCKA_CORE_TESTS := $(filter-out $(ORACLE_TESTS),$(CORE_TESTS))

test-cmocka: $(foreach t,$(CMOCKA_CORE_TESTS),$(BUILD)/asan/test_$(t)) test-gen-asan test-deploy-asan
	$(Q)for t in $(foreach t,$(CMOCKA_CORE_TESTS),$(BUILD)/asan/test_$(t)); do \
		echo "== $$t (ASan+UBSan)"; ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1 $$t $(call summary_of,$$t.log) || exit 1; done
