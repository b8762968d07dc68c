# mk/platform.mk: the builds for other systems, proven on this one.
#
#   test-platform-none  `make VIGIL_PLATFORM=none all` (the path of macOS and the BSDs) into
#                       $(BUILD)/none, then the application with that NIF and a real receiver:
#                       every call answers ok and nothing is sent
#   test-musl           the NIF and vigil-unit built with musl-gcc (Alpine's libc), the
#                       generator's golden cases run with the musl vigil-unit

APT_PACKAGES += musl-tools
TEST_TARGETS += test-platform-none test-musl

.PHONY: test-platform-none test-musl

# ---- VIGIL_PLATFORM=none ----

NONE_DIR := $(BUILD)/none
# As a release lays it out: code:priv_dir(vigil) is NONE_APP/priv.
NONE_APP := $(NONE_DIR)/lib/vigil-0.1.0

# Without _GNU_SOURCE glibc declares only POSIX: what macOS and the BSDs have too. The core
# (platform none) and the generator must compile so.
PORTABLE_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARNINGS)

# The generator is built for none too (it needs no platform layer) and must pass its golden cases.
test-platform-none:
	$(Q)for f in $(CORE_PORTABLE_SRCS) $(CORE_DIR)/vigil_platform_none.c $(GEN_SRCS); do \
		$(CC) $(PORTABLE_CFLAGS) -I$(CORE_DIR) $(GEN_INCLUDES) -fsyntax-only $$f || exit 1; done
	$(Q)$(MAKE) --no-print-directory -C $(TOP) -s VIGIL_PLATFORM=none BUILD=$(NONE_DIR)/build \
		PRIV=$(NONE_APP)/priv all
	$(Q)if nm -D $(NONE_APP)/priv/vigil_nif.so | grep -qwE 'socket|sendmsg|connect'; then \
		echo "platform none: vigil_nif.so still opens sockets" >&2; exit 1; fi
	$(Q)mkdir -p $(NONE_APP)/ebin && erlc -o $(NONE_APP)/ebin $(TOP)/src/*.erl && \
		cp $(TOP)/src/vigil.app.src $(NONE_APP)/ebin/vigil.app
	$(Q)escript $(TOP)/test/c/platform_none.escript $(NONE_APP)
	$(Q)python3 $(TOP)/test/gen/golden.py --bin $(NONE_APP)/priv/vigil-unit \
		--templates $(TOP)/templates --cases $(TOP)/test/gen/cases | tail -1
