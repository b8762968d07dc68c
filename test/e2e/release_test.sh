#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317 # the scenarios are called by name
# test/e2e/release_test.sh: the example release (examples/shop), built with `mix release` and
# supervised by a real systemd through the unit `mix vigil.gen.unit` generates (strict profile).
# Every assertion is on what systemd reports: systemctl show, the journal, systemd-analyze.
#
#   release_test.sh [SCENARIO...]   the scenarios named (default: all, in the order below); each
#                                   brings the unit into the state it needs, so any runs alone
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
# shellcheck source=shop.sh
. "$HERE/shop.sh"

# shellcheck source=assert.sh
. "$HERE/assert.sh"

prop() {
    e2e_prop shop "$1"
}

# The notifications systemd logged (at debug level) among journal lines.
notifications() {
    grep -E 'Got notification message from PID [0-9]+ \(' <<<"$1" || true
}

# shop_running [NAME=VALUE...]: the unit active with exactly these settings, started (or
# restarted) only if it is not already so.
SHOP_SETTINGS=none
shop_running() {
    [ "$(prop ActiveState)" != active ] || [ "$SHOP_SETTINGS" != "$*" ] || return 0
    shop_stopped
    shop_env "$@"
    SHOP_SETTINGS="$*"
    e2e_exec systemctl start shop || fail "could not start shop with settings '$*'"
}

# Exposure: systemd's own analysis of the loaded unit, against the generator's manifest.
scenario_exposure() {
    score=$(e2e_exec systemd-analyze security shop.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for shop.service: \([0-9.]*\).*/\1/p')
    check "systemd-analyze security of the installed unit = the manifest's expected score" \
        "$(shop_expected_exposure)" "$score"
}

# systemctl start blocks until READY=1, which the app sends once warm.
scenario_start() {
    shop_stopped
    shop_env SHOP_READY_DELAY_MS=1500 SHOP_RELOAD_MS=1500
    SHOP_SETTINGS="SHOP_READY_DELAY_MS=1500 SHOP_RELOAD_MS=1500"
    shop_mark
    bg_systemctl start
    e2e_wait_prop shop StatusText "warming up" 4 || true
    check "activating while warming up, before READY=1" "activating warming up" \
        "$(prop ActiveState) $(prop StatusText)"
    settle
    check "systemctl start succeeds" 0 "$rc"
    if [ "$elapsed_ms" -ge 1500 ]; then pass "systemctl start blocked until ready (${elapsed_ms} ms)"; else
        fail "systemctl start blocked until ready" "returned after ${elapsed_ms} ms, readiness takes 1500"
    fi
    check "active, running, vigil's status line" "active running serving on :$SHOP_PORT" \
        "$(prop ActiveState) $(prop SubState) $(prop StatusText)"
    journal=$(shop_journal)
    check_grep "READY=1 came from the BEAM with the status of Vigil.Ready" \
        "\(READY=1, STATUS=serving on :$SHOP_PORT\)" "$(notifications "$journal")"
    check "NotifyAccess=main: the main process is the BEAM" beam.smp \
        "$(e2e_exec cat "/proc/$(prop MainPID)/comm")"
    # The health checks start once the app is up: a boot is no failing check.
    check_no_grep "no health check failure logged during the boot" 'health check' "$journal"
}

# The app serves TCP under the strict profile.
scenario_tcp() {
    [ "$(prop ActiveState)" = active ] || shop_running
    check "TCP request served under the strict profile" pong "$(shop_tcp ping)"
    check "UTF-8 through the socket" "héllo wörld ✓" "$(shop_tcp "echo héllo wörld ✓")"
}

# systemctl reload: SIGHUP, RELOADING=1 with MONOTONIC_USEC, the reload, READY=1.
scenario_reload() {
    shop_running SHOP_READY_DELAY_MS=1500 SHOP_RELOAD_MS=1500
    shop_mark
    bg_systemctl reload
    e2e_wait_prop shop ActiveState reloading 3 || true
    check "reloading while the reload runs" reloading "$(prop ActiveState)"
    settle
    check "systemctl reload succeeds" 0 "$rc"
    # On systemd 252 the reload job ends when ExecReload's kill exits; RELOADING=1 keeps the unit
    # reloading until the READY=1 that ends the reload.
    if e2e_wait_prop shop StatusText "serving on :$SHOP_PORT, configuration generation 1" 5 &&
        e2e_wait_prop shop ActiveState active 2; then
        pass "active again with the new status"
    else
        fail "active again with the new status" "$(prop ActiveState) $(prop StatusText)"
    fi
    check "the app reloaded once" 1 "$(shop_tcp generation)"
    journal=$(shop_journal)
    reloading=$(notifications "$journal" | grep -m1 'RELOADING=1' || true)
    check_grep "RELOADING=1 carries MONOTONIC_USEC" 'RELOADING=1, MONOTONIC_USEC=[0-9]+' "$reloading"
    # MONOTONIC_USEC is CLOCK_MONOTONIC, as the journal's own stamp of the entry (same kernel).
    mono=$(sed -n 's/^\[ *\([0-9.]*\)\].*MONOTONIC_USEC=\([0-9]*\).*/\1 \2/p' <<<"$reloading" |
        awk '{ d = $2 / 1e6 - $1; if (d < 0) d = -d; print (d < 1) ? "yes" : "no (" $2 " us, logged at " $1 " s)" }')
    check "MONOTONIC_USEC is the monotonic clock of the moment" yes "${mono:-no}"
    check_no_grep "systemd ignored no notification field" 'notification.*(ignor|invalid|Failed)' "$journal"
    check_grep "READY=1 after the reload" 'READY=1' \
        "$(notifications "$journal" | sed -n '/RELOADING=1/,$p' | tail -n +2)"
}

# Watchdog: a wedged node fails its health check, pings stop, systemd kills and restarts.
scenario_watchdog() {
    [ "$(prop ActiveState)" = active ] || shop_running
    # Each restart reads the settings afresh: plain ones from here on.
    shop_env
    SHOP_SETTINGS=
    for round in 1 2 3; do
        shop_mark
        old_pid=$(prop MainPID)
        check "watchdog $round: wedge command accepted" wedged "$(shop_tcp wedge)"
        # Between the failure and the kill (about WatchdogSec/2) systemctl status says why.
        wedged_status=no
        for _ in $(seq 40); do
            case "$(prop StatusText)" in "watchdog: health check Shop.Health.check/0 failed"*)
                wedged_status=yes
                break
                ;;
            esac
            sleep 0.05
        done
        if e2e_wait_prop shop NRestarts "$round" $((WATCHDOG_SEC * 3 + 5)); then
            pass "watchdog $round: NRestarts is $round"
        else
            fail "watchdog $round: NRestarts" "expected $round, got $(prop NRestarts)"
        fi
        if e2e_wait_prop shop StatusText "serving on :$SHOP_PORT" 10 &&
            e2e_wait_prop shop ActiveState active 5; then
            pass "watchdog $round: the new instance is ready again"
        else
            fail "watchdog $round: ready again" "$(prop ActiveState) $(prop StatusText)"
        fi
        new_pid=$(prop MainPID)
        if [ "$new_pid" != "$old_pid" ] && [ "$new_pid" != 0 ]; then
            pass "watchdog $round: a new main process ($old_pid -> $new_pid)"
        else
            fail "watchdog $round: a new main process" "$old_pid -> $new_pid"
        fi
        check "watchdog $round: the new instance serves" pong "$(shop_tcp ping)"
        journal=$(shop_journal)
        if [ "$round" -eq 1 ]; then
            check_grep "the app logged the failing health check" \
                'health check Shop\.Health\.check/0 failed' "$journal"
            check_grep "at error level, saying the manager's watchdog will expire" \
                'vigil: health check Shop\.Health\.check/0 failed.*watchdog will expire' \
                "$(e2e_exec journalctl -q --no-pager -o cat --since=@"$SHOP_MARK" -u shop -p err)"
            check "the status line named the failing check before the kill" yes "$wedged_status"
            check_grep "systemd logged the watchdog timeout" \
                "shop.service: Watchdog timeout \(limit ${WATCHDOG_SEC}s\)" "$journal"
            check_grep "systemd killed the BEAM for it" 'shop.service: Killing process [0-9]+ \(beam.smp\)' \
                "$journal"
        else
            check_grep "watchdog $round: systemd logged the watchdog timeout" 'Watchdog timeout' "$journal"
        fi
    done
}

# systemctl stop: STOPPING=1 at once, the app drains with its down status, exits cleanly.
scenario_stop() {
    shop_running
    # A client keeps a connection open for 2 s; the listener waits for it (SHOP_DRAIN_MS: 5 s).
    shop_mark
    e2e_exec timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4000 && echo ping >&3 && read -r _ <&3 &&
        sleep 2' &
    client=$!
    sleep 0.5
    bg_systemctl stop
    e2e_wait_prop shop StatusText draining 3 || true
    check "deactivating and draining while a client is connected" "deactivating draining" \
        "$(prop ActiveState) $(prop StatusText)"
    sleep 0.5
    check "still draining half a second later" "deactivating draining" \
        "$(prop ActiveState) $(prop StatusText)"
    wait "$client" || true
    settle
    check "systemctl stop succeeds" 0 "$rc"
    if [ "$elapsed_ms" -ge 1500 ]; then pass "stop waited for the open connection (${elapsed_ms} ms)"; else
        fail "stop waited for the open connection" "${elapsed_ms} ms"
    fi
    # Once stopped the unit may be garbage-collected, which resets Result and ExecMain*: the exit
    # is read from the journal; a failed unit would stay loaded as "failed".
    check "stopped, not failed" inactive "$(prop ActiveState)"
    journal=$(shop_journal)
    check_grep "clean exit: status 0" 'shop.service: Main process exited, code=exited, status=0/SUCCESS' \
        "$journal"
    check_grep "systemd: deactivated successfully" 'shop.service: Deactivated successfully' "$journal"
    order=$(notifications "$journal" | grep -oE 'STOPPING=1|STATUS=draining' | xargs)
    check "STOPPING=1 first, then the down status" "STOPPING=1 STATUS=draining" "$order"
    check_grep "the app drained its connection" 'drained; 0 connection' "$journal"
    sleep 1.5
    check "no restart after a clean stop" inactive "$(prop ActiveState)"
    check_no_grep "no restart scheduled" 'Scheduled restart job' "$(shop_journal)"
}

# EXTEND_TIMEOUT_USEC: a boot of 7 s against TimeoutStartSec=5. First without it: the
scenario_extend_timeout() {
    shop_stopped
    # start times out. Then with it: the start succeeds.
    shop_env SHOP_BOOT_MS=7000 SHOP_BOOT_EXTEND=no
    shop_mark
    bg_systemctl start 2>/dev/null
    settle
    check "a 7 s boot without EXTEND_TIMEOUT_USEC fails" "1 timeout" "$rc $(prop Result)"
    check_grep "systemd logged the start timeout" '[Ss]tart operation timed out' "$(shop_journal)"
    e2e_exec systemctl stop shop
    e2e_exec systemctl reset-failed shop 2>/dev/null || true
    shop_env SHOP_BOOT_MS=7000
    shop_mark
    bg_systemctl start
    e2e_wait_prop shop ActiveState activating 3 || true
    sleep $((TIMEOUT_START_SEC + 1))
    # Which step it reached by now depends on how fast the VM booted on a loaded machine.
    check_grep "past TimeoutStartSec=$TIMEOUT_START_SEC, still activating and migrating" \
        '^activating migrating: step [1-7] of 7$' "$(prop ActiveState) $(prop StatusText)"
    settle
    check "systemctl start succeeds after a 7 s boot" "0 active" "$rc $(prop ActiveState)"
    if [ "$elapsed_ms" -gt $((TIMEOUT_START_SEC * 1000)) ]; then
        pass "the start took longer than TimeoutStartSec (${elapsed_ms} ms)"
    else
        fail "the start took longer than TimeoutStartSec" "${elapsed_ms} ms"
    fi
    check_grep "EXTEND_TIMEOUT_USEC reached systemd" 'EXTEND_TIMEOUT_USEC=2000000' \
        "$(notifications "$(shop_journal)")"
    e2e_exec systemctl stop shop
}

# Injection: a status holding "\nREADY=1", sent before readiness, stays a status.
scenario_injection() {
    shop_stopped
    shop_env SHOP_INJECT=yes SHOP_READY_DELAY_MS=1500
    shop_mark
    bg_systemctl start
    e2e_wait_prop shop StatusText "warming up READY=1" 4 || true
    check "still activating after the injected status" "activating warming up READY=1" \
        "$(prop ActiveState) $(prop StatusText)"
    settle
    if [ "$rc" -eq 0 ] && [ "$elapsed_ms" -ge 1500 ]; then
        pass "systemctl start did not return early (${elapsed_ms} ms)"
    else
        fail "systemctl start did not return early" "rc $rc after ${elapsed_ms} ms"
    fi
    journal=$(shop_journal)
    readies=$(notifications "$journal" | grep -cE '[(,] ?READY=1' || true)
    check "exactly one READY=1 reached systemd, the real one" 1 "$readies"
    check_grep "the injected text arrived as one STATUS field" '\(STATUS=warming up READY=1\)' \
        "$(notifications "$journal")"
    check_grep "Vigil.notify refused the raw line break" \
        'notify with a line break in STATUS returned \{:error, \{:invalid, "STATUS"\}\}' "$journal"
    e2e_exec systemctl stop shop
}

# 20 start/stop cycles in a row.
scenario_cycles() {
    shop_stopped
    shop_env
    shop_mark
    cycles_failed=()
    began_cycles=$SECONDS
    for i in $(seq 1 20); do
        if ! e2e_exec systemctl start shop; then
            cycles_failed+=("$i: start")
            continue
        fi
        state="$(prop ActiveState) $(prop StatusText)"
        [ "$state" = "active serving on :$SHOP_PORT" ] || cycles_failed+=("$i: $state")
        e2e_exec systemctl stop shop || cycles_failed+=("$i: stop")
        state=$(prop ActiveState)
        [ "$state" = inactive ] || cycles_failed+=("$i: $state")
    done
    check "20 start/stop cycles in a row ($((SECONDS - began_cycles)) s)" "" "${cycles_failed[*]}"
    journal=$(shop_journal)
    check "20 clean exits, no failure, no restart" "20 0 0" \
        "$(grep -c 'shop.service: Deactivated successfully' <<<"$journal") $(grep -c 'shop.service: Failed with result' <<<"$journal") $(grep -c 'Scheduled restart' <<<"$journal")"
}

# Escaping round trip: a unit generated from nasty values, loaded and run by this systemd.
scenario_escaping() {
    rt=$E2E_SCRATCH/rt
    mkdir -p "$rt"
    python3 "$HERE/escape_roundtrip.py" gen "$(shop_vigil_unit)" "$rt/units"
    # One write per line: journald starts a new entry where the writing process changes.
    cat >"$rt/argv-dump" <<'EOF'
#!/bin/sh
printf 'rt-argv %s\n' "$(printf '%s\0' "$@" | od -An -v -tx1 | tr -d ' \n')"
printf 'rt-environ %s\n' "$(od -An -v -tx1 /proc/self/environ | tr -d ' \n')"
EOF
    printf '%s\n' '#!/bin/sh' 'exec sleep infinity' >"$rt/rt"
    chmod 0755 "$rt/argv-dump" "$rt/rt"
    e2e_copy_in "$rt/argv-dump" /usr/local/bin/argv-dump
    e2e_copy_in "$rt/rt" /srv/rt/current/bin/rt
    e2e_copy_in "$rt/units/rt.service" /etc/systemd/system/rt.service
    e2e_exec systemctl daemon-reload
    e2e_exec systemctl show -p Environment -p ExecStartPre rt >"$rt/show"
    e2e_exec busctl --json=short get-property org.freedesktop.systemd1 \
        /org/freedesktop/systemd1/unit/rt_2eservice org.freedesktop.systemd1.Service ExecStartPre \
        >"$rt/bus"
    if e2e_exec systemctl start rt; then pass "the nasty unit starts"; else fail "the nasty unit starts"; fi
    for _ in $(seq 30); do
        e2e_exec journalctl -q -o cat -t rt | grep '^rt-' >"$rt/dump" || true
        [ "$(wc -l <"$rt/dump")" -lt 2 ] || break
        sleep 0.1
    done
    e2e_exec systemctl stop rt
    while IFS= read -r line; do
        case "$line" in
        "ok   "*) pass "${line#ok   }" ;;
        "FAIL "*) fail "${line#FAIL }" ;;
        *) echo "$line" ;;
        esac
    done < <(python3 "$HERE/escape_roundtrip.py" check "$rt/units" "$rt/show" "$rt/bus" "$rt/dump" 2>&1 ||
        echo "FAIL escape_roundtrip.py check exited with an error")
}

# An in-place restart (System.restart/0, :init.restart/0) from inside the node: a reload to
# systemd, the same main process, no kill, no restart counted.
scenario_restart_in_place() {
    local pid states state i
    # OTP's restart leaves the node without pings for about 2 s (README: keep WatchdogSec= above
    # that): this scenario runs with a 10 s watchdog, through a drop-in.
    printf '[Service]\nWatchdogSec=10\n' |
        e2e_exec sh -c 'mkdir -p /etc/systemd/system/shop.service.d && cat >/etc/systemd/system/shop.service.d/watchdog.conf'
    e2e_exec systemctl daemon-reload
    shop_stopped
    shop_running
    pid=$(prop MainPID)
    shop_mark
    check "restart: the node took the command" ok "$(shop_tcp "probe init restart")"
    states=()
    for ((i = 0; i < 100; i++)); do
        state=$(prop ActiveState)
        [ "${#states[@]}" -gt 0 ] && [ "${states[-1]}" = "$state" ] || states+=("$state")
        [ "$state" != active ] || [ "${#states[@]}" -lt 2 ] || break
        sleep 0.1
    done
    check "restart: the unit went reloading, then active" "active reloading active" "${states[*]}"
    check "restart: the same main process, no restart counted" "$pid 0" "$(prop MainPID) $(prop NRestarts)"
    check "restart: serving again" pong "$(shop_tcp ping)"
    journal=$(shop_journal)
    check_grep "restart: RELOADING=1 with MONOTONIC_USEC and the restarting status" \
        'RELOADING=1, MONOTONIC_USEC=[0-9]+, STATUS=restarting' "$(notifications "$journal")"
    check_grep "restart: READY=1 from the restarted boot" \
        "READY=1, STATUS=serving on :$SHOP_PORT" "$(notifications "$journal" | sed -n '/RELOADING=1/,$p')"
    check_no_grep "restart: no watchdog timeout, no kill, no failure" \
        'Watchdog timeout|Killing process|Failed with result' "$journal"
    e2e_exec rm -r /etc/systemd/system/shop.service.d
    e2e_exec systemctl daemon-reload
    shop_stopped
}

# :init.reboot/0 from inside the node: a new VM. vigil exits 75, which the unit restarts
# (RestartForceExitStatus=) without counting a failure (SuccessExitStatus=).
scenario_reboot() {
    shop_running
    local pid restarts
    pid=$(prop MainPID)
    restarts=$(prop NRestarts)
    shop_mark
    check "reboot: the node took the command" ok "$(shop_tcp "probe init reboot")"
    e2e_wait_prop shop NRestarts $((restarts + 1)) 15 || true
    e2e_wait_prop shop ActiveState active 15 || true
    check "reboot: one restart, active again" "$((restarts + 1)) active" "$(prop NRestarts) $(prop ActiveState)"
    if [ "$(prop MainPID)" != "$pid" ]; then pass "reboot: a new VM ($pid -> $(prop MainPID))"; else
        fail "reboot: a new VM" "the main process is still $pid"
    fi
    check "reboot: serving again" pong "$(shop_tcp ping)"
    journal=$(shop_journal)
    check_grep "reboot: STOPPING=1 with the rebooting status" 'STOPPING=1, STATUS=rebooting' \
        "$(notifications "$journal")"
    check_grep "reboot: exit status 75" 'Main process exited, code=exited, status=75/TEMPFAIL' "$journal"
    check_no_grep "reboot: not a failure, no watchdog timeout" 'Failed with result|Watchdog timeout' "$journal"
}

# :init.stop/0 from inside the node: STOPPING=1, a clean exit, no restart.
scenario_stop_from_inside() {
    shop_running
    shop_mark
    check "init stop: the node took the command" ok "$(shop_tcp "probe init stop")"
    e2e_wait_prop shop ActiveState inactive 15 || true
    journal=$(shop_journal)
    check "init stop: inactive" inactive "$(prop ActiveState)"
    check_grep "init stop: STOPPING=1 first" 'STOPPING=1' "$(notifications "$journal")"
    check_grep "init stop: exit status 0" 'Main process exited, code=exited, status=0/SUCCESS' "$journal"
    check_no_grep "init stop: no restart" 'Scheduled restart job' "$journal"
}

# The journal: the example logs through vigil_journal_h from its boot on (config/config.exs).
# journald keeps everything the test sends: the unit's rate limit is far above the floods (setup).
# Its default size limits, a tenth of the container's tmpfs, leave room for a 40 MiB entry.
journal_json() {
    e2e_exec journalctl -q --no-pager --all -o json --since=@"$SHOP_MARK" "$@"
}

# journal_count MATCH...: waits (up to 30 s) until there are entries matching MATCH and they
# stop growing, and prints their number.
journal_count() {
    local n last=-1 stable=0
    for _ in $(seq 60); do
        n=$(e2e_exec journalctl -q --no-pager -o cat --since=@"$SHOP_MARK" "$@" | wc -l)
        if [ "$n" = "$last" ] && [ "$n" -gt 0 ]; then stable=$((stable + 1)); else stable=0; fi
        [ "$stable" -lt 3 ] || break
        last=$n
        sleep 0.5
    done
    echo "$n"
}


scenario_journal() {
    shop_running
    shop_mark
    local id=$RANDOM$RANDOM fields
    check "an info entry logged" ok "$(shop_tcp "probe log info $id hello from the journal test")"
    check "an error entry logged" ok "$(shop_tcp "probe log error $id-err something failed")"
    sleep 1
    fields=$(journal_json REQUEST_ID="$id" | python3 "$HERE/journal_json.py" fields MESSAGE PRIORITY \
        SYSLOG_IDENTIFIER CODE_FILE CODE_LINE CODE_FUNC ERL_PID ERL_DOMAIN REQUEST_ID _TRANSPORT \
        _SYSTEMD_UNIT)
    check_grep "MESSAGE is the text logged, alone" '^MESSAGE=hello from the journal test$' "$fields"
    check_grep "PRIORITY=6 for info" '^PRIORITY=6$' "$fields"
    check_grep "SYSLOG_IDENTIFIER is the release's name" '^SYSLOG_IDENTIFIER=shop$' "$fields"
    check_grep "CODE_FILE is where it was logged" '^CODE_FILE=.*lib/shop/probe\.ex$' "$fields"
    check_grep "CODE_LINE is a line number" '^CODE_LINE=[0-9]+$' "$fields"
    check_grep "CODE_FUNC is Module:function/arity" '^CODE_FUNC=Elixir\.Shop\.Probe:log/1$' "$fields"
    check_grep "ERL_PID is the process that logged" '^ERL_PID=<0\.[0-9]+\.0>$' "$fields"
    check_grep "ERL_DOMAIN is the logger domain" '^ERL_DOMAIN=elixir$' "$fields"
    check_grep "the metadata key request_id arrives as REQUEST_ID" "^REQUEST_ID=$id\$" "$fields"
    check_grep "through journald's native protocol" '^_TRANSPORT=journal$' "$fields"
    check_grep "attributed to the unit" '^_SYSTEMD_UNIT=shop.service$' "$fields"
    check "logged once: no copy through stdout" 0 \
        "$(e2e_exec journalctl -q --no-pager -o cat --since=@"$SHOP_MARK" _SYSTEMD_UNIT=shop.service \
            _TRANSPORT=stdout | grep -c 'hello from the journal test' || true)"
    local errors
    errors=$(e2e_exec journalctl -q --no-pager -o cat --since=@"$SHOP_MARK" -u shop -p err)
    check_grep "journalctl -p err shows the error" '^something failed$' "$errors"
    check_no_grep "journalctl -p err leaves the info out" 'hello from the journal test' "$errors"

    check "a message with newlines logged" ok \
        "$(shop_tcp "probe log warning $id-nl line one\\nline two\\n\\tindented")"
    sleep 1
    check "it arrives whole, newlines and tab included" 'MESSAGE=line one\nline two\n\tindented' \
        "$(journal_json REQUEST_ID="$id-nl" | python3 "$HERE/journal_json.py" fields MESSAGE)"

    local size expected got
    for size in 1048576 41943040; do
        check "a $size-byte entry logged" ok "$(shop_tcp "probe log_big $id-$size $size")"
        expected="$size $(python3 -c 'import hashlib,sys; n=int(sys.argv[1]); print(hashlib.sha256((b"0123456789abcdef" * (n // 16 + 1))[:n]).hexdigest())' "$size")"
        got=
        for _ in $(seq 40); do
            got=$(journal_json REQUEST_ID="$id-$size" | python3 "$HERE/journal_json.py" message)
            [ "$got" = "0 $(printf '' | sha256sum | cut -d' ' -f1)" ] || break
            sleep 0.5
        done
        check "the $size-byte entry arrives intact (length and sha256)" "$expected" "$got"
    done

    # Floods: every entry is either stored or counted as dropped by the handler, and the drops
    # reach the journal as summary entries. First with the default burst limit (500 a second),
    # then without it (what journald's queue cannot take is dropped as queue_full).
    check "drop summaries at most every 100 ms" ok "$(shop_tcp "probe journal drop_report_interval 100")"
    local burst reply sent dropped stored summaries
    for burst in true false; do
        shop_mark
        check "burst limit $burst" ok "$(shop_tcp "probe journal burst_limit_enable $burst")"
        reply=$(SHOP_TCP_TIMEOUT=120 shop_tcp "probe flood $id-$burst 100000 8") || reply=
        read -r _ sent dropped <<<"$reply"
        check "flood (burst limit $burst): 100000 entries sent" 100000 "${sent:-}"
        stored=$(journal_count FLOOD="$id-$burst")
        # Once journald has caught up, the next entry carries the last summary with it.
        shop_tcp "probe log info $id-after-$burst after the flood" >/dev/null || true
        journal_count REQUEST_ID="$id-after-$burst" >/dev/null
        check "flood (burst limit $burst): stored $stored + dropped ${dropped:-?} = sent" 100000 \
            $((stored + ${dropped:-0}))
        summaries=$(journal_json SYSLOG_IDENTIFIER=shop PRIORITY=4 | python3 "$HERE/journal_json.py" sum N_DROPPED)
        check "flood (burst limit $burst): the summaries report every drop" "${dropped:-?}" "$summaries"
    done
    check "burst limit back on" ok "$(shop_tcp "probe journal burst_limit_enable true")"
    check_grep "the handler is still installed" '^ok .*\bjournal\b' "$(shop_tcp "probe handlers")"
    check "and still logs" ok "$(shop_tcp "probe log info $id-end still here")"
    journal_count REQUEST_ID="$id-end" >/dev/null
    check "its entry is there" 'MESSAGE=still here' \
        "$(journal_json REQUEST_ID="$id-end" | python3 "$HERE/journal_json.py" fields MESSAGE)"

    # The watchdog's summary, for tuning WatchdogSec=: on request, and when the node stops.
    local summary_id=7ae7a1b7f796442bb549d9dfeacc97af summary
    check "the watchdog writes its summary on request" ok "$(shop_tcp "probe watchdog_summary")"
    journal_count MESSAGE_ID="$summary_id" VIGIL_WATCHDOG_REASON=requested >/dev/null
    summary=$(journal_json MESSAGE_ID="$summary_id" VIGIL_WATCHDOG_REASON=requested |
        python3 "$HERE/journal_json.py" fields MESSAGE VIGIL_WATCHDOG_PINGS VIGIL_WATCHDOG_USEC \
            VIGIL_WATCHDOG_LATENESS_P99_US VIGIL_WATCHDOG_RECOMMENDED_SEC SYSLOG_IDENTIFIER)
    check_grep "summary: a readable MESSAGE" '^MESSAGE=watchdog: [0-9]+ pings in .*recommended WatchdogSec=[0-9]+s' "$summary"
    check_grep "summary: the pings sent" '^VIGIL_WATCHDOG_PINGS=[1-9][0-9]*$' "$summary"
    check_grep "summary: the unit's WatchdogSec= in microseconds" "^VIGIL_WATCHDOG_USEC=${WATCHDOG_SEC}000000\$" "$summary"
    check_grep "summary: the lateness measured" '^VIGIL_WATCHDOG_LATENESS_P99_US=[0-9]+$' "$summary"
    check_grep "summary: a recommended WatchdogSec=" '^VIGIL_WATCHDOG_RECOMMENDED_SEC=[1-9][0-9]*$' "$summary"
    check_grep "summary: under the release's name" '^SYSLOG_IDENTIFIER=shop$' "$summary"
    shop_stopped
    check "the watchdog writes its summary when the node stops" 1 \
        "$(journal_count MESSAGE_ID="$summary_id" VIGIL_WATCHDOG_REASON=shutdown)"
}

# The release built, its unit generated, the container booted and both installed.
setup() {
    # Watchdog and restart times short enough for a test; StartLimitIntervalSec=0 because the suite
    # starts the unit far more often than StartLimitBurst allows in a minute; journald's rate limit
    # for the unit far above the journal scenario's floods.
    WATCHDOG_SEC=2
    TIMEOUT_START_SEC=5
    if shop_build && shop_gen_unit --watchdog-sec "$WATCHDOG_SEC" --restart-sec 1 \
        --timeout-start-sec "$TIMEOUT_START_SEC" --start-limit-interval-sec 0 \
        --log-rate-limit-interval-sec 1 --log-rate-limit-burst 1000000; then
        pass "release built and unit generated (strict profile)"
    else
        fail "release built and unit generated"
        finish
    fi
    check "the generated unit uses the strict profile" strict \
        "$(sed -n 's/^ *"hardening": *"\([a-z]*\)".*/\1/p' "$SHOP_UNITS/shop.manifest.json")"

    e2e_boot release-test || {
        fail "boot"
        finish
    }
    if shop_install; then pass "release and unit installed in $(shop_current_dir)"; else
        fail "install"
        finish
    fi
    # systemd logs each notification it receives at debug level: the journal then shows exactly
    # which fields arrived, and in what order.
    e2e_exec systemd-analyze log-level debug
}

SCENARIOS="exposure start tcp journal reload watchdog restart_in_place reboot stop_from_inside"
SCENARIOS+=" stop extend_timeout injection cycles escaping"
run_scenarios "$SCENARIOS" "$@"

if e2e_stop; then pass "the container stopped, nothing left behind"; else fail "nothing left behind"; fi
finish
