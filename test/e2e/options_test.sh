#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317 # the variants are called by name
# test/e2e/options_test.sh: every generator option that changes what the service sees or may do,
# booted under the real systemd and looked at from inside the running node (Shop.Probe, over the
# example's TCP line protocol): what the manifest claims must hold. One container; each variant
# is its own service (shop-<variant>) running the same release with its own unit.
#
#   options_test.sh [VARIANT...]   the variants named (default: all)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
# shellcheck source=shop.sh
. "$HERE/shop.sh"
# shellcheck source=assert.sh
. "$HERE/assert.sh"

UNITS=
declare -A PORT

# variant NAME PORT VIGIL-UNIT-ARG...: generates shop-NAME's unit (into $UNITS/NAME).
variant() {
    local name=$1 port=$2
    shift 2
    PORT[$name]=$port
    "$(shop_vigil_unit)" --app-name shop --release-name shop --service-name "shop-$name" \
        --app-user shop --deploy-dir /srv/shop --watchdog-sec 10 --restart no \
        --env-vars "SHOP_PORT=$port" --output "$UNITS/$name" "$@" >/dev/null
}

# probe NAME COMMAND...: runs a Shop.Probe command inside shop-NAME; prints its answer. A
# variant without a network of its own is reached from inside its network namespace.
probe() {
    local name=$1 pid
    shift
    pid=$(e2e_prop "shop-$name" MainPID)
    # shellcheck disable=SC2016 # the inner shell expands them
    e2e_exec nsenter --target "$pid" --net timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
        printf "probe %s\n" "$2" >&3 && IFS= read -r reply <&3 && printf "%s\n" "$reply"' \
        sh "${PORT[$name]}" "$*" 2>/dev/null
}

# expect NAME COMMAND EXPECTED: the probe's answer is EXPECTED (a glob).
expect() {
    local got
    got=$(probe "$1" "$2")
    # shellcheck disable=SC2053 # EXPECTED is a glob on purpose
    if [[ $got == $3 ]]; then pass "shop-$1: $2 -> $got"; else
        fail "shop-$1: $2" "expected $3, got '$got'"
    fi
}

# Every unit the variant's generator wrote, and its directories (tmpfiles.d).
install_variant() {
    local name=$1 svc=shop-$1 dir=$UNITS/$1 unit
    for unit in "$dir"/*.service "$dir"/*.path; do
        [ -e "$unit" ] || continue
        e2e_copy_in "$unit" "/etc/systemd/system/${unit##*/}"
    done
    e2e_copy_in "$dir/tmpfiles.d/$svc.conf" "/etc/tmpfiles.d/$svc.conf"
    e2e_exec systemd-tmpfiles --create "/etc/tmpfiles.d/$svc.conf"
}

# check_companion NAME UNIT: the companion's score from systemd = the manifest's unit_exposure.
check_companion() {
    local name=$1 unit=$2 want got
    want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["unit_exposure"][sys.argv[2]])' \
        "$UNITS/$name/shop-$name.manifest.json" "$unit")
    got=$(e2e_exec systemd-analyze security "$unit" 2>/dev/null |
        sed -n "s/.*Overall exposure level for $unit: \([0-9.]*\).*/\1/p")
    check "$unit: systemd-analyze security = the manifest's unit_exposure" "$want" "$got"
}

start_variant() {
    local name=$1 svc=shop-$1 manifest score
    if e2e_exec systemctl start "$svc"; then pass "$svc: started, READY=1"; else
        fail "$svc: start" "$(e2e_exec journalctl -q --no-pager -n 12 -u "$svc" | cut -c1-220)"
        return 1
    fi
    manifest=$(sed -n 's/^ *"expected_exposure": *"\([0-9.]*\)".*/\1/p' "$UNITS/$name/$svc.manifest.json")
    score=$(e2e_exec systemd-analyze security "$svc.service" 2>/dev/null |
        sed -n "s/.*Overall exposure level for $svc.service: \([0-9.]*\).*/\1/p")
    check "$svc: systemd-analyze security of the running unit = the manifest's" "$manifest" "$score"
}

# ---- the variants: generate, then what must hold inside ----

gen_strict() { variant strict 4101; }
expect_strict() {
    expect strict "write /srv/shop/current/probe" "error erofs"
    expect strict "write /etc/probe" "error erofs"
    expect strict "write /run/shop-strict/probe" ok
    expect strict "read /home" "error *"
    # ProtectProc=invisible: other users' processes; ProcSubset=pid: the rest of /proc.
    expect strict "read /proc/1/status" "error enoent"
    expect strict "read /proc/meminfo" "error enoent"
    expect strict "bind 80" "error eacces"
    expect strict "id" "ok [1-9]* [1-9]*"
    expect strict "flavor" "ok jit"
}

gen_standard() { variant standard 4102 --hardening standard; }
expect_standard() {
    expect standard "write /etc/probe" "error erofs"
    expect standard "write /run/shop-standard/probe" ok
    expect standard "bind 80" "error eacces"
}

gen_off() { variant off 4103 --hardening off; }
expect_off() {
    expect off "read /proc/1/status" "ok *"
    expect off "write /run/shop-off/probe" ok
}

# A user name of its own: DynamicUser= takes an existing static user of the same name as is.
gen_dynamic() { variant dynamic 4104 --dynamic-user --app-user shop-dynamic; }
expect_dynamic() {
    # DynamicUser= picks a uid from 61184-65519.
    expect dynamic "id" "ok 6[1-5][0-9][0-9][0-9] *"
    expect dynamic "write /run/shop-dynamic/probe" ok
}

gen_lowport() { variant lowport 4105 --listen-ports 80; }
expect_lowport() {
    expect lowport "bind 80" ok
    expect lowport "bind 81" ok
}

gen_osmon() { variant osmon 4106 --os-mon; }
# os_mon reads /proc/meminfo, /proc/stat and /proc/loadavg (memsup, cpu_sup).
expect_osmon() {
    expect osmon "read /proc/meminfo" "ok *"
    expect osmon "read /proc/loadavg" "ok *"
    expect osmon "read /proc/1/status" "error enoent"
}

gen_privnet() { variant privnet 4107 --private-network; }
expect_privnet() {
    check "shop-privnet: unreachable from the host's network" "" "$(SHOP_PORT=4107 shop_tcp ping)"
    expect privnet "connect 127.0.0.1 4101" "error econnrefused"
}

gen_paths() {
    variant paths 4108 --dirs state --dirs cache --read-write-paths /var/lib/shop-extra \
        --inaccessible-paths /etc/ssh --env-files -/etc/shop/paths.env \
        --exec-start-pre "/bin/sh -c 'echo pre >/run/shop-paths/pre'" --dirs runtime
}
setup_paths() {
    e2e_exec mkdir -p /var/lib/shop-extra /etc/ssh /etc/shop
    e2e_exec chown shop /var/lib/shop-extra
    e2e_exec sh -c 'echo FROM_FILE=yes >/etc/shop/paths.env'
}
expect_paths() {
    expect paths "write /var/lib/shop-paths/probe" ok
    expect paths "write /var/cache/shop-paths/probe" ok
    expect paths "write /var/lib/shop-extra/probe" ok
    expect paths "read /etc/ssh" "error eacces"
    expect paths "env FROM_FILE" "ok yes"
    expect paths "read /run/shop-paths/pre" "ok 4"
}

gen_wrap() {
    variant wrap 4109 --exec-start-wrap "/usr/bin/env SHOP_WRAPPED=yes" --limit-nofile 4096 \
        --dirs state --state-directory-mode 0700
}
expect_wrap() {
    expect wrap "env SHOP_WRAPPED" "ok yes"
    expect wrap "grep /proc/self/limits Max open files" "ok Max open files*4096*4096*"
    check "shop-wrap: StateDirectoryMode=0700 on disk" "700 shop" \
        "$(e2e_exec stat -c '%a %U' /var/lib/shop-wrap)"
}

gen_jitperf() { variant jitperf 4110 --jit-perf; }
expect_jitperf() {
    check "shop-jitperf: MemoryDenyWriteExecute= off, as the manifest says" no \
        "$(e2e_prop shop-jitperf MemoryDenyWriteExecute)"
    expect jitperf "flavor" "ok jit"
}

gen_crashdump() { variant crashdump 4111 --crash-dump state --dirs state; }
expect_crashdump() {
    local dump
    dump=$(probe crashdump "env ERL_CRASH_DUMP")
    dump=${dump#ok }
    check "shop-crashdump: ERL_CRASH_DUMP in the state dir" /var/lib/shop-crashdump "${dump%/*}"
    probe crashdump halt >/dev/null || true
    e2e_wait_prop shop-crashdump ActiveState failed 15 || true
    if e2e_exec test -s "$dump"; then pass "shop-crashdump: the crash dump was written ($dump)"; else
        fail "shop-crashdump: the crash dump was written" "$(e2e_exec ls -la /var/lib/shop-crashdump 2>&1)"
    fi
}

gen_reload() { variant reload 4112 --reload sighup; }
expect_reload() {
    e2e_exec systemctl reload shop-reload
    e2e_wait_prop shop-reload ActiveState active 5 || true
    check "shop-reload: systemctl reload ran the app's reload" "active 1" \
        "$(e2e_prop shop-reload ActiveState) $(SHOP_PORT=4112 shop_tcp generation)"
}

# chroot: an empty root with the system's libraries, a few /etc files and the release, read-only.
expect_chroot_common() {
    local v=$1
    expect "$v" "read /etc/shadow" "error enoent"
    expect "$v" "read /home" "error enoent"
    # ProtectHome= leaves /root as an inaccessible mount point.
    expect "$v" "read /root" "error e*"
    expect "$v" "read /var/lib" "error enoent"
    expect "$v" "read /etc/passwd" "ok *"
    expect "$v" "read /srv/shop/current/releases" "ok *"
    expect "$v" "write /srv/shop/current/probe" "error e*"
    expect "$v" "write /run/shop-$v/probe" ok
    expect "$v" "write /tmp/probe" ok
    # journald's socket is bound in: the app's log entries reach the journal (vigil_journal_h).
    expect "$v" "log info $v-in-chroot logged from the chroot" ok
    sleep 0.5
    check "shop-$v: its entry is in the journal" "logged from the chroot" \
        "$(e2e_exec journalctl -q --no-pager -o cat _SYSTEMD_UNIT="shop-$v.service" REQUEST_ID="$v-in-chroot")"
}
gen_chroot() { variant chroot 4113 --chroot; }
expect_chroot() { expect_chroot_common chroot; }
gen_chrootstd() { variant chrootstd 4114 --chroot --hardening standard; }
expect_chrootstd() { expect_chroot_common chrootstd; }
gen_chrootoff() { variant chrootoff 4115 --chroot --hardening off; }
expect_chrootoff() { expect_chroot_common chrootoff; }

# distribution: cluster_test.sh.

# restart_method: a flag file that a .path unit watches restarts the service.
flag_restarts() {
    local name=$1 how=$2 pid i
    pid=$(e2e_prop "shop-$name" MainPID)
    e2e_exec systemctl start "shop-$name-restart.path"
    "$how"
    for ((i = 0; i < 150; i++)); do
        [ "$(e2e_prop "shop-$name" MainPID)" = "$pid" ] || break
        sleep 0.1
    done
    if e2e_wait_prop "shop-$name" ActiveState active 15 && [ "$(e2e_prop "shop-$name" MainPID)" != "$pid" ] &&
        [ "$(e2e_prop "shop-$name" MainPID)" != 0 ]; then
        pass "shop-$name: the flag restarted the service ($pid -> $(e2e_prop "shop-$name" MainPID))"
    else
        fail "shop-$name: the flag restarted the service" "$(e2e_prop "shop-$name" MainPID) $(e2e_prop "shop-$name" ActiveState)"
    fi
    check_companion "$name" "shop-$name-restart.service"
    e2e_exec systemctl stop "shop-$name-restart.path"
}
gen_flag() { variant flag 4118 --restart-method systemd_flag; }
touch_flag_as_deployer() { e2e_exec touch /srv/shop/flags/restart.flag; }
expect_flag() { flag_restarts flag touch_flag_as_deployer; }
gen_touch() { variant touch 4119 --restart-method touch; }
touch_flag_from_inside() { probe touch "write /run/shop-touch/restart.flag" >/dev/null; }
expect_touch() { flag_restarts touch touch_flag_from_inside; }

# The runtime-environment oneshot writes an environment file the service reads at start.
gen_renv() {
    variant renv 4120 --runtime-environment-service \
        --runtime-environment-service-script /usr/local/bin/shop-env
}
setup_renv() {
    # shellcheck disable=SC2016 # the script's own $1
    printf '%s\n' '#!/bin/sh' 'echo SHOP_FROM_RUNTIME_ENV=yes >"$1"' |
        e2e_exec sh -c 'cat >/usr/local/bin/shop-env && chmod 0755 /usr/local/bin/shop-env'
}
expect_renv() {
    expect renv "env SHOP_FROM_RUNTIME_ENV" "ok yes"
    check_companion renv shop-renv-runtime-environment.service
}

ALL_VARIANTS=(strict standard off dynamic lowport osmon privnet paths wrap jitperf crashdump reload
    chroot chrootstd chrootoff flag touch renv)
variants=("$@")
[ "${#variants[@]}" -gt 0 ] || variants=("${ALL_VARIANTS[@]}")

e2e_require
if shop_build; then pass "the example release built from a pristine tree"; else
    fail "the example release built"
    finish
fi
UNITS=$E2E_SCRATCH/units
for v in "${variants[@]}"; do
    if "gen_$v"; then pass "shop-$v: unit generated"; else fail "shop-$v: unit generated"; fi
done

e2e_boot options-test || {
    fail "boot"
    finish
}
# One release and one user (app_user shop) for every variant; each variant's tmpfiles.d file
# makes its directories.
e2e_exec sh -c 'mkdir -p /etc/sysusers.d && echo "u shop - \"shop release\" - -" >/etc/sysusers.d/shop.conf'
e2e_exec systemd-sysusers /etc/sysusers.d/shop.conf >/dev/null
e2e_exec mkdir -p /srv/shop
e2e_copy_in "$SHOP_REL" /srv/shop/current
for v in "${variants[@]}"; do
    install_variant "$v"
    ! declare -F "setup_$v" >/dev/null || "setup_$v"
done
# The variants that run as another user (DynamicUser=) read the release too.
e2e_exec chmod 0755 /srv/shop
e2e_exec systemctl daemon-reload

for v in "${variants[@]}"; do
    echo "-- variant: $v"
    if start_variant "$v"; then "expect_$v"; fi
    e2e_exec systemctl stop "shop-$v" 2>/dev/null || true
done

if e2e_stop; then pass "the container stopped, nothing left behind"; else fail "nothing left behind"; fi
finish
