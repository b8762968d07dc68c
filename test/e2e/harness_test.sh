#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# test/e2e/harness_test.sh: proves the harness against a real systemd, with a small Type=notify
# service (notify-test): readiness, status, watchdog restarts, stop, and nothing left behind.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"

# shellcheck source=assert.sh
. "$HERE/assert.sh"

prop() {
    e2e_prop "$@"
}

# What a host observer sees, independently of the harness's own checks: only what this script's
# containers (OURS) and runs (OWNERS: the PIDs of its shells) would leave, because other scripts
# may be running their own containers meanwhile.
OURS='vigil-e2e.trap-test.* vigil-e2e.killed-test.* vigil-e2e.harness-test.*'
OWNERS=$$
host_leftovers() {
    local name owner
    for name in $OURS; do
        find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -name "$name" 2>/dev/null
    done
    for owner in $OWNERS; do
        ls -d "${TMPDIR:-/tmp}/vigil-e2e.$owner".* 2>/dev/null || true
    done
    if [ -n "${1:-}" ]; then
        for p in /proc/[0-9]*; do
            [ "$(readlink "$p/ns/pid" 2>/dev/null)" != "$1" ] || echo "process ${p#/proc/}"
        done
    fi
}

# The harness skips only for the reasons e2e_skip_reason gives, and never where nspawn is
# installed and we are root: there a skip would hide a broken harness, so it is a failure.
if [ "$(id -u)" -eq 0 ] && [ -x /usr/bin/systemd-nspawn ]; then
    check "no skip as root with /usr/bin/systemd-nspawn" "" "$(e2e_skip_reason)"
    [ "$failed" -eq 0 ] || finish
fi
e2e_require

mounts_before=$(awk '{ print $5 }' /proc/self/mountinfo | sort)
tree=$(e2e_tree) || true
if [ -x "$tree/usr/lib/systemd/systemd" ]; then pass "tree $tree"; else fail "tree" "no systemd in $tree"; fi

# A run that fails after booting still stops its container (the harness's EXIT trap).
rc=0
bash -c '. "$1"; e2e_boot trap-test >/dev/null 2>&1 || exit 9; exit 3' sh "$HERE/harness.sh" &
OWNERS="$OWNERS $!"
wait $! || rc=$?
check "a failing script keeps its exit status" 3 "$rc"
check "a failing script leaves nothing" "" "$(host_leftovers)"

# A run killed outright cannot clean up; the next boot removes what it left.
ready=$(mktemp)
bash -c '. "$1"; e2e_boot killed-test >/dev/null 2>&1 || exit 9; echo "$E2E_PIDNS" >"$2"; exec sleep 60' \
    sh "$HERE/harness.sh" "$ready" &
killed=$!
OWNERS="$OWNERS $killed"
for ((i = 0; i < 600; i++)); do
    if [ -s "$ready" ] || ! kill -0 "$killed" 2>/dev/null; then break; fi
    sleep 0.1
done
killed_pidns=$(cat "$ready")
rm -f "$ready"
kill -KILL "$killed" 2>/dev/null || true
wait "$killed" 2>/dev/null || true
if [ -n "$killed_pidns" ]; then pass "a second run boots"; else fail "a second run boots"; fi

if e2e_boot harness-test; then
    pass "boot"
else
    fail "boot"
    finish
fi
pidns=$E2E_PIDNS
mine() {
    grep -v -e "\.$$\$" -e "/vigil-e2e\.$$\." || true
}
# Its last processes may take a moment to be reaped by the host's init.
for ((i = 0; i < 30; i++)); do
    [ -n "$(host_leftovers "$killed_pidns" | mine)" ] || break
    sleep 0.1
done
check "the next boot removes what a killed run left" "" "$(host_leftovers "$killed_pidns" | mine)"

check "systemd is PID 1" systemd "$(e2e_exec cat /proc/1/comm)"
check "stdout passes through" hello "$(e2e_exec echo hello)"
check "stderr passes through" oops "$(e2e_exec sh -c 'echo oops >&2' 2>&1 >/dev/null)"
rc=0
e2e_exec sh -c 'exit 7' || rc=$?
check "exit status passes through" 7 "$rc"
check "stdin passes through" abc "$(echo abc | e2e_exec cat)"
check "/dev/null is usable by anyone" 666 "$(e2e_exec stat -c %a /dev/null)"
check "the repository is at /vigil" yes "$(e2e_exec test -f /vigil/test/e2e/harness.sh && echo yes)"

units=$(mktemp -d)
cat >"$units/notify-test.service" <<'EOF'
[Unit]
Description=harness test: notify, no watchdog pings

[Service]
Type=notify
ExecStart=/usr/local/bin/notify-test
WatchdogSec=1
Restart=on-failure
RestartSec=100ms
StartLimitIntervalSec=0
EOF
sed -e 's/no watchdog pings/watchdog pings/' -e 's|^ExecStart=.*|& --ping|' \
    "$units/notify-test.service" >"$units/notify-ping.service"
e2e_copy_in "$HERE/notify-test" /usr/local/bin/notify-test
e2e_copy_in "$units" /etc/systemd/system
rm -rf "$units"
check "copy in keeps the mode" 755 "$(e2e_exec stat -c %a /usr/local/bin/notify-test)"
e2e_exec systemctl daemon-reload

# systemctl start returns only once READY=1 arrived (a second after the process started).
e2e_exec systemctl start notify-ping &
starter=$!
sleep 0.5
check "activating before READY=1" activating "$(prop notify-ping ActiveState)"
check "status before READY=1" starting "$(prop notify-ping StatusText)"
rc=0
wait "$starter" || rc=$?
check "systemctl start succeeds" 0 "$rc"
check "show after start" "ActiveState=active NRestarts=0 StatusText=serving" \
    "$(e2e_exec systemctl show -p StatusText,ActiveState,NRestarts notify-ping | sort | xargs)"

# Without pings the watchdog fires, systemd kills and restarts; NRestarts is read while the unit
# is loaded (it resets when the unit is garbage-collected).
e2e_exec systemctl start notify-test
if e2e_wait_prop notify-test NRestarts 1 10; then pass "watchdog restart counted"; else
    fail "watchdog restart counted" "NRestarts=$(prop notify-test NRestarts)"
fi
if e2e_wait_prop notify-test StatusText serving 10 && e2e_wait_prop notify-test ActiveState active 10; then
    pass "ready again after the restart"
else
    fail "ready again after the restart" "$(prop notify-test ActiveState)"
fi
check "the journal names the watchdog" 1 \
    "$(e2e_exec journalctl -q -u notify-test | grep -c -m1 'Watchdog timeout' || true)"
e2e_exec systemctl stop notify-test

# With pings it stays up.
sleep 2.5
check "pinged service not restarted" "active 0" \
    "$(prop notify-ping ActiveState) $(prop notify-ping NRestarts)"

# systemctl stop: SIGTERM, STOPPING=1 while it drains, a clean exit, no restart.
e2e_exec systemctl stop notify-ping &
stopper=$!
sleep 0.25
check "deactivating while draining" "deactivating draining" \
    "$(prop notify-ping ActiveState) $(prop notify-ping StatusText)"
rc=0
wait "$stopper" || rc=$?
check "systemctl stop succeeds" 0 "$rc"
check "stopped cleanly" "inactive success 0 0" \
    "$(prop notify-ping ActiveState) $(prop notify-ping Result) $(prop notify-ping ExecMainStatus) $(prop notify-ping NRestarts)"

if e2e_stop; then pass "e2e_stop finds nothing left"; else fail "e2e_stop finds nothing left"; fi
check "no process, cgroup or work directory left" "" "$(host_leftovers "$pidns")"
check "no mount left" "$mounts_before" "$(awk '{ print $5 }' /proc/self/mountinfo | sort)"

finish
