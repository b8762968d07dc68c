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

# check_grep NAME PATTERN TEXT: TEXT has a line matching the extended regular expression.
check_grep() {
    if grep -qE -- "$2" <<<"$3"; then pass "$1"; else
        fail "$1" "no line matches /$2/; the last lines were:"
        tail -n 8 <<<"$3" | cut -c1-200 | sed 's/^/     /'
    fi
}

check_no_grep() {
    local line
    if line=$(grep -m1 -E -- "$2" <<<"$3"); then fail "$1" "$line"; else pass "$1"; fi
}

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

# run_scenarios "ALL..." [NAME...]: the scenarios named (default: all of ALL, in its order),
# each checked to exist; then e2e_require, the script's setup, and scenario_NAME for each.
run_scenarios() {
    local all=$1 name
    shift
    local chosen=("$@")
    [ "${#chosen[@]}" -gt 0 ] || read -r -a chosen <<<"$all"
    for name in "${chosen[@]}"; do
        declare -F "scenario_$name" >/dev/null || {
            echo "unknown scenario '$name'; the scenarios: $all" >&2
            exit 2
        }
    done
    e2e_require
    setup
    for name in "${chosen[@]}"; do
        echo "-- scenario: $name"
        "scenario_$name"
    done
}
