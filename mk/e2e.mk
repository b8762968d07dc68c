# mk/e2e.mk: the end-to-end tests, under a real systemd (PID 1 in a systemd-nspawn container).
# The container's Debian tree is cached outside the repository (test/e2e/README.md).

# Without recommends: those would add libnss-mymachines and edit /etc/nsswitch.conf.
APT_PACKAGES += systemd-container debootstrap shellcheck
TEST_TARGETS += test-e2e
CONTAINER_TEST_TARGETS += test-e2e
LINT_TARGETS += lint-e2e
BENCH_TARGETS += bench-sockets

VIGIL_E2E_CACHE ?= /var/cache/vigil-e2e
export VIGIL_E2E_CACHE

.PHONY: test-e2e lint-e2e clean-e2e-cache bench-sockets

# run.sh exits 77 when every script was skipped (not root, no nspawn): recorded for test-all.
test-e2e:
	$(Q)rc=0; $(TOP)/test/e2e/run.sh || rc=$$?; \
	if [ $$rc -eq 77 ]; then echo "real-systemd suite (test/e2e): see its SKIPPED banner above" >>$(SKIPPED); \
	else exit $$rc; fi

# Restarts under load: the socket unit and the fd store against the app's own port, as a table
# (the figures test-e2e asserts on). It boots a container: root and systemd-nspawn.
bench-sockets:
	$(Q)out=$$(mktemp); rc=0; $(TOP)/test/e2e/sockets_test.sh >$$out 2>&1 || rc=$$?; \
	sed -n '/^-- [0-9]* restarts under/,/^ *fd store/p' $$out; \
	if [ $$rc -ne 0 ]; then tail -n 30 $$out; fi; rm -f $$out; exit $$rc

lint-e2e:
	$(Q)$(SHELLCHECK) $(wildcard $(TOP)/test/e2e/*.sh)

clean-e2e-cache:
	$(Q)rm -rf $(VIGIL_E2E_CACHE)
