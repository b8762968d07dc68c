#!/usr/bin/env bash
# test/e2e/run.sh: runs every test/e2e/*_test.sh in turn and adds up their results. A script
# exiting 77 was skipped (it says why); one that fails without a failure in its count counts as one.
# Exits 1 on a failure, else 77 when a script was skipped, else 0.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
limit=${VIGIL_E2E_TEST_TIMEOUT:-600}
passed=0
failed=0
skipped=0
log=$(mktemp)
# The example release, built from a pristine copy once for every script (shop.sh).
VIGIL_E2E_SHARED=$(mktemp -d "${TMPDIR:-/tmp}/vigil-e2e-shared.XXXXXX")
export VIGIL_E2E_SHARED
trap 'rm -f "$log"; rm -rf "$VIGIL_E2E_SHARED"' EXIT

for test in "$here"/*_test.sh; do
    echo "== e2e: ${test#"$here"/}"
    # On a time-out the script gets SIGTERM first, so that its EXIT trap stops the container;
    # --foreground keeps it in this process group, where Ctrl-C reaches it.
    began=$SECONDS
    timeout --foreground --kill-after=30 "$limit" bash "$test" </dev/null 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    echo "== e2e: ${test#"$here"/} took $((SECONDS - began)) s"
    counts=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    p=$(echo "$counts" | awk '{ print $1 + 0 }')
    f=$(echo "$counts" | awk '{ print $3 + 0 }')
    if [ "$rc" -eq 77 ]; then
        skipped=$((skipped + 1))
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "e2e: ${test#"$here"/} exited with status $rc"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
done

if [ "$skipped" -gt 0 ]; then
    echo "e2e: $passed passed, $failed failed, $skipped skipped"
else
    echo "e2e: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] || exit 1
[ "$skipped" -eq 0 ] || exit 77
