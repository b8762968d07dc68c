#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317 # cleanup runs from the EXIT trap
# pressure_test.sh: memory pressure under systemd 257 (Debian 13), one boot.
#
# The example release runs with MemoryPressureWatch=on and a memory cap, reading a 128 MiB data
# file over and over (its file cache) while its "hog" command starts processes that go idle
# holding dead heap. Pressure is the time the kernel spends taking the file cache back and the
# service reading it in again: without swap that is the only memory it can reclaim, and anonymous
# memory alone would go straight to the OOM killer with no stall to report. With memory_pressure_action gc (SHOP_PRESSURE_ACTION=gc)
# the node must get the event (systemd's trigger through the cgroup's memory.pressure), collect,
# say what it freed, and survive the whole load; the same node and load without the action must be
# OOM-killed. Both are reported with their numbers.
#
# The cap: MemoryMax= in a drop-in where the container's cgroup2 tree has the memory controller.
# On a host whose memory controller is bound to cgroup v1 (a hybrid layout, as on the machine
# this was written on) no cgroup2 tree can have it, so the cap is a v1 memory cgroup made here on
# the host, into which the service's processes are moved after each start (it counts what they
# allocate from then on). Either way the pressure is the kernel's, seen by systemd's per-unit
# memory.pressure file. systemd 257 sets MEMORY_PRESSURE_WATCH only on a unified (cgroup2) tree,
# so the container boots with one (SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/harness.sh"
. "$HERE/shop.sh"
. "$HERE/assert.sh"

e2e_require
e2e_use_suite trixie

# The cap, and the load: WAVES times "hog 1 WAVE_MB", PACE seconds apart (well past the cap
# unless something collects). The threshold is low because the stall comes in short bursts
# just before the cap is reached; systemd's default (200 ms per 2 s) would be too late here.
CAP_MB=${PRESSURE_CAP_MB:-300}
WAVES=${PRESSURE_WAVES:-40}
WAVE_MB=${PRESSURE_WAVE_MB:-8}
PACE=${PRESSURE_PACE:-1}
THRESHOLD_MS=${PRESSURE_THRESHOLD_MS:-10}
DATA_MB=128
V1_MEMCG=

# The harness's own exit trap stops the container and removes the scratch directory; this one
# does the same, then removes the v1 memory cgroup, which must be empty first.
cleanup() {
    local status=$? pid
    trap - EXIT
    e2e_stop || status=1
    if [ -n "$V1_MEMCG" ] && [ -d "$V1_MEMCG" ]; then
        while read -r pid; do
            echo "$pid" >/sys/fs/cgroup/memory/cgroup.procs 2>/dev/null || true
        done <"$V1_MEMCG/cgroup.procs"
        rmdir "$V1_MEMCG" || { e2e_log "ERROR: cannot remove $V1_MEMCG"; status=1; }
    fi
    [ -z "$E2E_SCRATCH" ] || rm -rf "$E2E_SCRATCH"
    exit "$status"
}

shop_build
# The watch and its threshold come from the generator's keys (MemoryPressureWatch= and
# MemoryPressureThresholdSec= need systemd 254); the cap and Restart=no from a drop-in.
shop_gen_unit --systemd-version 257 --memory-pressure-watch on \
    --memory-pressure-threshold-ms "$THRESHOLD_MS"
check_grep "the generator writes the watch for systemd 257" '^MemoryPressureWatch=on$' \
    "$(cat "$SHOP_UNITS/shop.service")"
# The data file, on the host's disk (the container's own files are on a tmpfs overlay, which
# cannot be reclaimed without swap), and out of the host's page cache, so that the service's
# reads charge its pages to the service.
head -c $((DATA_MB * 1048576)) /dev/urandom >"$E2E_SCRATCH/data"
sync "$E2E_SCRATCH/data"
dd if="$E2E_SCRATCH/data" iflag=nocache count=0 status=none
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
e2e_boot pressure --bind-ro="$E2E_SCRATCH/data:/srv/pressure-data"
trap cleanup EXIT
shop_install
e2e_exec systemctl --version | head -n 1

# Restart=no: the OOM kill must end the test's node, not start another one.
printf '[Service]\nMemoryMax=%sM\nRestart=no\n' "$CAP_MB" |
    e2e_exec sh -c 'mkdir -p /etc/systemd/system/shop.service.d &&
        cat >/etc/systemd/system/shop.service.d/pressure.conf && systemctl daemon-reload'

# Where the container's cgroups are on the host (the harness's cgroup2 tree).
host_unit_cgroup() {
    local cg
    for cg in "${E2E_CGROUPS[@]}"; do
        find "$cg" -type d -path '*/system.slice/shop.service' -print -quit 2>/dev/null
    done | head -n 1
}

# The service's cap: MemoryMax= when the unit's cgroup has memory.max, else a v1 memory cgroup.
apply_cap() {
    local inside pid n=0
    inside=$(e2e_exec sh -c 'test -e /sys/fs/cgroup/system.slice/shop.service/memory.max && echo yes' || true)
    if [ "$inside" = yes ]; then
        CAP_HOW="MemoryMax=${CAP_MB}M"
        return 0
    fi
    CAP_HOW="a v1 memory cgroup of ${CAP_MB} MiB (host: memory controller on cgroup v1)"
    if [ -z "$V1_MEMCG" ]; then
        V1_MEMCG=/sys/fs/cgroup/memory/vigil-e2e-pressure.$$
        mkdir "$V1_MEMCG"
        echo $((CAP_MB * 1048576)) >"$V1_MEMCG/memory.limit_in_bytes"
    fi
    while read -r pid; do
        echo "$pid" >"$V1_MEMCG/cgroup.procs" && n=$((n + 1))
    done <"$(host_unit_cgroup)/cgroup.procs"
    [ "$n" -gt 0 ]
}

oom_kills() {
    if [ -n "$V1_MEMCG" ]; then
        sed -n 's/^oom_kill //p' "$V1_MEMCG/memory.oom_control"
    else
        e2e_exec sh -c 'sed -n "s/^oom_kill //p" /sys/fs/cgroup/system.slice/shop.service/memory.events'
    fi
}

peak_mb() {
    if [ -n "$V1_MEMCG" ]; then
        echo $(($(cat "$V1_MEMCG/memory.max_usage_in_bytes") / 1048576))
        echo 0 >"$V1_MEMCG/memory.max_usage_in_bytes"
    else
        # shellcheck disable=SC2016 # the inner shell expands it
        e2e_exec sh -c 'echo $(($(cat /sys/fs/cgroup/system.slice/shop.service/memory.peak) / 1048576))'
    fi
}

start_shop() {
    shop_env "SHOP_PRESSURE_ACTION=$1"
    e2e_exec systemctl reset-failed shop 2>/dev/null || true
    e2e_exec systemctl start shop
    apply_cap
    [ "$(shop_tcp "read /srv/pressure-data")" = ok ]
}

# The load, one wave at a time; stops early when the node no longer answers.
run_load() {
    local i reply
    LOAD_WAVES=0
    for ((i = 1; i <= WAVES; i++)); do
        reply=$(SHOP_TCP_TIMEOUT=20 shop_tcp "hog 1 $WAVE_MB") || break
        [ "${reply%% *}" = ok ] || break
        LOAD_WAVES=$i
        sleep "$PACE"
    done
}

# ---- with the action: the event arrives, the GC runs, the node survives ----

shop_mark
start_shop gc
check "systemd loaded MemoryPressureWatch=on" yes "$(e2e_prop shop MemoryPressureWatch)"
check "and MemoryPressureThresholdSec=${THRESHOLD_MS}ms" "${THRESHOLD_MS}ms" "$(e2e_prop shop MemoryPressureThresholdUSec)"
# shellcheck disable=SC2016 # the inner shell expands it
env_line=$(e2e_exec sh -c 'tr "\0" "\n" </proc/$(systemctl show -P MainPID shop)/environ' | grep '^MEMORY_PRESSURE_WATCH=' || true)
check_grep "systemd hands the node its cgroup's memory.pressure" \
    '^MEMORY_PRESSURE_WATCH=/sys/fs/cgroup/system.slice/shop.service/memory.pressure$' "$env_line"
sleep 1
check_grep "vigil opens the watch (ProtectControlGroups= and all)" 'watching memory pressure at /sys/fs/cgroup/system.slice/shop.service/memory.pressure' "$(shop_journal)"
before=$(shop_tcp memory)
peak_mb >/dev/null
t0=$(shop_now_ms)
run_load
after=$(shop_tcp memory || true)
journal=$(shop_journal)
check "the node with the action took the whole load ($WAVES waves of $WAVE_MB MiB)" "$WAVES" "$LOAD_WAVES"
check "and is still active" active "$(e2e_prop shop ActiveState)"
check_grep "vigil logs the event and what the collection freed" \
    'vigil: memory pressure \(.*garbage-collected the [0-9]+ largest processes, freed [0-9.]+ MiB' "$journal"
check_grep "the subscriber got {vigil, memory_pressure, Info}" 'shop: memory pressure notice 1: .*events' "$journal"
first=$(e2e_exec journalctl -q --no-pager -o short-unix --since=@"$SHOP_MARK" SYSLOG_IDENTIFIER=shop |
    grep -m1 -E 'vigil: memory pressure \(' || true)
notices=$(grep -cE 'vigil: memory pressure \(' <<<"$journal" || true)
freed=$(grep -oE 'freed [0-9.]+ MiB' <<<"$journal" | awk '{s += $2} END {printf "%.1f", s}')
peak_gc=$(peak_mb)
oom_gc=$(oom_kills)
check "no OOM kill with the action" 0 "${oom_gc:-0}"
FIGURES=("with gc: ${notices:-0} notice(s), ${freed:-0} MiB freed in all, peak ${peak_gc} MiB of a ${CAP_MB} MiB cap, node memory ${before#* } -> ${after#* } bytes (notices seen ${after%% *})")
if [ -n "$first" ]; then
    t1=$(awk '{ split($1, t, "."); print t[1] substr(t[2] "000", 1, 3) }' <<<"$first")
    FIGURES+=("first notice $((t1 - t0)) ms after the load began: ${first#* }")
fi

# ---- without the action: the same load is OOM-killed ----

e2e_exec systemctl stop shop
shop_mark
start_shop none
peak_mb >/dev/null
oom_before=$(oom_kills)
run_load
sleep 2
journal=$(shop_journal)
state=$(e2e_prop shop ActiveState)
result=$(e2e_prop shop Result)
oom_after=$(oom_kills)
check "without the action the node is killed by the load" failed "$state"
if [ "$((${oom_after:-0} - ${oom_before:-0}))" -ge 1 ]; then pass "the kernel's OOM killer did it (oom_kill ${oom_before:-0} -> ${oom_after:-0})"; else
    fail "the kernel's OOM killer did it" "oom_kill ${oom_before:-0} -> ${oom_after:-0}, Result=$result"
fi
check_grep "vigil told of the pressure without acting" 'memory pressure \(.*no action configured' "$journal"
FIGURES+=("without: killed after $LOAD_WAVES of $WAVES waves, Result=$result, ExecMainStatus=$(e2e_prop shop ExecMainStatus), cap: $CAP_HOW")

for f in "${FIGURES[@]}"; do echo "     $f"; done
finish
