#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317 # the scenarios are called by name
# test/e2e/deploy_test.sh: vigil-deploy under a real systemd. The example release is built once,
# made into five releases (0.1.0 … 0.3.0 good, 0.4.0 never ready, 0.5.0 crashing at boot, each
# with a cookie of its own as fresh CI builds have), and deployed into a container the way the
# README says: install in three commands, releases gated on READY=1 with automatic rollback,
# rollbacks back and forth, a reader of `current` that must never miss it, concurrent and killed
# deploys, deploys under load through a socket unit, and a deploy user without root whose
# restarts go through the restart flag.
#
#   deploy_test.sh [SCENARIO...]   the scenarios named (default: all, in the order below; each
#                                  one after `install` expects the ones before it)
#
# Settings: DEPLOY_SWITCHES (rollbacks for the reader, default 85: with the other scenarios'
# switches, over 100), DEPLOY_UNDER_LOAD (deploys under load, default 10), DEPLOY_RATE
# (connections a second, default 200).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
# shellcheck source=shop.sh
. "$HERE/shop.sh"
# shellcheck source=assert.sh
. "$HERE/assert.sh"

SWITCHES=${DEPLOY_SWITCHES:-85}
UNDER_LOAD=${DEPLOY_UNDER_LOAD:-10}
RATE=${DEPLOY_RATE:-200}
TIMEOUT_START=10
# Where the generated unit runs releases from (its deploy_dir), and the tool inside the container.
DD=/srv/shop
TOOL=
TARS=/root/tars
# Set by `deploy`: the tool's exit status, its output (each line led by the container's clock)
# and how long it ran in ms.
rc=0
out=
took=0
TIMINGS=()

prop() {
    e2e_prop shop "$1"
}

# The version the running node reports, or "down".
running_vsn() {
    local reply
    reply=$(shop_tcp "probe env RELEASE_VSN" || true)
    echo "${reply#ok }" | grep . || echo down
}

# current's target, e.g. releases/0.2.0-20261201T203000.123Z.
current() {
    e2e_exec readlink "$DD/current" || echo none
}

current_vsn() {
    current | sed -n 's|^releases/\([^-]*\)-.*|\1|p'
}

# The command deploy runs vigil-deploy with (empty: $TOOL as root).
deploy_as=()

# deploy ARG...: runs vigil-deploy ARG... in the container; sets rc, out and took.
deploy() {
    local start=${EPOCHREALTIME/./} cmd=("${deploy_as[@]}")
    [ "${#cmd[@]}" -gt 0 ] || cmd=("$TOOL")
    rc=0
    # shellcheck disable=SC2016 # the inner shell expands them
    out=$(e2e_exec bash -c '"$@" 2>&1 | while IFS= read -r l; do echo "$EPOCHREALTIME $l"; done
        exit "${PIPESTATUS[0]}"' sh "${cmd[@]}" --service shop "$@") || rc=$?
    took=$(((${EPOCHREALTIME/./} - start) / 1000))
    [ "${#deploy_as[@]}" -gt 0 ] || SWITCHED=$((SWITCHED + $(grep -c 'vigil-deploy: current is ' <<<"$out" || true)))
}

# From systemd's own journal entries since shop_mark, in ms after the first start of
# shop.service: "RESTART READY", when its last start began and when that one was done.
start_times() {
    e2e_exec journalctl -q --no-pager -o short-unix --since=@"$SHOP_MARK" _PID=1 UNIT=shop.service |
        awk '/Starting shop.service/ { if (!s) s = $1; r = $1 } /Started shop.service/ { e = $1 }
             END { if (s && e) printf "%d %d\n", (r - s) * 1000, (e - s) * 1000; else print "-1 -1" }'
}

show_output() {
    cut -d' ' -f2- <<<"$out" | tail -n 16 | cut -c1-200 | sed 's/^/     /'
}

at_most() {
    if awk -v v="$2" -v max="$3" 'BEGIN { exit !(v >= 0 && v <= max) }'; then
        pass "$1 ($2 ms)"
    else fail "$1" "$2 ms, more than $3"; fi
}

# ---- scenarios ----

# A fresh container in three commands: unpack, install, release.
scenario_install() {
    local t0 t2
    if ! { e2e_copy_in "$SHOP_TARS" "$TARS" && e2e_copy_in "$SHOP_UNITS" /root/systemd; }; then
        fail "tarballs and units copied in"
        return
    fi
    t0=${EPOCHREALTIME/./}
    if e2e_exec sh -c "mkdir -p /root/shop && tar -C /root/shop -xzf $TARS/shop-0.1.0.tar.gz"; then
        pass "1: the release unpacked"
    else fail "1: the release unpacked"; fi
    TOOL=$(e2e_exec sh -c 'echo /root/shop/lib/vigil-*/priv/vigil-deploy')
    if e2e_exec "$TOOL" install --units /root/systemd; then pass "2: vigil-deploy install"; else
        fail "2: vigil-deploy install"
    fi
    t2=${EPOCHREALTIME/./}
    deploy release "$TARS/shop-0.1.0.tar.gz"
    check "3: vigil-deploy release: exit status" 0 "$rc"
    TIMINGS+=("install (unpack + install)   $(((t2 - t0) / 1000)) ms")
    TIMINGS+=("first release to READY       $took ms")
    check "the service is active" active "$(prop ActiveState)"
    check "it runs 0.1.0" 0.1.0 "$(running_vsn)"
    start_reader
    check "it is enabled" enabled "$(e2e_exec systemctl is-enabled shop)"
    check_grep "its user has no login shell" 'nologin$' "$(e2e_exec getent passwd shop)"
    check "the deploy dir's cookie is 0600" 600 "$(e2e_exec stat -c %a "$DD/COOKIE")"
    if e2e_exec cmp -s "$DD/COOKIE" "$DD/current/releases/COOKIE"; then
        pass "the release's cookie was replaced by the deploy dir's"
    else fail "the release's cookie was replaced by the deploy dir's"; fi
    check "nothing at the deploy dir's top but releases, current, COOKIE and the lock" "" \
        "$(e2e_exec ls -A "$DD" | grep -vxE 'releases|current|COOKIE|\.deploy-lock' || true)"

    local pid
    pid=$(prop MainPID)
    if e2e_exec "$TOOL" install --units /root/systemd; then pass "install again: nothing to do"; else
        fail "install again"
    fi
    check "install again: the service was left running" "$pid" "$(prop MainPID)"

    local before
    before=$(current)
    deploy rollback
    check "rollback with one release: refused (exit 1)" 1 "$rc"
    check_grep "rollback with one release: says why" 'nothing to roll back to' "$out"
    check "rollback with one release: current untouched" "$before" "$(current)"
    check "rollback with one release: the service untouched" "$pid" "$(prop MainPID)"
}

scenario_release() {
    local vsn
    for vsn in 0.2.0 0.3.0; do
        deploy release "$TARS/shop-$vsn.tar.gz"
        check "release $vsn: exit status 0" 0 "$rc"
        [ "$rc" = 0 ] || show_output
        check "release $vsn: the node runs it" "$vsn" "$(running_vsn)"
        TIMINGS+=("release $vsn to READY       $took ms")
    done
    check_grep "status: 0.3.0 is current and runs" "^  0\.3\.0-[^ ]+  current  running$" \
        "$(e2e_exec "$TOOL" --service shop status)"
}

# failed_release VSN WHAT PATTERN: the release fails to start, is rolled back automatically.
failed_release() {
    local vsn=$1 what=$2 pattern=$3
    shop_mark
    deploy release "$TARS/shop-$vsn.tar.gz"
    check "$what: exit status 2 (rolled back)" 2 "$rc"
    [ "$rc" = 2 ] || show_output
    check "$what: current is 0.3.0 again" 0.3.0 "$(current_vsn)"
    check "$what: the node runs 0.3.0 again" 0.3.0 "$(running_vsn)"
    check "$what: the service is active" active "$(prop ActiveState)"
    check_grep "$what: the failed start's journal is shown" "$pattern" "$out"
    local times restart ready
    times=$(start_times)
    restart=${times% *}
    ready=${times#* }
    # What vigil-deploy controls: 0.3.0 starting again within TimeoutStartSec= + 2 s of the failed
    # start; then it takes its own boot time.
    at_most "$what: 0.3.0 starting again within TimeoutStartSec + 2 s of the failed start" \
        "$restart" $(((TIMEOUT_START + 2) * 1000))
    TIMINGS+=("$(printf '%-28s %s ms, ready %s ms after the failed start (whole command %s ms)' \
        "$what: 0.3.0 starting" "$restart" "$ready" "$took")")
}

scenario_never_ready() {
    failed_release 0.4.0 "never ready" "start operation timed out"
}

scenario_crash_at_boot() {
    failed_release 0.5.0 "crash at boot" "ArgumentError|Main process exited, code=exited, status=1"
}

scenario_rollback() {
    deploy rollback
    check "rollback: exit status 0" 0 "$rc"
    check "rollback: back to 0.2.0 (skipping nothing good)" 0.2.0 "$(running_vsn)"
    TIMINGS+=("rollback to READY            $took ms")
    deploy rollback
    check "second rollback: exit status 0" 0 "$rc"
    check "second rollback: two back, 0.1.0" 0.1.0 "$(running_vsn)"
    deploy rollback 0.3.0
    check "rollback 0.3.0 (forward): exit status 0" 0 "$rc"
    check "rollback 0.3.0 (forward): the node runs it" 0.3.0 "$(running_vsn)"
    check "current follows" 0.3.0 "$(current_vsn)"
    local before
    before=$(current)
    deploy rollback 9.9.9
    check "rollback to a release not kept: refused (exit 1)" 1 "$rc"
    check "rollback to a release not kept: current untouched" "$before" "$(current)"
    deploy rollback 0.3.0
    check "rollback to the current release: refused (exit 1)" 1 "$rc"
    check_grep "rollback to the current release: says so" "is already current" "$out"
}

# The reader: another process reading current in a tight loop from the first release on, through
# every switch of the scenarios after it (SWITCHED counts them from vigil-deploy's output).
READER=
READER_OUT=
READER_LINE=
SWITCHED=0

start_reader() {
    e2e_exec rm -f /tmp/reader.stop
    READER_OUT=$(mktemp)
    e2e_exec escript /vigil/test/e2e/link_reader.escript "$DD/current" /tmp/reader.stop 1800 \
        >"$READER_OUT" 2>&1 &
    READER=$!
}

# Stops the reader; its line into READER_LINE.
stop_reader() {
    e2e_exec touch /tmp/reader.stop
    wait "$READER" || true
    READER_LINE=$(cat "$READER_OUT")
    rm -f "$READER_OUT"
    READER=
}

# SWITCHES rollbacks between 0.2.0 and 0.3.0, for the reader.
scenario_switches() {
    local i ok=0
    for ((i = 0; i < SWITCHES; i++)); do
        if [ $((i % 2)) -eq 0 ]; then deploy rollback 0.2.0; else deploy rollback 0.3.0; fi
        [ "$rc" != 0 ] || ok=$((ok + 1))
    done
    check "$SWITCHES switches by rollback, each ready" "$SWITCHES" "$ok"
}

scenario_reader() {
    [ -n "$READER" ] || {
        fail "the reader ran" "it starts with the install scenario"
        return
    }
    stop_reader
    local line=$READER_LINE
    if [ -z "${DEPLOY_SWITCHES:-}" ]; then
        if [ "$SWITCHED" -ge 100 ]; then pass "$SWITCHED switches of current under the reader"; else
            fail "at least 100 switches of current under the reader" "$SWITCHED"
        fi
    fi
    check_grep "the reader read current all along" '^reads [1-9][0-9]* ' "$line"
    check "reads of current without a link" 0 "$(awk '{ print $4 }' <<<"$line")"
    check "reads of current leading to an incomplete release" 0 "$(awk '{ print $6 }' <<<"$line")"
    echo "     reader: $line, over $SWITCHED switches"
}

scenario_concurrent() {
    local a b oa ob
    oa=$(mktemp)
    ob=$(mktemp)
    e2e_exec "$TOOL" --service shop release "$TARS/shop-0.2.0.tar.gz" >"$oa" 2>&1 &
    a=$!
    e2e_exec "$TOOL" --service shop release "$TARS/shop-0.1.0.tar.gz" >"$ob" 2>&1 &
    b=$!
    local ra=0 rb=0
    wait "$a" || ra=$?
    wait "$b" || rb=$?
    check "two deploys at once: both succeed" "0 0" "$ra $rb"
    check_grep "two deploys at once: one waited for the other" "waiting for the deploy" \
        "$(cat "$oa" "$ob")"
    local last
    last=$(cat "$oa" "$ob" | sed -n 's/.*is ready on releases\/\([^-]*\)-.*/\1/p; s/.*is ready on \([^-]*\)-.*/\1/p')
    check "the node runs what current says" "$(current_vsn)" "$(running_vsn)"
    check "two releases came ready" 2 "$(wc -w <<<"$last")"
    rm -f "$oa" "$ob"
}

# kill_at NAME TEST: starts a release of $other in the container and kills it with SIGKILL as
# soon as the shell test TEST holds.
kill_at() {
    # shellcheck disable=SC2016 # the inner shell expands them
    e2e_exec bash -c '"$1" --service shop release "$2" >/tmp/killed.log 2>&1 & pid=$!
        end=$((SECONDS + 30)); until eval "$3" || [ "$SECONDS" -ge "$end" ]; do :; done
        kill -9 "$pid"; wait "$pid" 2>/dev/null; true' sh "$TOOL" "$TARS/shop-$other.tar.gz" "$2"
}

consistent() {
    local what=$1
    if e2e_exec test -f "$DD/current/releases/start_erl.data"; then
        pass "$what: current leads to a complete release"
    else fail "$what: current leads to a complete release" "$(current)"; fi
}

scenario_killed() {
    local before vsn other
    vsn=$(current_vsn)
    # The release killed on its way in: another version than the one running.
    if [ "$vsn" = 0.3.0 ]; then other=0.2.0; else other=0.3.0; fi
    # During the unpack: a staging dir exists.
    before=$(current)
    kill_at "unpack" "ls -d $DD/releases/.staging-* >/dev/null 2>&1"
    check "killed while unpacking: current untouched" "$before" "$(current)"
    consistent "killed while unpacking"
    deploy prune --keep 20
    check "the next run: exit status 0" 0 "$rc"
    check_grep "the next run removed the staging dir" "left by an interrupted deploy" "$out"
    check "no staging dir left" "" "$(e2e_exec sh -c "ls -d $DD/releases/.staging-* 2>/dev/null" || true)"

    # Right after the intent was written: around the switch.
    kill_at "switch" "test -e $DD/.deploy-intent"
    consistent "killed at the switch"
    e2e_wait_prop shop ActiveState active 30 || true
    deploy prune --keep 20
    check "the next run: exit status 0" 0 "$rc"
    check_grep "the next run undid the interrupted deploy" "interrupted deploy .* was undone" "$out"
    check "back on $vsn" "$vsn" "$(running_vsn)"

    # During the restart: the job is running.
    kill_at "restart" "[ \"\$(systemctl show -p Job --value shop)\" != '' ]"
    consistent "killed during the restart"
    e2e_wait_prop shop ActiveState active 30 || true
    deploy prune --keep 20
    check "the next run: exit status 0" 0 "$rc"
    check_grep "the next run undid the interrupted deploy" "interrupted deploy .* was undone" "$out"
    check "current is $vsn again" "$vsn" "$(current_vsn)"
    check "the node runs it again" "$vsn" "$(running_vsn)"
}

# UNDER_LOAD deploys while a client opens RATE connections a second through a socket unit.
scenario_under_load() {
    SHOP_PORT=80
    if ! { shop_gen_unit --timeout-start-sec "$TIMEOUT_START" --sockets http=80 && e2e_copy_in "$SHOP_UNITS" /root/systemd-sockets &&
        e2e_exec "$TOOL" install --units /root/systemd-sockets; }; then
        fail "the unit with a socket installed"
        return
    fi
    deploy release "$TARS/shop-0.2.0.tar.gz"
    check "the first deploy onto the socket unit: exit status 0" 0 "$rc"
    check "the listener comes from the socket unit" systemd "$(shop_tcp listener)"
    local load_out client i ok=0 total=0
    load_out=$(mktemp)
    e2e_exec rm -f /tmp/load.stop
    e2e_exec escript /vigil/test/e2e/load_client.escript 127.0.0.1 80 "$RATE" /tmp/load.stop 900 \
        >"$load_out" 2>&1 &
    client=$!
    sleep 1
    for ((i = 0; i < UNDER_LOAD; i++)); do
        if [ $((i % 2)) -eq 0 ]; then deploy release "$TARS/shop-0.3.0.tar.gz"; else
            deploy release "$TARS/shop-0.2.0.tar.gz"; fi
        [ "$rc" != 0 ] || ok=$((ok + 1))
        total=$((total + took))
    done
    sleep 1
    e2e_exec touch /tmp/load.stop
    wait "$client" || true
    local load
    load=$(grep -E '^sent ' "$load_out" || true)
    grep -E '^failure' "$load_out" | sed 's/^/     /' || true
    rm -f "$load_out"
    fig() { awk -v k="$1" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$load"; }
    check "$UNDER_LOAD deploys under load, each ready" "$UNDER_LOAD" "$ok"
    check "under load: connections refused" 0 "$(fig refused)"
    check "under load: connections failed" 0 "$(fig failed)"
    check "under load: every connection served" "$(fig sent)" "$(fig ok)"
    echo "     load: $load"
    TIMINGS+=("release under load (mean)    $((total / UNDER_LOAD)) ms")

    deploy prune --keep 3
    check "prune --keep 3: exit status 0" 0 "$rc"
    check "prune --keep 3: three releases left" 3 \
        "$(e2e_exec sh -c "ls -d $DD/releases/*/ | wc -l")"
    consistent "after prune"
}

# A deploy user without root (restart_method = systemd_flag, deploy_user = deployer): the restart
# goes through the flag that <service>-restart.path watches; the verdict is that oneshot's.
scenario_deploy_user() {
    local nr=/srv/shop-nr as=(runuser -u deployer -- /usr/local/bin/vigil-deploy)
    SHOP_PORT=4000
    e2e_exec systemctl disable --now shop.socket >/dev/null 2>&1 || true
    e2e_exec rm -f /etc/systemd/system/shop.socket
    e2e_exec useradd --system --no-create-home --shell /usr/sbin/nologin --groups systemd-journal \
        deployer
    if ! { shop_gen_unit --timeout-start-sec "$TIMEOUT_START" --deploy-dir "$nr" \
        --restart-method systemd_flag --deploy-user deployer &&
        e2e_copy_in "$SHOP_UNITS" /root/systemd-nr && e2e_exec "$TOOL" install --units /root/systemd-nr; }; then
        fail "the unit with a restart flag installed (as root)"
        return
    fi
    pass "the unit with a restart flag installed (as root)"
    e2e_exec install -m 0755 "$TOOL" /usr/local/bin/vigil-deploy
    e2e_exec sh -c "install -m 0644 $TARS/shop-0.[235].0.tar.gz /tmp/"
    check "the deploy dir is the deploy user's" "deployer shop 750" "$(e2e_exec stat -c '%U %G %a' "$nr")"
    check "its cookie too, 0600" "deployer 600" "$(e2e_exec stat -c '%U %a' "$nr/COOKIE")"
    check "install started the restart flag's path unit" active "$(e2e_prop shop-restart.path ActiveState)"

    local vsn
    for vsn in 0.2.0 0.3.0; do
        deploy_as=("${as[@]}")
        deploy release "/tmp/shop-$vsn.tar.gz"
        check "as deployer, release $vsn: exit status 0" 0 "$rc"
        [ "$rc" = 0 ] || show_output
        check "as deployer, release $vsn: the node runs it" "$vsn" "$(running_vsn)"
    done
    check "the restart went through shop-restart.service" success \
        "$(e2e_prop shop-restart.service Result)"
    check_grep "as deployer, status sees which release runs" "^  0\.3\.0-[^ ]+  current  running$" \
        "$(e2e_exec "${as[@]}" status --service shop)"
    deploy release /tmp/shop-0.5.0.tar.gz
    check "as deployer, a release crashing at boot: exit status 2" 2 "$rc"
    check "as deployer: back on 0.3.0" 0.3.0 "$(running_vsn)"
    check_grep "as deployer: the failed start's journal is shown" "notaport|ArgumentError" "$out"
    deploy rollback
    check "as deployer, rollback: exit status 0" 0 "$rc"
    check "as deployer, rollback: the node runs 0.2.0" 0.2.0 "$(running_vsn)"
    deploy_as=()
}

setup() {
    if shop_build; then pass "release built"; else
        fail "release built"
        finish
    fi
    if ! { shop_variant 0.1.0 && shop_variant 0.2.0 && shop_variant 0.3.0 &&
        shop_variant 0.4.0 "export SHOP_READY_DELAY_MS=600000" &&
        shop_variant 0.5.0 "export SHOP_PORT=notaport"; }; then
        fail "five releases made"
        finish
    fi
    if shop_gen_unit --timeout-start-sec "$TIMEOUT_START"; then
        pass "unit generated"
    else
        fail "unit generated"
        finish
    fi
    e2e_boot deploy-test || {
        fail "boot"
        finish
    }
}

run_scenarios "install release never_ready crash_at_boot rollback switches concurrent killed under_load reader deploy_user" "$@"
# Without the reader scenario, the reader still runs: it would hold the container's shutdown.
[ -z "$READER" ] || stop_reader
echo "-- timings:"
printf '     %s\n' "${TIMINGS[@]}"

if e2e_stop; then pass "the container stopped, nothing left behind"; else fail "nothing left behind"; fi
finish
