#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317 # the scenarios are called by name
# test/e2e/sockets_test.sh: sockets that outlive the BEAM, under a real systemd. The example
# release takes its listener from a socket unit (vigil-unit's `sockets`) or from the fd store
# (`fd_store_max` + Vigil.store_fds), and a TCP client inside the container opens new
# connections at a steady rate while `systemctl restart shop` runs again and again: no
# connection may be refused or fail. The same load against the app binding its own port is the
# baseline, and shows what the load detects.
#
#   sockets_test.sh [SCENARIO...]   the scenarios named (default: all, in the order below)
#
# Settings: SOCKETS_RESTARTS (default 20), SOCKETS_RATE (connections a second, default 200).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
# shellcheck source=shop.sh
. "$HERE/shop.sh"
# shellcheck source=assert.sh
. "$HERE/assert.sh"

RESTARTS=${SOCKETS_RESTARTS:-20}
RATE=${SOCKETS_RATE:-200}
# One line per load run, for the table at the end.
FIGURES=()

prop() {
    e2e_prop shop "$1"
}

# unit_as ARG...: the example's unit generated with these vigil-unit keys and installed, the
# service stopped; the release stays where it is.
unit_as() {
    e2e_exec systemctl stop shop.socket shop 2>/dev/null || true
    e2e_exec systemctl reset-failed shop 2>/dev/null || true
    e2e_exec rm -f /etc/systemd/system/shop.socket
    shop_gen_unit --watchdog-sec 10 --restart-sec 1 --start-limit-interval-sec 0 "$@" || return 1
    shop_install_units
}

# under_load NAME PORT: RESTARTS restarts of the service while the client opens RATE
# connections a second to PORT; sets `load` to the client's summary line and adds it to FIGURES.
under_load() {
    local name=$1 port=$2 i out gaps
    shop_mark
    e2e_exec rm -f /tmp/load.stop
    out=$(mktemp)
    e2e_exec escript /vigil/test/e2e/load_client.escript 127.0.0.1 "$port" "$RATE" /tmp/load.stop 600 \
        >"$out" 2>&1 &
    local client=$!
    sleep 1
    restarted=0
    for ((i = 0; i < RESTARTS; i++)); do
        if e2e_exec systemctl restart shop; then restarted=$((restarted + 1)); fi
        sleep 0.5
    done
    sleep 1
    e2e_exec touch /tmp/load.stop
    wait "$client" || true
    load=$(grep -E '^sent ' "$out" || true)
    grep -E '^failure' "$out" | sed 's/^/     /' || true
    rm -f "$out"
    gaps=$(restart_gaps)
    FIGURES+=("$(printf '%-24s %s; %s' "$name" "${load:-no result}" "$gaps")")
    echo "     $name: $load"
}

# The restart gaps since shop_mark, from the app's own journal entries: from the old VM closing
# its listener to the new one listening; prints "gap_ms mean X max Y".
restart_gaps() {
    e2e_exec journalctl -q --no-pager -o short-unix --since=@"$SHOP_MARK" SYSLOG_IDENTIFIER=shop |
        awk '/closing the listener/ { closed = $1 }
             /listening on/ && closed { g = ($1 - closed) * 1000; n++; sum += g; if (g > max) max = g; closed = 0 }
             END { printf "gap_ms mean %d max %d (%d restarts)\n", n ? sum / n : 0, max, n }'
}

# figure NAME: one number of the client's summary line.
figure() {
    awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$load"
}

# ---- scenarios ----

# Socket activation: port 80 from a socket unit, no capability, no network of the service's own.
scenario_activation() {
    SHOP_PORT=80
    unit_as --sockets http=80 --socket-backlog 2048 --private-network || {
        fail "unit with sockets = [http=80] generated and installed"
        return
    }
    pass "unit with sockets = [http=80] generated and installed"
    check "the service has no capability to bind port 80" "" \
        "$(e2e_prop shop AmbientCapabilities | sed 's/^$//')"
    check "the service has no network of its own" yes "$(prop PrivateNetwork)"
    local expected score
    expected=$(shop_expected_exposure)
    score=$(e2e_exec systemd-analyze security shop.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for shop.service: \([0-9.]*\).*/\1/p')
    check "systemd-analyze security = the manifest's expected score" "$expected" "$score"
    if awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 0.5) }'; then
        pass "exposure $score, at most 0.5"
    else fail "exposure at most 0.5" "$score"; fi

    e2e_exec systemctl start shop.socket
    check "systemctl start shop.socket leaves the service down" inactive "$(prop ActiveState)"
    check "the first connection starts the service and is served" pong "$(SHOP_TCP_TIMEOUT=20 shop_tcp ping)"
    check "the service is up" active "$(prop ActiveState)"
    check "its listener is the socket systemd passed" systemd "$(shop_tcp listener)"
    check "the socket unit's backlog" 2048 "$(e2e_prop shop.socket Backlog)"
    check "listen_options kept the backlog: listen_fds reads 2048 back" "ok http 2048" \
        "$(shop_tcp "probe listen_fds")"

    under_load "socket unit (port 80)" 80
    check "socket unit: $RESTARTS restarts done" "$RESTARTS" "$restarted"
    check "socket unit: connections refused" 0 "$(figure refused)"
    check "socket unit: connections failed" 0 "$(figure failed)"
    check "socket unit: every connection served" "$(figure sent)" "$(figure ok)"
}

# Baseline: the same app binding its own port; the same load sees the restarts.
scenario_baseline() {
    SHOP_PORT=4000
    unit_as || {
        fail "unit without sockets generated and installed"
        return
    }
    e2e_exec systemctl start shop
    check "the listener is the app's own" own "$(shop_tcp listener)"
    under_load "own port (baseline)" 4000
    check "baseline: $RESTARTS restarts done" "$RESTARTS" "$restarted"
    local lost=$(($(figure refused) + $(figure failed)))
    if [ "$lost" -gt 0 ]; then
        pass "baseline: the load sees the restarts ($(figure refused) refused, $(figure failed) failed)"
    else
        fail "baseline: the load sees the restarts" "$load"
    fi
}

# The fd store, no socket unit: the app hands its own listener to systemd, gets it back.
scenario_fd_store() {
    SHOP_PORT=4000
    unit_as --fd-store-max 4 --env-vars SHOP_FD_STORE=yes || {
        fail "unit with fd_store_max = 4 generated and installed"
        return
    }
    e2e_exec systemctl start shop
    check "first start: the app opens its listener and stores it" stored "$(shop_tcp listener)"
    e2e_exec systemctl restart shop
    check "after a restart: the listener comes back from the store" systemd "$(shop_tcp listener)"
    under_load "fd store (port 4000)" 4000
    check "fd store: connections refused" 0 "$(figure refused)"
    check "fd store: connections failed" 0 "$(figure failed)"
    check "fd store: every connection served" "$(figure sent)" "$(figure ok)"
    check "remove_fds takes it out of the store" ok "$(shop_tcp unstore)"
    e2e_exec systemctl restart shop
    check "the next start gets nothing: the app opens its own again" stored "$(shop_tcp listener)"
    e2e_exec systemctl stop shop
    e2e_exec systemctl start shop
    check "stop then start: the store is empty (systemd 252)" stored "$(shop_tcp listener)"
}

setup() {
    if shop_build; then pass "release built"; else
        fail "release built"
        finish
    fi
    e2e_boot sockets-test || {
        fail "boot"
        finish
    }
    if shop_gen_unit && shop_install; then pass "release installed in $(shop_current_dir)"; else
        fail "install"
        finish
    fi
}

run_scenarios "activation baseline fd_store" "$@"
echo "-- $RESTARTS restarts under $RATE new connections a second (latency from connect to answer):"
printf '     %s\n' "${FIGURES[@]}"

if e2e_stop; then pass "the container stopped, nothing left behind"; else fail "nothing left behind"; fi
finish
