# mk/lint.mk: shellcheck over every shell script but test/e2e's (mk/e2e.mk checks those).

APT_PACKAGES += shellcheck
LINT_TARGETS += lint-scripts

SHELL_SCRIPTS := $(wildcard $(TOP)/scripts/*) $(TOP)/.ci/run $(TOP)/test/gen/cli_test.sh

.PHONY: lint-scripts

lint-scripts:
	$(Q)$(SHELLCHECK) $(SHELL_SCRIPTS)
