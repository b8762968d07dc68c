#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317 # the modes are called by name
# test/e2e/cluster_test.sh: Erlang distribution under the units vigil-unit writes
# (`distribution`), under a real systemd. One container runs each mode as its own service of
# the same release (shop-local, shop-epmdless, shop-epmd, shop-tls), with one cookie from a
# credential, and checks from the host's side: the node's name (never @nohost), bin/shop rpc
# and remote with the README's command (as root, and as the service's dynamic user), the
# cookie (on no command line, in no unit's environment, in no world-readable file), what
# listens where, a peer with a wrong cookie or without TLS refused, the exposure, and that
# bin/shop stop returns.
#
#   cluster_test.sh [MODE...]   the modes named (default: local epmdless epmd tls)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
# shellcheck source=shop.sh
. "$HERE/shop.sh"
# shellcheck source=assert.sh
. "$HERE/assert.sh"

UNITS=
COOKIE=
declare -A PORT DIST_PORT
FIGURES=()

# gen NAME PORT DIST-PORT MODE VIGIL-UNIT-ARG...: shop-NAME's unit, into $UNITS/NAME.
gen() {
    local name=$1 port=$2 dport=$3 mode=$4
    shift 4
    PORT[$name]=$port
    DIST_PORT[$name]=$dport
    "$(shop_vigil_unit)" --app-name shop --release-name shop --service-name "shop-$name" \
        --app-user shop --deploy-dir /srv/shop --watchdog-sec 10 \
        --env-vars "SHOP_PORT=$port" --distribution "$mode" --node-name "shop-$name" \
        --cookie-file /etc/shop/cookie --dist-port "$dport" --output "$UNITS/$name" "$@" \
        >/dev/null 2>"$UNITS/$name.stderr"
}

gen_local() { gen local 4201 9201 local --dynamic-user --app-user shop-local; }
gen_epmdless() { gen epmdless 4202 9202 epmdless; }
gen_epmd() { gen epmd 4203 9203 epmd_socket; }
gen_tls() {
    gen tls 4204 9204 tls --credentials dist.crt=/etc/shop/tls/node.crt \
        --credentials dist.key=/etc/shop/tls/node.key --credentials dist-ca.crt=/etc/shop/tls/ca.crt
}

# probe NAME COMMAND...: a Shop.Probe command inside shop-NAME; prints its answer.
probe() {
    local name=$1
    shift
    # shellcheck disable=SC2016 # the inner shell expands them
    e2e_exec timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
        printf "probe %s\n" "$2" >&3 && IFS= read -r reply <&3 && printf "%s\n" "$reply"' \
        sh "${PORT[$name]}" "$*" 2>/dev/null
}

# The README's remote console command (section Clustering), as root: bin/shop with the
# environment of the unit's main process. AS_USER=yes runs it as the service's user instead;
# PTY=yes on a terminal of its own (script), as IEx's remote shell needs one.
# shellcheck disable=SC2016 # the inner shell expands them
unit_shop() {
    local svc=$1
    shift
    e2e_exec env AS_USER="${AS_USER:-no}" PTY="${PTY:-no}" TERM=xterm timeout "${UNIT_SHOP_TIMEOUT:-60}" bash -c '
        svc=$1; shift
        pid=$(systemctl show -p MainPID --value "$svc")
        mapfile -t env < <(tr "\0" "\n" </proc/$pid/environ | grep -E "^(LANG|HOME|ERL_FLAGS|RELEASE_[A-Z_]+)=")
        as=()
        [ "$AS_USER" != yes ] || as=(setpriv --reuid="$(stat -c %u /proc/$pid)" --regid="$(stat -c %g /proc/$pid)" --clear-groups)
        cmd=("${as[@]}" env -i PATH=/usr/bin:/bin TERM="$TERM" "${env[@]}" /srv/shop/current/bin/shop "$@")
        [ "$PTY" = yes ] || exec "${cmd[@]}"
        SHELL=/bin/bash exec script -qfec "$(printf "%q " "${cmd[@]}")" /dev/null' \
        sh "$svc" "$@"
}

exposure_of() {
    e2e_exec systemd-analyze security "$1" 2>/dev/null |
        sed -n "s/.*Overall exposure level for $1: \([0-9.]*\).*/\1/p"
}

install_mode() {
    local name=$1 dir=$UNITS/$1 unit
    for unit in "$dir"/*.service "$dir"/*.socket; do
        [ -e "$unit" ] || continue
        e2e_copy_in "$unit" "/etc/systemd/system/${unit##*/}"
    done
    e2e_copy_in "$dir/tmpfiles.d/shop-$name.conf" "/etc/tmpfiles.d/shop-$name.conf"
    e2e_exec systemd-tmpfiles --create "/etc/tmpfiles.d/shop-$name.conf"
}

# listening NAME: the local addresses of the TCP listeners on shop-NAME's distribution port.
listening() {
    e2e_exec cat /proc/net/tcp /proc/net/tcp6 |
        awk -v p="$(printf '%04X' "${DIST_PORT[$1]}")" '$4 == "0A" && $2 ~ ":" p "$" { print $2 }' |
        sort -u | tr '\n' ' '
}

# ---- what holds in every mode ----

check_mode() {
    local name=$1 svc=shop-$1 node=shop-$1@127.0.0.1 manifest score out
    if e2e_exec systemctl start "$svc"; then pass "$svc: started, READY=1"; else
        fail "$svc: start" "$(e2e_exec journalctl -q --no-pager -n 12 -u "$svc" | cut -c1-220)"
        return 1
    fi
    check "$svc: the node's name has its host part" "ok $node" "$(probe "$name" node)"
    check "$svc: the cookie in effect is the credential" "ok credential" "$(probe "$name" cookie)"
    manifest=$(sed -n 's/^ *"expected_exposure": *"\([0-9.]*\)".*/\1/p' "$UNITS/$name/$svc.manifest.json")
    score=$(exposure_of "$svc.service")
    check "$svc: systemd-analyze security = the manifest's" "$manifest" "$score"
    if awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 1.1) }'; then
        pass "$svc: exposure $score, at most 1.1"
    else fail "$svc: exposure at most 1.1" "$score"; fi
    FIGURES+=("$(printf '%-14s exposure %s' "$svc" "$score")")
    check "$svc: the distribution listens on the loopback only" "0100007F:$(printf '%04X' "${DIST_PORT[$name]}") " \
        "$(listening "$name")"
    out=$(unit_shop "$svc" rpc 'IO.puts("rpc on #{node()}")' 2>&1) || true
    check_grep "$svc: bin/shop rpc (as root, the README's command)" "^rpc on $node\$" "$out"
    out=$({
        sleep 4
        printf 'IO.puts("remote on #{node()}")\n'
        sleep 3
    } | PTY=yes UNIT_SHOP_TIMEOUT=12 unit_shop "$svc" remote 2>&1) || true
    check_grep "$svc: bin/shop remote (as root)" "remote on $node" "$out"
}

expect_local() {
    local out
    out=$(AS_USER=yes unit_shop shop-local rpc 'IO.puts("rpc as #{System.get_env("USER") || "uid"} on #{node()}")' 2>&1) || true
    check_grep "shop-local: bin/shop rpc as the service's dynamic user (setpriv)" "on shop-local@127.0.0.1\$" "$out"
}

expect_epmdless() {
    # A peer on the host with another cookie: refused.
    local out
    out=$(e2e_exec timeout 20 erl -noshell -name wrong@127.0.0.1 -setcookie wrong -start_epmd false \
        -erl_epmd_port 9202 -dist_listen false \
        -eval 'io:format("~s~n", [net_adm:ping(list_to_atom("shop-epmdless@127.0.0.1"))]), halt().' 2>&1) || true
    check "shop-epmdless: a node with another cookie is refused" pang "$(tail -n 1 <<<"$out")"
}

expect_epmd() {
    check "shop-epmd-epmd.socket listens" active "$(e2e_prop shop-epmd-epmd.socket ActiveState)"
    check "Debian's public epmd.socket is stopped (Conflicts=)" inactive "$(e2e_prop epmd.socket ActiveState)"
    local score
    score=$(exposure_of shop-epmd-epmd.service)
    check "shop-epmd-epmd.service: systemd-analyze security = the manifest's" \
        "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["unit_exposure"]["shop-epmd-epmd.service"])' \
            "$UNITS/epmd/shop-epmd.manifest.json")" "$score"
    FIGURES+=("$(printf '%-14s exposure %s' "shop-epmd-epmd" "$score")")
    check "shop-epmd-epmd.service runs, activated by the node" active "$(e2e_prop shop-epmd-epmd.service ActiveState)"
    DIST_PORT[epmd_port]=4369
    check "epmd listens on the loopback only" "0100007F:1111 " "$(listening epmd_port)"
    local names
    names=$(e2e_exec timeout 10 /usr/bin/epmd -names 2>&1 || true)
    check_grep "epmd knows shop-epmd at port 9203" "name shop-epmd at port 9203" "$names"
}

expect_tls() {
    local out
    # A peer with the cookie but no TLS: refused by the TLS listener.
    out=$(e2e_exec env HOME=/run/credentials/shop-tls.service timeout 20 erl -noshell -name plain@127.0.0.1 \
        -start_epmd false -erl_epmd_port 9204 -dist_listen false \
        -eval 'io:format("~s~n", [net_adm:ping(list_to_atom("shop-tls@127.0.0.1"))]), halt().' 2>&1) || true
    check "shop-tls: a node with the cookie but without TLS is refused" pang "$(tail -n 1 <<<"$out")"
}

# While every node runs and an rpc is connected: the cookie is in no process's command line or
# environment, in no unit's Environment=, in no world-readable file.
check_cookie() {
    local bg out name svc=shop-${MODES[-1]}
    unit_shop "$svc" rpc 'Process.sleep(4000)' >/dev/null 2>&1 &
    bg=$!
    sleep 2
    # shellcheck disable=SC2016 # the inner shell expands them
    out=$(e2e_exec sh -c 'for f in /proc/[0-9]*/cmdline; do tr "\0" " " <"$f" 2>/dev/null; echo; done')
    check_grep "an rpc node runs during the check" "rpc-.*-$svc@127.0.0.1" "$out"
    check "the cookie is on no command line (/proc/*/cmdline)" 0 "$(grep -cF "$COOKIE" <<<"$out" || true)"
    # shellcheck disable=SC2016 # the inner shell expands them
    out=$(e2e_exec sh -c 'for f in /proc/[0-9]*/environ; do tr "\0" "\n" <"$f" 2>/dev/null; done')
    check "the cookie is in no process's environment (/proc/*/environ)" 0 "$(grep -cF "$COOKIE" <<<"$out" || true)"
    wait "$bg" || true
    for name in "${MODES[@]}"; do
        out=$(e2e_exec systemctl show -p Environment "shop-$name")
        check "systemctl show -p Environment shop-$name: no cookie" 0 "$(grep -cF "$COOKIE" <<<"$out" || true)"
    done
    # shellcheck disable=SC2016 # the inner shell expands them
    out=$(e2e_exec sh -c 'grep -rlsF --devices=skip -e "$1" /etc /srv /run /var /tmp /root /home /usr/local |
        while read -r f; do stat -c "%A %U %n" "$f"; done' sh "$COOKIE")
    echo "     files holding the cookie:"
    printf '       %s\n' "${out//$'\n'/$'\n'       }"
    check_no_grep "no world-readable file holds the cookie" '^-......r' "$out"
    check_grep "the credential copy is 0400, the service user's" "^-r-------- .* /run/credentials/$svc.service/.erlang.cookie\$" "$out"
}

# bin/shop stop (an rpc of System.stop/0) returns, and systemd sees a clean stop.
check_stop() {
    local t0 t1 svc=shop-${MODES[-1]}
    t0=$(shop_now_ms)
    if unit_shop "$svc" stop >/dev/null 2>&1; then pass "bin/shop stop returned"; else fail "bin/shop stop"; fi
    if e2e_wait_prop "$svc" ActiveState inactive 20; then
        t1=$(shop_now_ms)
        pass "$svc stopped $((t1 - t0)) ms after bin/shop stop"
        FIGURES+=("bin/shop stop -> $svc inactive: $((t1 - t0)) ms")
    else fail "$svc stopped after bin/shop stop" "$(e2e_prop "$svc" ActiveState)"; fi
    check "$svc: a clean stop, no failure" success "$(e2e_prop "$svc" Result)"
}

# ---- two nodes in two network namespaces ----
# The container's systemd runs both nodes, each service in a network namespace of its own
# (NetworkNamespacePath=) holding the loopback and one link-local address of a veth pair
# between them: no route out, nothing else on the link.
NS_A=169.254.77.1
NS_B=169.254.77.2
WATCHDOG_SEC=10

netns_setup() {
    # shellcheck disable=SC2016 # the inner shell expands them
    e2e_exec sh -c 'mkdir -p /run/netns && mount --bind /run/netns /run/netns &&
        mount --make-private /run/netns && for n in a b; do
            touch /run/netns/$n && unshare --net=/run/netns/$n true || exit 1; done' || return 1
    local root=/proc/$E2E_LEADER/root/run/netns
    nsenter --net="$root/a" ip link add va type veth peer name vb netns "$root/b" || return 1
    nsenter --net="$root/a" sh -c "ip link set lo up && ip addr add $NS_A/24 dev va && ip link set va up" &&
        nsenter --net="$root/b" sh -c "ip link set lo up && ip addr add $NS_B/24 dev vb && ip link set vb up"
}

# gen_pair MODE SIDE VIGIL-UNIT-ARG...: shop-pSIDE (a or b), into $UNITS/pair-MODE/SIDE.
gen_pair() {
    local mode=$1 side=$2 addr=$NS_A peer=shop-pb@$NS_B
    shift 2
    [ "$side" = a ] || { addr=$NS_B peer=shop-pa@$NS_A; }
    "$(shop_vigil_unit)" --app-name shop --release-name shop --service-name "shop-p$side" \
        --app-user shop --deploy-dir /srv/shop --watchdog-sec "$WATCHDOG_SEC" --restart-sec 1 \
        --env-vars SHOP_PORT=4300 --env-vars "SHOP_PEERS=$peer" --distribution "$mode" \
        --node-name "shop-p$side" --cookie-file /etc/shop/cookie --dist-address "$addr" \
        --dist-port 9300 --cluster-peers 169.254.77.0/24 --output "$UNITS/pair-$mode/$side" "$@" \
        >/dev/null 2>"$UNITS/pair-$mode-$side.stderr"
}

tls_args() {
    echo --credentials dist.crt=/etc/shop/tls/node.crt --credentials dist.key=/etc/shop/tls/node.key \
        --credentials dist-ca.crt=/etc/shop/tls/ca.crt
}

# install_pair MODE: both units and their drop-ins joining the namespaces, the last pair gone.
# shellcheck disable=SC2016 # the inner shells expand them
install_pair() {
    local mode=$1 side unit
    e2e_exec systemctl stop shop-pa shop-pb shop-pa-epmd.socket shop-pb-epmd.socket shop-pa-epmd shop-pb-epmd 2>/dev/null || true
    e2e_exec systemctl reset-failed 2>/dev/null || true
    e2e_exec sh -c 'rm -rf /etc/systemd/system/shop-p[ab]*'
    for side in a b; do
        for unit in "$UNITS/pair-$mode/$side"/*.service "$UNITS/pair-$mode/$side"/*.socket; do
            [ -e "$unit" ] || continue
            e2e_copy_in "$unit" "/etc/systemd/system/${unit##*/}" || return 1
        done
        printf '[Service]\nNetworkNamespacePath=/run/netns/%s\n' "$side" |
            e2e_exec sh -c 'mkdir -p "$1" && cat >"$1/netns.conf"' sh "/etc/systemd/system/shop-p$side.service.d"
        [ ! -e "$UNITS/pair-$mode/$side/shop-p$side-epmd.socket" ] ||
            printf '[Socket]\nNetworkNamespacePath=/run/netns/%s\n' "$side" |
            e2e_exec sh -c 'mkdir -p "$1" && cat >"$1/netns.conf"' sh "/etc/systemd/system/shop-p$side-epmd.socket.d"
        e2e_copy_in "$UNITS/pair-$mode/$side/tmpfiles.d/shop-p$side.conf" "/etc/tmpfiles.d/shop-p$side.conf"
        e2e_exec systemd-tmpfiles --create "/etc/tmpfiles.d/shop-p$side.conf"
    done
    e2e_exec chmod 0755 /srv/shop
    e2e_exec systemctl daemon-reload
}

# probe_ns SIDE COMMAND...: a Shop.Probe command to shop-pSIDE, from inside its namespace.
probe_ns() {
    local side=$1
    shift
    # shellcheck disable=SC2016 # the inner shell expands them
    e2e_exec nsenter --net="/run/netns/$side" timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4300 &&
        printf "probe %s\n" "$1" >&3 && IFS= read -r reply <&3 && printf "%s\n" "$reply"' \
        sh "$*" 2>/dev/null
}

# wait_nodes SIDE PATTERN SECONDS: polls `nodes` on shop-pSIDE until it matches PATTERN (a glob)
# or not (!PATTERN); prints the time it took in ms, or fails.
wait_nodes() {
    local side=$1 want=$2 t0 deadline got
    t0=$(shop_now_ms)
    deadline=$((t0 + $3 * 1000))
    while [ "$(shop_now_ms)" -lt "$deadline" ]; do
        got=$(probe_ns "$side" nodes)
        # shellcheck disable=SC2053 # a glob on purpose
        if [[ $want == !* ]]; then [[ $got != ${want#!} ]] || { sleep 0.05; continue; }
        else [[ $got == $want ]] || { sleep 0.05; continue; }; fi
        echo $(($(shop_now_ms) - t0))
        return 0
    done
    return 1
}

check_pair() {
    local mode=$1 ms pid t0 t_down t_ready t_rejoin i
    echo "-- pair: $mode"
    install_pair "$mode" || { fail "pair $mode: installed"; return; }
    if e2e_exec systemctl start shop-pa shop-pb; then pass "pair $mode: both READY=1"; else
        fail "pair $mode: start" "$(e2e_exec journalctl -q --no-pager -n 12 -u shop-pa -u shop-pb | cut -c1-220)"
        return
    fi
    check "pair $mode: node A's name" "ok shop-pa@$NS_A" "$(probe_ns a node)"
    if ms=$(wait_nodes a "ok*shop-pb@$NS_B*" 10); then
        if [ "$ms" -le 2000 ]; then pass "pair $mode: connected ${ms} ms after both were READY"; else
            fail "pair $mode: connected within 2 s of READY" "$ms ms"; fi
        FIGURES+=("pair $mode: connected ${ms} ms after READY")
    else fail "pair $mode: connected" "$(probe_ns a nodes)"; return; fi
    check "pair $mode: ping A -> B" "ok pong" "$(probe_ns a "ping shop-pb@$NS_B")"
    check "pair $mode: :global name registered on A" "ok yes" "$(probe_ns a "global_register g_$mode")"
    # :global syncs its names when the nodes connect; a name registered during that sync
    # reaches the other node when the sync ends.
    local t1 got
    t1=$(shop_now_ms)
    for ((i = 0; i < 40; i++)); do
        got=$(probe_ns b "global_whereis g_$mode")
        [ "$got" != "error undefined" ] && break
        sleep 0.05
    done
    check "pair $mode: ... resolves on B to A's process ($(($(shop_now_ms) - t1)) ms)" "ok shop-pa@$NS_A" "$got"
    check "pair $mode: A's exposure (with cluster_peers)" 1.0 "$(exposure_of shop-pa.service)"

    # A frozen: the watchdog ends it, B sees it go, the restarted A is joined again.
    pid=$(e2e_prop shop-pa MainPID)
    t0=$(shop_now_ms)
    e2e_exec kill -STOP "$pid"
    if ms=$(wait_nodes b "!*shop-pa@*" 40); then t_down=$((t0 + ms)); pass "pair $mode: B saw nodedown $ms ms after SIGSTOP"
    else fail "pair $mode: B saw nodedown" "$(probe_ns b nodes)"; return; fi
    for ((i = 0; i < 400; i++)); do
        [ "$(e2e_prop shop-pa MainPID)" = "$pid" ] || break
        sleep 0.1
    done
    if ! e2e_wait_prop shop-pa ActiveState active 40 || [ "$(e2e_prop shop-pa MainPID)" = "$pid" ]; then
        fail "pair $mode: A restarted" "$(e2e_prop shop-pa ActiveState)"
        return
    fi
    t_ready=$(shop_now_ms)
    check "pair $mode: the watchdog restarted A" 1 "$(e2e_prop shop-pa NRestarts)"
    if ms=$(wait_nodes b "ok*shop-pa@$NS_A*" 10); then
        t_rejoin=$((t_ready + ms))
        if [ "$ms" -le 2000 ]; then pass "pair $mode: A rejoined $ms ms after READY"; else
            fail "pair $mode: A rejoined within 2 s of READY" "$ms ms"; fi
    else fail "pair $mode: A rejoined" "$(probe_ns b nodes)"; return; fi
    FIGURES+=("pair $mode: SIGSTOP -> nodedown on B $((t_down - t0)) ms, -> A READY again $((t_ready - t0)) ms, -> rejoined $((t_rejoin - t0)) ms (WatchdogSec=${WATCHDOG_SEC})")
    check "pair $mode: the :global name went with A" "error undefined" "$(probe_ns b "global_whereis g_$mode")"
    e2e_exec systemctl stop shop-pa shop-pb
}

tls_certs() {
    local d=$E2E_SCRATCH/tls
    mkdir -p "$d"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/ca.key" \
        -out "$d/ca.crt" -days 2 -subj /CN=cluster-test-ca 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/node.key" \
        -out "$d/node.csr" -subj /CN=shop 2>/dev/null
    # OTP 25 checks a node's host part against the certificate as a DNS name: an IP address
    # goes in as both.
    printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,IP:$NS_A,DNS:$NS_A,IP:$NS_B,DNS:$NS_B" \
        'basicConstraints=CA:FALSE' \
        'extendedKeyUsage=serverAuth,clientAuth' >"$d/ext"
    openssl x509 -req -in "$d/node.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
        -out "$d/node.crt" -days 2 -extfile "$d/ext" 2>/dev/null
    rm -f "$d/ca.key" "$d/node.csr" "$d/ext" "$d/ca.srl"
    e2e_copy_in "$d" /etc/shop/tls
    e2e_exec sh -c 'chmod 0700 /etc/shop/tls && chmod 0600 /etc/shop/tls/*'
}

ALL_MODES=(local epmdless epmd tls)
PAIR_MODES=(epmdless epmd_socket tls)
MODES=("$@")
[ "${#MODES[@]}" -gt 0 ] || MODES=("${ALL_MODES[@]}")
[ "${CLUSTER_PAIRS:-yes}" = yes ] || PAIR_MODES=()

e2e_require
if shop_build; then pass "the example release built from a pristine tree"; else
    fail "the example release built"
    finish
fi
UNITS=$E2E_SCRATCH/units
mkdir -p "$UNITS"
for m in "${MODES[@]}"; do
    if "gen_$m"; then pass "shop-$m: unit generated"; else
        fail "shop-$m: unit generated" "$(cat "$UNITS/$m.stderr")"
    fi
done
for m in "${PAIR_MODES[@]}"; do
    extra=()
    [ "$m" != tls ] || read -r -a extra <<<"$(tls_args)"
    if gen_pair "$m" a "${extra[@]}" && gen_pair "$m" b "${extra[@]}"; then pass "pair $m: units generated"; else
        fail "pair $m: units generated" "$(cat "$UNITS/pair-$m-"*.stderr)"
    fi
done

e2e_boot cluster-test || {
    fail "boot"
    finish
}
e2e_exec sh -c 'mkdir -p /etc/sysusers.d && echo "u shop - \"shop release\" - -" >/etc/sysusers.d/shop.conf'
e2e_exec systemd-sysusers /etc/sysusers.d/shop.conf >/dev/null
e2e_exec mkdir -p /srv/shop /etc/shop
e2e_copy_in "$SHOP_REL" /srv/shop/current
COOKIE=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s' "$COOKIE" | e2e_exec sh -c 'umask 077 && cat >/etc/shop/cookie'
tls_certs
for m in "${MODES[@]}"; do install_mode "$m"; done
# shop-local runs as a dynamic user, which reads the release too.
e2e_exec chmod 0755 /srv/shop
e2e_exec systemctl daemon-reload

for m in "${MODES[@]}"; do
    echo "-- mode: $m"
    if check_mode "$m"; then "expect_$m"; fi
done
echo "-- the cookie"
check_cookie
echo "-- bin/shop stop"
check_stop
e2e_exec systemctl stop "${MODES[@]/#/shop-}" 2>/dev/null || true
if [ "${#PAIR_MODES[@]}" -gt 0 ]; then
    if netns_setup; then pass "two network namespaces joined by a veth pair ($NS_A, $NS_B)"; else
        fail "network namespaces set up"
        PAIR_MODES=()
    fi
fi
for m in "${PAIR_MODES[@]}"; do check_pair "$m"; done
echo "-- figures:"
printf '     %s\n' "${FIGURES[@]}"

if e2e_stop; then pass "the container stopped, nothing left behind"; else fail "nothing left behind"; fi
finish
