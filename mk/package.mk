# mk/package.mk: what a published package is. src/vigil.app.src holds its metadata and its file
# list (mix.exs reads them there); these suites prove a package built from that list alone
# compiles on a user's machine, and that every place showing the version agrees.
#
#   test-package   the listed files, and only those, into a tarball as hex packs it; unpacked in
#                  an empty directory and compiled there with mix and with rebar3, offline; then
#                  the same with one header left out, which must fail and be named
#   test-version   app.src, mix.exs, vigil-unit --version, vigil-deploy --version, the manifest
#                  and CHANGELOG.md name the same version

# edoc for the docs test (test/docs_test.exs, run by test-ex).
APT_PACKAGES += erlang-edoc
TEST_TARGETS += test-package test-version
SHELL_SCRIPTS += $(TOP)/test/package/package_test.sh $(TOP)/test/package/version_test.sh

.PHONY: test-package test-version

# The objects that print or record VIGIL_VERSION are rebuilt when it changes (-MMD sees no macro).
VERSION_STAMP := $(BUILD)/version
$(shell mkdir -p $(BUILD) && { [ "$$(cat $(VERSION_STAMP) 2>/dev/null)" = "$(VIGIL_VERSION)" ] \
	|| echo "$(VIGIL_VERSION)" >$(VERSION_STAMP); })
$(GEN_BUILD)/gen/main.o $(GEN_BUILD)/gen/render.o $(DEPLOY_BUILD)/deploy/main.o: $(VERSION_STAMP)

PACKAGE_DIR := $(BUILD)/package

test-package: all
	$(Q)VIGIL_PACKAGE_WORK=$(PACKAGE_DIR) VIGIL_PACKAGE_PRIV=$(PRIV) \
		$(TOP)/test/package/package_test.sh

test-version: all
	$(Q)VIGIL_UNIT=$(GEN_BIN) VIGIL_DEPLOY=$(DEPLOY_BIN) $(TOP)/test/package/version_test.sh
