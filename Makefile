# vigil: one Makefile for people, for rebar3 (pre_hooks) and for mix (the compile step in mix.exs).
#
#   make          build priv/vigil_nif.so, priv/vigil-unit and priv/templates
#   make test     install or check the Debian packages, then run every test suite
#   make quick    the suites that need no container (for iterating; make test runs them too)
#   make bench    speed and memory measurements, as ratios against a baseline measured in the same run
#   make fuzz     longer libFuzzer runs
#   make demo     the example, shown end to end
#   make V=1 ...  echo the commands
#   make VIGIL_PLATFORM=none ...   build as for a system without systemd (see VIGIL_PLATFORM)
#
# Each part of the project keeps its rules in mk/<part>.mk and adds itself to the lists below.

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# Where the built artefacts go: priv/ beside the sources, which rebar3 links or copies into its
# build. mix passes PRIV=<the app's build directory>/priv (MIX_APP_PATH): mix links the build's
# priv/ to the sources' only when that directory exists before the first build, which it does not in
# a fresh clone or a git dependency.
PRIV ?= $(TOP)/priv
BUILD := $(TOP)/_build/c

ERL ?= erl
# Recursive on purpose: erl is only asked when a rule needs the headers, which is after `deps`.
ERTS_INCLUDE_DIR ?= $(shell $(ERL) -noshell -eval \
	'io:format("~ts/erts-~ts/include", [code:root_dir(), erlang:system_info(version)]), halt().')

# ---- shared variables: every fragment builds, checks and runs its C with these ----

# The operating system decides how the NIF links and which platform layer the notification core
# links (c_src/core/vigil_platform.h):
#   Linux           -shared; VIGIL_PLATFORM=linux, sd_notify's transports
#   Darwin (macOS)  -dynamiclib -undefined dynamic_lookup: the enif_* symbols are the BEAM's,
#                   bound when it loads the library (the older -bundle -flat_namespace
#                   -undefined suppress works too); VIGIL_PLATFORM=none
#   FreeBSD, other  -shared; VIGIL_PLATFORM=none (build with gmake there)
# VIGIL_PLATFORM=none builds for a system without systemd: the API answers ok, sends nothing and
# the watchdog has nothing to ping. `make VIGIL_PLATFORM=none` takes that path on Linux too;
# make test does so (test-platform-none).
UNAME_S := $(shell uname -s)
VIGIL_PLATFORM ?= $(if $(filter Linux,$(UNAME_S)),linux,none)
ifeq ($(UNAME_S),Darwin)
NIF_LDFLAGS := -dynamiclib -undefined dynamic_lookup
else
NIF_LDFLAGS := -shared
endif

CC ?= cc
OPT ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wcast-align -Wpointer-arith -Wundef -Wvla
# The package version has one home, src/vigil.app.src (mix.exs reads it there too); the C build
# gets it as VIGIL_VERSION, which vigil-unit and vigil-deploy print (--version) and the manifest
# records. Part of CSTD so that every compile of the C, for any libc or checker, sees it.
VIGIL_VERSION := $(shell sed -n 's/^ *{vsn, *"\([^"]*\)"}.*/\1/p' $(TOP)/src/vigil.app.src)
ifeq ($(VIGIL_VERSION),)
$(error no {vsn, "..."} in $(TOP)/src/vigil.app.src)
endif
VERSION_CFLAGS := -DVIGIL_VERSION='"$(VIGIL_VERSION)"'
# glibc and musl hide pipe2, SOCK_CLOEXEC and struct ucred without _GNU_SOURCE; macOS and the
# BSDs show everything when no feature macro asks for less.
ifeq ($(UNAME_S),Linux)
CSTD := -std=c11 -D_GNU_SOURCE $(VERSION_CFLAGS)
else
CSTD := -std=c11 $(VERSION_CFLAGS)
endif
BASE_CFLAGS := $(CSTD) $(WARNINGS) $(OPT) -MMD -MP $(CFLAGS)
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# One lint policy for all C. clang-tidy's checks, and why some are off, are in .clang-tidy.
# cppcheck: missingIncludeSystem because it needs no libc headers to check; unusedFunction is
# not enabled because cmocka and libFuzzer entry points live in other files.
CPPCHECK := cppcheck --quiet --error-exitcode=1 --enable=warning,style,performance,portability \
	--std=c11 --inline-suppr --suppress=missingIncludeSystem $(VERSION_CFLAGS)
# (clang-tidy runs through scripts/tidy, with .clang-tidy beside this Makefile)
# $(call clang_tidy,FILES,COMPILE-FLAGS): one file per run. Given several files at once,
# clang-tidy 14 once reported va_end() on an uninitialized va_list at calls that hold none
# (buf_free() in names.c), and not again on the same tree: one translation unit per process.
# scripts/tidy remembers the translation units that passed (make test runs lint every time).
clang_tidy = for f in $(1); do $(TOP)/scripts/tidy $$f $(2) || exit 1; done
CLANG_FORMAT_CHECK := clang-format --dry-run -Werror

# One valgrind for all C: memory errors and definite or indirect leaks fail with status 99.
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full \
	--show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --track-fds=yes

# One way to build and run libFuzzer targets: `make fuzz` runs each for FUZZ_SECONDS, make test
# for FUZZ_QUICK_SECONDS.
FUZZ_CFLAGS := $(CSTD) $(WARNINGS) -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all
FUZZ_SECONDS ?= 60
FUZZ_QUICK_SECONDS ?= 15

# Every shell script is checked with this (-x: follow what a script sources).
SHELLCHECK := shellcheck -x

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
# The suites that boot containers: make quick leaves them out.
CONTAINER_TEST_TARGETS :=
BENCH_TARGETS :=
FUZZ_TARGETS :=
LINT_TARGETS :=
CLEAN_DIRS := $(BUILD)
C_SOURCES :=

include $(TOP)/mk/core.mk
include $(TOP)/mk/gen.mk
include $(TOP)/mk/deploy.mk
# After gen.mk: it builds the generator for other systems too.
include $(TOP)/mk/platform.mk
include $(TOP)/mk/e2e.mk
include $(TOP)/mk/lint.mk
# After gen.mk and deploy.mk: it names their objects that hold the version.
include $(TOP)/mk/package.mk

.PHONY: all test test-all quick quick-all test-begin bench fuzz lint demo deps clean format

all: $(ALL_TARGETS)

deps:
	$(Q)$(TOP)/scripts/ensure-deps $(sort $(APT_PACKAGES))

# The suites run in a second make so that variables asking installed tools are read after `deps`.
test: deps
	$(Q)$(MAKE) --no-print-directory -C $(TOP) test-all

# A suite that cannot run here records itself in $(SKIPPED) and says why. Any skip fails make test
# unless VIGIL_ALLOW_SKIP=1 (never set by CI): as root with systemd-nspawn nothing may skip.
SKIPPED := $(BUILD)/skipped-suites
export VIGIL_SKIPPED := $(SKIPPED)

test-begin:
	$(Q)mkdir -p $(BUILD) && : >$(SKIPPED)

# The container suites last: each of their scripts boots its own container, and run.sh runs two
# at a time. Beside the other suites (which mostly compute) or three at a time, two cores were not
# enough for the deadlines that the suites measure, on either side (watchdog cadence in EUnit, the
# boot of a VM within a restart under load).
test-all: test-begin lint $(filter-out $(CONTAINER_TEST_TARGETS),$(TEST_TARGETS)) \
		$(CONTAINER_TEST_TARGETS)
	$(Q)n=$$(wc -l <$(SKIPPED)); \
	if [ "$$n" -eq 0 ]; then echo "vigil: every suite passed, 0 skipped"; \
	else echo "vigil: $$n suite(s) SKIPPED:"; sed 's/^/  /' $(SKIPPED); \
		if [ "$${VIGIL_ALLOW_SKIP:-0}" = 1 ] && [ "$${CI:-}" != true ]; then \
			echo "vigil: the other suites passed (VIGIL_ALLOW_SKIP=1)"; \
		else echo "vigil: FAILED: a skipped suite is not a passed one (VIGIL_ALLOW_SKIP=1 to accept)"; \
			exit 1; fi; fi

quick: deps
	$(Q)$(MAKE) --no-print-directory -C $(TOP) quick-all

quick-all: test-begin lint $(filter-out $(CONTAINER_TEST_TARGETS),$(TEST_TARGETS))
	@echo "vigil: the quick suites passed (not run: $(CONTAINER_TEST_TARGETS); make test runs them)"

bench: deps
	$(Q)$(MAKE) --no-print-directory -C $(TOP) $(BENCH_TARGETS)

fuzz: deps
	$(Q)$(MAKE) --no-print-directory -C $(TOP) $(FUZZ_TARGETS) FUZZ_SECONDS=$(FUZZ_SECONDS)

# The demo builds the example from a pristine copy of the tree, as a new user would.
demo: deps
	$(Q)$(TOP)/scripts/demo

lint: $(LINT_TARGETS)

format:
	$(Q)clang-format -i $(C_SOURCES)

# Everything `all` put in $(PRIV) (which mix points at its build directory), and the build tree.
clean:
	$(Q)rm -rf $(CLEAN_DIRS) $(filter $(PRIV)/%,$(ALL_TARGETS))
