#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317,SC2016 # scenarios are called by name; in_tree expands
# test/e2e/trixie_test.sh: Debian 13 (systemd 257, OTP 27, Elixir 1.18, rebar3 3.24, gcc 14) as
# the second platform. One container of the trixie tree: vigil is built and tested inside it from
# a pristine copy, the example release is built there and supervised by systemd 257 through the
# unit `mix vigil.gen.unit` writes for systemd_version = 257, and what only a newer systemd does
# is asserted by its behaviour (each of those assertions fails under 252).
#
#   trixie_test.sh [SCENARIO...]   the scenarios named (default: all, in the order below); build
#                                  and release come first when a later one is named alone
#
# The dialyzer PLT of the container's OTP is kept in $VIGIL_E2E_CACHE/plt-otp-<version>.
# VIGIL_EXPOSURE_WRITE=FILE: the exposure scenario also writes systemd 257's table to FILE
# (make gen-exposure-update-257).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
# shellcheck source=shop.sh
. "$HERE/shop.sh"
# shellcheck source=assert.sh
. "$HERE/assert.sh"

SYSTEMD_VERSION=257
WATCHDOG_SEC=2
# Inside the container: the pristine tree, and the example in it.
IN_TREE=/build/vigil
IN_SHOP=$IN_TREE/examples/shop
BUILT=no
RELEASED=no

prop() {
    e2e_prop shop "$1"
}

# The notifications systemd logged (at debug level), in 252's form: 257 writes "from PID N: A, B"
# where 252 wrote "from PID N (A, B)".
notifications() {
    grep -E 'Got notification message from PID [0-9]+( \(|: )' <<<"$1" |
        sed -E 's/(from PID [0-9]+): (.*)$/\1 (\2)/' || true
}

# journal_until PATTERN: the unit's journal once a line matches PATTERN (up to 5 s: journald
# stores PID 1's lines on its own time).
journal_until() {
    local journal
    for _ in $(seq 50); do
        journal=$(shop_journal)
        ! grep -qE -- "$1" <<<"$journal" || break
        sleep 0.1
    done
    printf '%s\n' "$journal"
}

# in_tree CMD: a shell command in the container's copy of the tree, as a user's shell runs it:
# in a unit of the container's systemd (systemd-run), so in a cgroup of its own. (A process that
# only entered the container's namespaces sits outside its cgroup root, where systemd 257's
# `systemd --test`, which the migrate tests run, fails with EUNATCH.)
in_tree() {
    e2e_exec systemd-run --quiet --wait --pipe --collect -E HOME=/root -p WorkingDirectory="$IN_TREE" \
        sh -c "$1"
}

# step NAME CMD: one build step in the tree; its output is shown only when it fails.
step() {
    local out began=$SECONDS
    if out=$(in_tree "$2" 2>&1); then
        pass "$1 ($((SECONDS - began)) s)"
    else
        fail "$1" "exit status $?; its failures and last lines:"
        { grep -A 12 -E '\*failed\*|^ +[0-9]+\) test' <<<"$out" | head -n 80 || true
            tail -n 25 <<<"$out"; } | cut -c1-200 | sed 's/^/     /'
    fi
}

# gen_unit ARG...: `mix vigil.gen.unit` in the container (OTP 27, the release's own generator)
# for systemd 257, the units copied out to $SHOP_UNITS for shop.sh, installed, the service
# stopped.
gen_unit() {
    e2e_exec systemctl stop shop.socket shop 2>/dev/null || true
    e2e_exec systemctl reset-failed shop 2>/dev/null || true
    e2e_exec rm -f /etc/systemd/system/shop.socket
    in_tree "cd $IN_SHOP && rm -rf _build/prod/systemd && MIX_ENV=prod mix vigil.gen.unit \
        --systemd-version $SYSTEMD_VERSION --watchdog-sec $WATCHDOG_SEC --restart-sec 1 \
        --start-limit-interval-sec 0 $*" >/dev/null || return 1
    rm -rf "$SHOP_UNITS"
    mkdir -p "$SHOP_UNITS"
    e2e_exec tar -C "$IN_SHOP/_build/prod/systemd" -cf - . | tar -C "$SHOP_UNITS" -xf - || return 1
    shop_install_units
}

# A manifest's field, as text (null is empty).
manifest() {
    python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print("" if v is None else v)' "$SHOP_UNITS/shop.manifest.json" "$1"
}

# ---- vigil built and tested with OTP 27, Elixir 1.18, rebar3 and gcc 14 ----

scenario_build() {
    step "make all: the NIF, vigil-unit and vigil-deploy with gcc 14 and -Werror" 'make -s all'
    step "make test-cmocka: the core's, the generator's and the deploy tool's cmocka suites \
(gcc 14, ASan+UBSan)" 'make -s test-cmocka'
    step "rebar3 eunit (OTP 27)" 'REBAR_BASE_DIR=$PWD/_build/rebar3 rebar3 eunit'
    step "rebar3 xref" 'REBAR_BASE_DIR=$PWD/_build/rebar3 rebar3 as test xref'
    step "rebar3 dialyzer (the PLT from $PLT_DIR)" 'REBAR_BASE_DIR=$PWD/_build/rebar3 rebar3 dialyzer'
    step "MIX_ENV=test mix test --warnings-as-errors (Elixir 1.18)" \
        'MIX_ENV=test mix test --warnings-as-errors'
    step "mix compile --warnings-as-errors" 'mix compile --force --warnings-as-errors'
    BUILT=yes
}

# The example release, built in the container; the units for systemd 257 and the release
# installed.
scenario_release() {
    [ "$BUILT" = yes ] || in_tree 'make -s all' >/dev/null
    local out
    if out=$(in_tree "cd $IN_SHOP && MIX_ENV=prod mix release --overwrite" 2>&1); then
        pass "MIX_ENV=prod mix release of examples/shop (OTP 27, Elixir 1.18)"
    else
        fail "mix release of examples/shop" "the last lines:"
        tail -n 25 <<<"$out" | sed 's/^/     /'
        return
    fi
    check_no_grep "no warning from the release's configuration" 'warning|Cannot configure' "$out"
    if gen_unit --reload sighup; then pass "units generated for systemd_version = 257"; else
        fail "units generated for systemd_version = 257"
        return
    fi
    local current
    current=$(shop_current_dir)
    e2e_exec sh -c "mkdir -p '$current' && cp -a '$IN_SHOP/_build/prod/rel/shop/.' '$current/'"
    e2e_copy_in "$SHOP_UNITS/sysusers.d/shop.conf" /etc/sysusers.d/shop.conf
    e2e_copy_in "$SHOP_UNITS/tmpfiles.d/shop.conf" /etc/tmpfiles.d/shop.conf
    e2e_exec systemd-sysusers /etc/sysusers.d/shop.conf >/dev/null
    e2e_exec systemd-tmpfiles --create /etc/tmpfiles.d/shop.conf
    pass "release and units installed in $current"
    RELEASED=yes
}

need_release() {
    [ "$RELEASED" = yes ] || scenario_release
}

# systemd 257's own checks of the generated units: verify says nothing; the exposure score is
# the manifest's figure for 257.
scenario_analyze() {
    need_release
    local units=() unit out score
    for unit in "$SHOP_UNITS"/*.service "$SHOP_UNITS"/*.socket "$SHOP_UNITS"/*.path; do
        [ ! -e "$unit" ] || units+=("/etc/systemd/system/${unit##*/}")
    done
    out=$(e2e_exec systemd-analyze verify "${units[@]}" 2>&1) || true
    check "systemd-analyze verify (257) of the ${#units[@]} generated units prints nothing" "" "$out"
    score=$(e2e_exec systemd-analyze security shop.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for shop.service: \([0-9.]*\).*/\1/p')
    echo "     systemd 257 scores the strict unit $score"
    check "the manifest's exposure is scored by systemd 257" 257 "$(manifest exposure_scored_by)"
    check "systemd-analyze security (257) = the manifest's expected exposure" \
        "$(shop_expected_exposure)" "$score"
    check "the manifest keeps 257's figure beside 252's" "$score" "$(manifest exposure_by_systemd.257)"
    check_grep "and 252's is a score" '^[0-9]+\.[0-9]$' "$(manifest exposure_by_systemd.252)"
}

# The helper services' fixed sandboxes (epmd's socket-activated daemon, the restart oneshot), which
# the exposure table does not cover, scored by 257 against their manifest entries.
scenario_helpers() {
    [ "$BUILT" = yes ] || in_tree 'make -s all' >/dev/null
    local out=/tmp/helpers name want got
    in_tree "rm -rf $out && priv/vigil-unit --templates templates --app-name foo \
        --systemd-version $SYSTEMD_VERSION --distribution epmd_socket --cookie-file /etc/foo/cookie --restart-method systemd_flag \
        --output $out" >/dev/null 2>&1 || {
        fail "units with epmd and the restart service generated"
        return
    }
    for name in foo-epmd.service foo-restart.service; do
        want=$(e2e_exec cat "$out/foo.manifest.json" | python3 -c 'import json, sys
print(json.load(sys.stdin)["unit_exposure"].get(sys.argv[1]))' "$name")
        got=$(e2e_exec systemd-analyze security --offline=true --no-pager "$out/$name" 2>/dev/null |
            sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')
        check "$name: systemd 257's score = the manifest's" "$want" "$got"
    done
}

# The exposure table's combinations scored again by 257's systemd-analyze (the generator and
# systemd-analyze run in the container; test/gen/exposure.py drives them from here): every
# TRIXIE_EXPOSURE_EVERY-th (default 8: all of them take about 8 minutes here), all when
# VIGIL_EXPOSURE_WRITE asks for the table.
scenario_exposure() {
    [ "$BUILT" = yes ] || in_tree 'make -s all' >/dev/null
    local args=(--check --every "${TRIXIE_EXPOSURE_EVERY:-8}") out began=$SECONDS
    [ -z "${VIGIL_EXPOSURE_WRITE:-}" ] || args=(--check --write "$VIGIL_EXPOSURE_WRITE")
    if out=$(python3 "$E2E_TOP/test/gen/exposure.py" --bin "$IN_TREE/priv/vigil-unit" \
        --templates "$IN_TREE/templates" --systemd "$SYSTEMD_VERSION" --tmpdir "$SHARED" \
        --run "nsenter --target $E2E_LEADER --mount --pid --" "${args[@]}" 2>&1); then
        pass "$(tail -n 1 <<<"$out") ($((SECONDS - began)) s)"
    else
        fail "exposure table for systemd 257" "$(tail -n 22 <<<"$out")"
    fi
}

# systemctl start returns on READY=1, with the strict profile (MemoryDenyWriteExecute=yes) and
# OTP 27's JIT.
scenario_start() {
    need_release
    shop_stopped
    shop_env SHOP_READY_DELAY_MS=1500
    shop_mark
    bg_systemctl start
    e2e_wait_prop shop StatusText "warming up" 15 || true
    check "activating while warming up, before READY=1" "activating warming up" \
        "$(prop ActiveState) $(prop StatusText)"
    settle
    check "systemctl start succeeds" 0 "$rc"
    if [ "$elapsed_ms" -ge 1500 ]; then pass "systemctl start blocked until READY=1 (${elapsed_ms} ms)"; else
        fail "systemctl start blocked until READY=1" "returned after ${elapsed_ms} ms, readiness takes 1500"
    fi
    check "active, running, vigil's status line" "active running serving on :$SHOP_PORT" \
        "$(prop ActiveState) $(prop SubState) $(prop StatusText)"
    check_grep "READY=1 came from the BEAM" "\(READY=1, STATUS=serving on :$SHOP_PORT\)" \
        "$(notifications "$(journal_until 'READY=1')")"
    check "the strict profile: MemoryDenyWriteExecute=yes" yes "$(prop MemoryDenyWriteExecute)"
    check "OTP 27 runs its JIT under it" "ok jit" "$(shop_tcp "probe flavor")"
    check "vm.memfd_noexec of this kernel ($(uname -r))" 0 "$(cat /proc/sys/vm/memfd_noexec 2>/dev/null || echo 0)"
    check "TCP served" pong "$(shop_tcp ping)"
}

# Type=notify-reload: systemd sends SIGHUP itself and `systemctl reload` returns only after the
# app's READY=1 ends the reload (a slow one: SHOP_RELOAD_MS). Under 252's ExecReload= the
# job ends when kill exits, long before.
scenario_reload() {
    need_release
    check "the unit has Type=notify-reload" notify-reload "$(prop Type)"
    check "and no ExecReload= of its own" "" "$(prop ExecReload)"
    shop_stopped
    shop_env SHOP_RELOAD_MS=2500
    e2e_exec systemctl start shop
    shop_mark
    bg_systemctl reload
    e2e_wait_prop shop ActiveState reloading 3 || true
    check "reloading while the reload runs" reloading "$(prop ActiveState)"
    settle
    check "systemctl reload succeeds" 0 "$rc"
    if [ "$elapsed_ms" -ge 2500 ]; then pass "systemctl reload waited for the app's reload (${elapsed_ms} ms)"; else
        fail "systemctl reload waited for the app's reload" "returned after ${elapsed_ms} ms, the reload takes 2500"
    fi
    # Read the moment it returned: nothing is left to wait for.
    check "when it returns: active, the new status, one reload done" \
        "active serving on :$SHOP_PORT, configuration generation 1 1" \
        "$(prop ActiveState) $(prop StatusText) $(shop_tcp generation)"
    local journal
    journal=$(notifications "$(journal_until 'RELOADING=1')")
    check_grep "RELOADING=1 with MONOTONIC_USEC" 'RELOADING=1, MONOTONIC_USEC=[0-9]+' "$journal"
    check_grep "READY=1 after it" 'READY=1' "$(sed -n '/RELOADING=1/,$p' <<<"$journal" | tail -n +2)"
}

# The watchdog: the VM frozen with SIGSTOP sends no ping; systemd kills it and starts another.
scenario_watchdog() {
    need_release
    [ "$(prop ActiveState)" = active ] || e2e_exec systemctl start shop
    local old restarts
    old=$(prop MainPID)
    restarts=$(prop NRestarts)
    shop_mark
    e2e_exec kill -STOP "$old"
    if e2e_wait_prop shop NRestarts $((restarts + 1)) $((WATCHDOG_SEC * 3 + 30)); then
        pass "watchdog: NRestarts went up ($restarts -> $(prop NRestarts))"
    else
        fail "watchdog: NRestarts went up" "still $(prop NRestarts)"
    fi
    if e2e_wait_prop shop StatusText "serving on :$SHOP_PORT" 15 && e2e_wait_prop shop ActiveState active 5; then
        pass "watchdog: READY=1 again"
    else
        fail "watchdog: READY=1 again" "$(prop ActiveState) $(prop StatusText)"
    fi
    if [ "$(prop MainPID)" != "$old" ]; then pass "watchdog: a new VM ($old -> $(prop MainPID))"; else
        fail "watchdog: a new VM" "still $old"
    fi
    check_grep "systemd 257 logged the watchdog timeout" "shop.service: Watchdog timeout \(limit ${WATCHDOG_SEC}s\)" \
        "$(shop_journal)"
    check "the new VM serves" pong "$(shop_tcp ping)"
}

# A clean stop: STOPPING=1 reaches systemd, the unit is deactivating while the VM drains a client.
scenario_stop() {
    need_release
    [ "$(prop ActiveState)" = active ] || e2e_exec systemctl start shop
    shop_mark
    e2e_exec timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4000 && echo ping >&3 && read -r _ <&3 &&
        sleep 2' &
    local client=$!
    sleep 0.5
    bg_systemctl stop
    e2e_wait_prop shop StatusText draining 3 || true
    check "deactivating and draining while a client is connected" "deactivating draining" \
        "$(prop ActiveState) $(prop StatusText)"
    wait "$client" || true
    settle
    check "systemctl stop succeeds" 0 "$rc"
    check "stopped, not failed" inactive "$(prop ActiveState)"
    local journal
    journal=$(journal_until 'Main process exited')
    check "STOPPING=1 first, then the down status" "STOPPING=1 STATUS=draining" \
        "$(notifications "$journal" | grep -oE 'STOPPING=1|STATUS=draining' | xargs)"
    check_grep "clean exit: status 0" 'shop.service: Main process exited, code=exited, status=0/SUCCESS' \
        "$journal"
}

# FileDescriptorStorePreserve=yes (254): the app's listener, stored, survives stop + start.
# Under 252 the store empties on stop and the app opens a new socket.
scenario_fd_store() {
    need_release
    if gen_unit --reload sighup --fd-store-max 4 --env-vars SHOP_FD_STORE=yes; then
        pass "unit with fd_store_max = 4 generated for 257"
    else
        fail "unit with fd_store_max = 4 generated for 257"
        return
    fi
    check "FileDescriptorStorePreserve=yes in the unit" yes "$(prop FileDescriptorStorePreserve)"
    # The store lives as long as the unit is loaded: enabled, as a server's service is, it stays
    # loaded while stopped (an unreferenced inactive unit is unloaded, its store with it).
    e2e_exec systemctl enable --quiet shop
    shop_env
    e2e_exec systemctl start shop
    check "first start: the app opens its listener and stores it" stored "$(shop_tcp listener)"
    local before
    before=$(e2e_exec ss -Hltne 'sport = :4000' | grep -oE 'ino:[0-9]+')
    e2e_exec systemctl stop shop
    check "stopped: the store still holds it" 1 "$(prop NFileDescriptorStore)"
    check "no connection refused while stopped: the kernel's queue is systemd's socket" yes \
        "$(e2e_exec timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4000' 2>/dev/null && echo yes || echo no)"
    e2e_exec systemctl start shop
    check "stop then start: the listener comes back from the store" systemd "$(shop_tcp listener)"
    check "the same socket (inode)" "$before" "$(e2e_exec ss -Hltne 'sport = :4000' | grep -oE 'ino:[0-9]+')"
    check "and it serves" pong "$(shop_tcp ping)"
    e2e_exec systemctl stop shop
    e2e_exec systemctl disable --quiet shop
    # The units of the other scenarios.
    gen_unit --reload sighup >/dev/null
}

# The journal handler configured the Elixir 1.15+ way (config :shop, :logger, added by
# Logger.add_handlers/1): an entry with its fields in 257's journald.
scenario_journal() {
    need_release
    [ "$(prop ActiveState)" = active ] || e2e_exec systemctl start shop
    shop_mark
    local id=$RANDOM$RANDOM fields
    check_grep "the journal handler is installed" '^ok .*\bjournal\b' "$(shop_tcp "probe handlers")"
    check_no_grep "Logger's default handler is off" '\bdefault\b' "$(shop_tcp "probe handlers")"
    check "an entry logged" ok "$(shop_tcp "probe log warning $id hello from Elixir 1.18")"
    sleep 1
    fields=$(e2e_exec journalctl -q --no-pager --all -o json --since=@"$SHOP_MARK" REQUEST_ID="$id" |
        python3 "$HERE/journal_json.py" fields MESSAGE PRIORITY SYSLOG_IDENTIFIER CODE_FUNC ERL_DOMAIN \
            REQUEST_ID _TRANSPORT _SYSTEMD_UNIT)
    check_grep "MESSAGE" '^MESSAGE=hello from Elixir 1.18$' "$fields"
    check_grep "PRIORITY=4 for a warning" '^PRIORITY=4$' "$fields"
    check_grep "SYSLOG_IDENTIFIER is the release's name" '^SYSLOG_IDENTIFIER=shop$' "$fields"
    check_grep "CODE_FUNC" '^CODE_FUNC=Elixir\.Shop\.Probe:log/1$' "$fields"
    check_grep "ERL_DOMAIN" '^ERL_DOMAIN=elixir$' "$fields"
    check_grep "REQUEST_ID from the metadata" "^REQUEST_ID=$id\$" "$fields"
    check_grep "through journald's native protocol" '^_TRANSPORT=journal$' "$fields"
    check_grep "attributed to the unit" '^_SYSTEMD_UNIT=shop.service$' "$fields"
    check "logged once: no copy through stdout" 0 \
        "$(e2e_exec journalctl -q --no-pager -o cat --since=@"$SHOP_MARK" _SYSTEMD_UNIT=shop.service \
            _TRANSPORT=stdout | grep -c 'hello from Elixir' || true)"
}

setup() {
    e2e_use_suite trixie
    e2e_scratch
    local tree otp
    tree=$(e2e_tree) || {
        fail "the trixie tree"
        finish
    }
    otp=$(cat "$tree"/usr/lib/erlang/releases/*/OTP_VERSION 2>/dev/null | head -n 1)
    PLT_DIR=$E2E_CACHE/plt-otp-${otp:-unknown}
    # exposure.py's units: the same path here and inside.
    SHARED=$E2E_SCRATCH/shared
    mkdir -p "$PLT_DIR" "$SHARED"
    e2e_pristine_tree "$E2E_SCRATCH/vigil" || {
        fail "pristine copy of the tree"
        finish
    }
    SHOP_SRC=$E2E_SCRATCH/vigil/examples/shop
    SHOP_UNITS=$E2E_SCRATCH/units
    e2e_boot trixie-test --bind="$PLT_DIR:/root/.cache/rebar3" --bind="$SHARED:$SHARED" || {
        fail "boot"
        finish
    }
    check "systemd 257 is PID 1" "systemd 257" "$(e2e_exec systemctl --version | head -n 1 | cut -d' ' -f1,2)"
    e2e_copy_in "$E2E_SCRATCH/vigil" "$IN_TREE"
    e2e_exec systemd-analyze log-level debug
}

SCENARIOS="build release analyze helpers exposure start reload watchdog stop fd_store journal"
run_scenarios "$SCENARIOS" "$@"

if e2e_stop; then pass "the container stopped, nothing left behind"; else fail "nothing left behind"; fi
finish
