# vigil: one Makefile for people, for rebar3 (pre_hooks) and for mix (the compile step in mix.exs).
#
#   make          build priv/vigil_nif.so, priv/vigil-unit and priv/templates
#   make test     install or check the Debian packages, then run every test suite
#   make bench    speed and memory measurements, as ratios against a baseline measured in the same run
#   make fuzz     longer libFuzzer runs
#   make demo     the example, shown end to end
#   make V=1 ...  echo the commands
#
# Each part of the project keeps its rules in mk/<part>.mk and adds itself to the lists below.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PRIV := $(TOP)/priv
BUILD := $(TOP)/_build/c

ERL ?= erl
# Recursive on purpose: erl is only asked when a rule needs the headers, which is after `deps`.
ERTS_INCLUDE_DIR ?= $(shell $(ERL) -noshell -eval \
	'io:format("~ts/erts-~ts/include", [code:root_dir(), erlang:system_info(version)]), halt().')

CC ?= cc
OPT ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wcast-align -Wpointer-arith -Wundef -Wvla
CSTD := -std=c11 -D_GNU_SOURCE
BASE_CFLAGS := $(CSTD) $(WARNINGS) $(OPT) -MMD -MP $(CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

V ?= 0
ifeq ($(V),0)
Q := @
else
Q :=
endif

# Filled in by the fragments.
APT_PACKAGES := make gcc clang libc6-dev pkg-config
ALL_TARGETS :=
TEST_TARGETS :=
BENCH_TARGETS :=
FUZZ_TARGETS :=
LINT_TARGETS :=
CLEAN_DIRS := $(BUILD)
C_SOURCES :=

include $(TOP)/mk/core.mk
-include $(TOP)/mk/gen.mk
-include $(TOP)/mk/e2e.mk

.PHONY: all test test-all bench fuzz lint demo deps clean format

all: $(ALL_TARGETS)

deps:
	$(Q)$(TOP)/scripts/ensure-deps $(sort $(APT_PACKAGES))

# The suites run in a second make so that variables asking installed tools are read after `deps`.
test: deps
	$(Q)$(MAKE) --no-print-directory -C $(TOP) test-all

test-all: lint $(TEST_TARGETS)
	@echo "vigil: every suite passed"

bench: deps
	$(Q)$(MAKE) --no-print-directory -C $(TOP) $(BENCH_TARGETS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory -C $(TOP) $(FUZZ_TARGETS) FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60)

demo: deps
	$(Q)$(MAKE) --no-print-directory -C $(TOP) all
	$(Q)$(TOP)/scripts/demo

lint: $(LINT_TARGETS)

format:
	$(Q)clang-format -i $(C_SOURCES)

clean:
	$(Q)rm -rf $(CLEAN_DIRS) $(PRIV)/vigil_nif.so
