#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# test/e2e/readme_test.sh: README.md's "Deploying" path, command by command, as a
# reader runs it: each ```sh block after a `<!-- e2e: build -->` line runs on the host in the
# example project of a pristine tree, each after `<!-- e2e: server -->` runs as root inside a
# freshly booted Debian 12, in a directory holding what the build made. A README edit that breaks
# the path fails here.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=harness.sh
. "$HERE/harness.sh"
# shellcheck source=shop.sh
. "$HERE/shop.sh"
# shellcheck source=assert.sh
. "$HERE/assert.sh"

# readme_blocks KIND: the README's blocks of that kind, separated by NUL.
readme_blocks() {
    awk -v kind="$1" '
        $0 == "<!-- e2e: " kind " -->" { armed = 1; next }
        armed && /^```sh$/ { inside = 1; armed = 0; next }
        inside && /^```$/ { inside = 0; printf "%c", 0; next }
        inside { print }
    ' "$E2E_TOP/README.md"
}

mapfile -d '' build_blocks < <(readme_blocks build)
mapfile -d '' server_blocks < <(readme_blocks server)
check "the README has its build and server blocks" "1 2" "${#build_blocks[@]} ${#server_blocks[@]}"

e2e_require
# A pristine tree with the example in it, as the README's reader has; shop_build compiles it once.
# Its own, not the one run.sh shares: the README's build block rebuilds the release in place.
unset VIGIL_E2E_SHARED
shop_build || {
    fail "the example builds"
    finish
}

n=0
for block in "${build_blocks[@]}"; do
    n=$((n + 1))
    if out=$(cd "$SHOP_SRC" && bash -euo pipefail -c "$block" 2>&1); then
        pass "build block $n ran on the build machine"
    else
        fail "build block $n" "$(tail -n 15 <<<"$out")"
        finish
    fi
done

# The generator's settings (config/vigil_unit.exs) stay on the build machine.
sys_config=$(ls "$SHOP_REL"/releases/*/sys.config)
check "the release's sys.config carries vigil's runtime settings" yes \
    "$(grep -q 'health_checks' "$sys_config" && echo yes || echo no)"
check "and no generator settings (they could hold secrets)" no \
    "$(grep -qE 'env_files|listen_ports' "$sys_config" && echo yes || echo no)"

e2e_boot readme-test || {
    fail "boot"
    finish
}
e2e_copy_in "$SHOP_SRC/shop.tar.gz" /root/upload/shop.tar.gz
check "a stock server: no sysusers.d directory yet" no \
    "$(e2e_exec test -d /etc/sysusers.d && echo yes || echo no)"

n=0
for block in "${server_blocks[@]}"; do
    n=$((n + 1))
    # shellcheck disable=SC2016 # $1 is expanded by the inner shell
    if out=$(e2e_exec bash -c 'cd /root/upload && exec bash -euo pipefail -c "$1"' sh "$block" 2>&1); then
        pass "server block $n ran as root"
    else
        fail "server block $n" "$(tail -n 15 <<<"$out")"
    fi
    if [ "$n" -eq 1 ]; then
        check "after the install: enabled, active, ready" "enabled active serving on :$SHOP_PORT" \
            "$(e2e_exec systemctl is-enabled shop) $(e2e_prop shop ActiveState) $(e2e_prop shop StatusText)"
        check "the service runs as its own user" shop "$(e2e_prop shop User)"
        check "it serves" pong "$(shop_tcp ping)"
    fi
done
check "after the day-to-day commands: active and ready" "active serving on :$SHOP_PORT" \
    "$(e2e_prop shop ActiveState) $(e2e_prop shop StatusText)"

if e2e_stop; then pass "the container stopped, nothing left behind"; else fail "nothing left behind"; fi
finish
