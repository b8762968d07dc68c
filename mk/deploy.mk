# mk/deploy.mk: vigil-deploy (C), the deploy tool shipped in priv/ beside vigil-unit: install,
# release with an atomic switch and a readiness gate, rollback, prune, status. Objects go to
# $(BUILD)/deploy, the binary to priv/. It links no library but libc: tar, cp, find, systemctl,
# journalctl and systemd-sysusers/-tmpfiles are run as programs (c_src/deploy/archive.c says why).

DEPLOY_SRC := $(TOP)/c_src/deploy
DEPLOY_BUILD := $(BUILD)/deploy
DEPLOY_TEST := $(TOP)/test/deploy
# Buffers and file reading are the generator's.
DEPLOY_INCLUDES := -I$(DEPLOY_SRC) -I$(GEN_SRC)
DEPLOY_LIB_SRCS := $(addprefix $(DEPLOY_SRC)/,fsops.c run.c archive.c cookie.c deploy.c \
	manager_systemctl.c manager_flag.c install.c) $(GEN_SRC)/buf.c $(GEN_SRC)/io.c
DEPLOY_SRCS := $(DEPLOY_LIB_SRCS) $(DEPLOY_SRC)/main.c
DEPLOY_HDRS := $(wildcard $(DEPLOY_SRC)/*.h) $(GEN_SRC)/buf.h $(GEN_SRC)/io.h
DEPLOY_BIN := $(PRIV)/vigil-deploy
DEPLOY_OWN_SRCS := $(filter $(DEPLOY_SRC)/%,$(DEPLOY_SRCS))

APT_PACKAGES += tar findutils coreutils systemd libcmocka-dev valgrind
ALL_TARGETS += $(DEPLOY_BIN)
TEST_TARGETS += test-deploy
LINT_TARGETS += lint-deploy
CLEAN_DIRS += $(DEPLOY_BUILD)
C_SOURCES += $(DEPLOY_OWN_SRCS) $(wildcard $(DEPLOY_SRC)/*.h) $(DEPLOY_TEST)/deploy_test.c

DEPLOY_OBJS := $(patsubst $(TOP)/c_src/%.c,$(DEPLOY_BUILD)/%.o,$(DEPLOY_SRCS))

.PHONY: test-deploy test-deploy-unit test-deploy-asan test-deploy-valgrind test-deploy-cli \
	lint-deploy

$(DEPLOY_BUILD)/%.o: $(TOP)/c_src/%.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(DEPLOY_INCLUDES) -c $< -o $@

$(DEPLOY_BIN): $(DEPLOY_OBJS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $^ -o $@

-include $(DEPLOY_OBJS:.o=.d)

# cmocka suite, built plain, with ASan/UBSan, and run under valgrind.
$(DEPLOY_BUILD)/deploy_test: $(DEPLOY_TEST)/deploy_test.c $(DEPLOY_LIB_SRCS) $(DEPLOY_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(DEPLOY_INCLUDES) $(filter %.c,$^) -lcmocka -pthread -o $@

$(DEPLOY_BUILD)/deploy_test_asan: $(DEPLOY_TEST)/deploy_test.c $(DEPLOY_LIB_SRCS) $(DEPLOY_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) $(DEPLOY_INCLUDES) $(filter %.c,$^) -lcmocka -pthread \
		-o $@

$(DEPLOY_BUILD)/vigil-deploy-asan: $(DEPLOY_SRCS) $(DEPLOY_HDRS)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(SAN_FLAGS) $(DEPLOY_INCLUDES) $(filter %.c,$^) -o $@

test-deploy: test-deploy-unit test-deploy-asan test-deploy-valgrind test-deploy-cli
	@echo "vigil-deploy: all deploy tests passed (not the manager: see test/e2e)"

test-deploy-unit: $(DEPLOY_BUILD)/deploy_test
	$(Q)$<

test-deploy-asan: $(DEPLOY_BUILD)/deploy_test_asan
	$(Q)ASAN_OPTIONS=detect_leaks=1 $<

# valgrind does not follow the tar, cp and find the suite runs: they are not ours to check.
test-deploy-valgrind: $(DEPLOY_BUILD)/deploy_test
	$(Q)$(VALGRIND) $< >/dev/null

test-deploy-cli: $(DEPLOY_BUILD)/vigil-deploy-asan $(GEN_BIN)
	$(Q)VIGIL_DEPLOY=$(DEPLOY_BUILD)/vigil-deploy-asan VIGIL_UNIT=$(GEN_BIN) \
		TEMPLATES=$(TOP)/templates $(DEPLOY_TEST)/cli_test.sh

lint-deploy:
	$(Q)$(CPPCHECK) $(DEPLOY_INCLUDES) $(DEPLOY_OWN_SRCS)
	$(Q)$(call clang_tidy,$(DEPLOY_OWN_SRCS),$(CSTD) $(DEPLOY_INCLUDES))
	$(Q)$(CLANG_FORMAT_CHECK) $(DEPLOY_OWN_SRCS) $(wildcard $(DEPLOY_SRC)/*.h) \
		$(DEPLOY_TEST)/deploy_test.c
	$(Q)$(SHELLCHECK) $(DEPLOY_TEST)/cli_test.sh
