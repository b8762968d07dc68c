# shellcheck shell=bash
# assert.sh: counting assertions for the e2e test scripts, sourced after harness.sh.
# Every script ends with `finish`, which prints the plain "N passed, M failed" line.

passed=0
failed=0

pass() {
    passed=$((passed + 1))
    echo "ok   $1"
}

fail() {
    failed=$((failed + 1))
    echo "FAIL $1${2:+: $2}"
}

# check NAME EXPECTED ACTUAL
check() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}
