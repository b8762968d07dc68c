#!/usr/bin/env bash
# test/e2e/run.sh: runs every test/e2e/*_test.sh and adds up their results. Each script boots its
# own container, so several run at once (VIGIL_E2E_JOBS, default 2), the longest first, never
# two heavy ones together; a script's output is shown whole when it ends. A script exiting 77 was
# skipped (it says why); one that fails without a failure in its count counts as one. Exits 1 on
# a failure, else 77 when a script was skipped, else 0.
#
#   run.sh [SCRIPT...]   only these (names as in test/e2e, e.g. deploy_test.sh)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
limit=${VIGIL_E2E_TEST_TIMEOUT:-900}
jobs=${VIGIL_E2E_JOBS:-2}
# Longest first (seconds each took alone on 2 cores), so that the last to start are short ones.
# A script not named here runs after these.
order=(deploy_test.sh sockets_test.sh trixie_test.sh release_test.sh cluster_test.sh
    pressure_test.sh dependency_test.sh options_test.sh readme_test.sh harness_test.sh)
# The ones that keep both cores busy for minutes (restarts under load, a whole build and test
# run): never two of them at once, or their deadlines slip on 2 cores; each runs beside the others.
heavy=" deploy_test.sh sockets_test.sh trixie_test.sh "
passed=0
failed=0
skipped=0
logs=$(mktemp -d "${TMPDIR:-/tmp}/vigil-e2e-logs.XXXXXX")
# The example release, built from a pristine copy once for every script (shop.sh).
VIGIL_E2E_SHARED=$(mktemp -d "${TMPDIR:-/tmp}/vigil-e2e-shared.XXXXXX")
export VIGIL_E2E_SHARED
trap 'rm -rf "$logs" "$VIGIL_E2E_SHARED"' EXIT

scripts() {
    local name listed=" ${order[*]} "
    if [ $# -gt 0 ]; then
        printf '%s\n' "$@"
        return
    fi
    for name in "${order[@]}"; do
        [ ! -f "$here/$name" ] || echo "$name"
    done
    for name in "$here"/*_test.sh; do
        name=${name#"$here"/}
        [[ "$listed" == *" $name "* ]] || echo "$name"
    done
}

# Built before any script starts: two scripts starting together would both build it in one place.
prebuild() {
    local began=$SECONDS
    # shellcheck disable=SC1091 # sourced from the same directory at run time
    if (. "$here/harness.sh" && . "$here/shop.sh" && shop_build) >"$logs/prebuild.log" 2>&1; then
        echo "== e2e: the example release built once for every script in $((SECONDS - began)) s"
    else
        # Each script that needs it then fails on its own, with this log in its output.
        echo "== e2e: building the example release failed:"
        tail -n 40 "$logs/prebuild.log"
    fi
}

declare -A name_of=() began_at=()
start() {
    local name=$1
    echo "== e2e: $name started"
    # On a time-out the script gets SIGTERM first, so that its EXIT trap stops the container;
    # --foreground keeps it in this process group, where Ctrl-C reaches it.
    timeout --foreground --kill-after=30 "$limit" bash "$here/$name" </dev/null >"$logs/$name" 2>&1 &
    name_of[$!]=$name
    began_at[$!]=$SECONDS
}

# Waits for any script to end, shows its output and adds its counts.
finish_one() {
    local pid rc name counts p f
    wait -n -p pid "${!name_of[@]}"
    rc=$?
    name=${name_of[$pid]}
    echo "== e2e: $name (output follows)"
    cat "$logs/$name"
    echo "== e2e: $name took $((SECONDS - began_at[$pid])) s"
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$logs/$name" | tail -n 1)
    p=$(echo "$counts" | awk '{ print $1 + 0 }')
    f=$(echo "$counts" | awk '{ print $3 + 0 }')
    if [ "$rc" -eq 77 ]; then
        skipped=$((skipped + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "e2e: $name exited with status $rc"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
    unset "name_of[$pid]" "began_at[$pid]"
}

heavy_running() {
    local pid
    for pid in "${!name_of[@]}"; do
        [[ "$heavy" != *" ${name_of[$pid]} "* ]] || return 0
    done
    return 1
}

# Starts the first queued script that may start now; returns 1 when none may.
start_next() {
    local i
    for i in "${!queue[@]}"; do
        if [[ "$heavy" == *" ${queue[$i]} "* ]] && heavy_running; then continue; fi
        start "${queue[$i]}"
        unset "queue[$i]"
        return 0
    done
    return 1
}

began=$SECONDS
prebuild
mapfile -t queue < <(scripts "$@")
while [ "${#queue[@]}" -gt 0 ]; do
    if [ "${#name_of[@]}" -ge "$jobs" ] || ! start_next; then finish_one; fi
done
while [ "${#name_of[@]}" -gt 0 ]; do finish_one; done
echo "== e2e: every script ran in $((SECONDS - began)) s, $jobs at a time"

if [ "$skipped" -gt 0 ]; then
    echo "e2e: $passed passed, $failed failed, $skipped skipped"
else
    echo "e2e: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] || exit 1
[ "$skipped" -eq 0 ] || exit 77
