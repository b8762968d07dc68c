# mk/lint.mk: shellcheck over every shell script but test/e2e's (mk/e2e.mk checks those).

APT_PACKAGES += shellcheck
LINT_TARGETS += lint-scripts

SHELL_SCRIPTS := $(wildcard $(TOP)/scripts/*) $(TOP)/.ci/run
# cli_test.sh greps for the literal `$MAINPID` of a unit file (SC2016, info) on purpose; the
# rest of it is checked. An inline `# shellcheck disable=SC2016` there would make this go.
CLI_TEST_EXCLUDE := SC2016

.PHONY: lint-scripts

lint-scripts:
	$(Q)$(SHELLCHECK) $(SHELL_SCRIPTS)
	$(Q)$(SHELLCHECK) --exclude=$(CLI_TEST_EXCLUDE) $(TOP)/test/gen/cli_test.sh
