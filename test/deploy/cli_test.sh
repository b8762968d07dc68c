#!/bin/sh
# vigil-deploy's command line, and `install --root` on an offline image with the files
# vigil-unit wrote: the user without a login shell, the deploy dir, the cookie, the enablement.
# Needs no running systemd. VIGIL_DEPLOY, VIGIL_UNIT and TEMPLATES name the binaries and
# templates.
set -eu

fail() {
    echo "deploy cli_test: FAIL: $*" >&2
    exit 1
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status() {
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    echo $?
    set -e
}

[ "$(status "$VIGIL_DEPLOY" --help)" = 0 ] || fail "--help"
grep -q '^  2  the new release failed to start' "$tmp/out" || fail "--help lists exit statuses"
[ "$(status "$VIGIL_DEPLOY")" = 64 ] || fail "no command is a usage error"
[ "$(status "$VIGIL_DEPLOY" frobnicate)" = 64 ] || fail "unknown command"
[ "$(status "$VIGIL_DEPLOY" release)" = 64 ] || fail "release without a source"
[ "$(status "$VIGIL_DEPLOY" prune)" = 64 ] || fail "prune without --keep"
[ "$(status "$VIGIL_DEPLOY" --keep 0 prune)" = 64 ] || fail "--keep 0"
[ "$(status "$VIGIL_DEPLOY" --root "$tmp" rollback)" = 64 ] || fail "--root outside install"

# A rollback with no release is refused with status 1, before any manager is asked.
mkdir -p "$tmp/srv/shop"
[ "$(status "$VIGIL_DEPLOY" --service shop --deploy-dir "$tmp/srv/shop" rollback)" = 1 ] ||
    fail "rollback with nothing deployed"
grep -q 'no current release' "$tmp/err" || fail "rollback says why: $(cat "$tmp/err")"

# install --root: an image with only what the tools need.
"$VIGIL_UNIT" --templates "$TEMPLATES" --app-name shop --output "$tmp/units" >/dev/null
img=$tmp/img
mkdir -p "$img/etc" "$img/usr/sbin"
: >"$img/etc/passwd"
: >"$img/etc/group"
for i in 1 2; do
    [ "$(status "$VIGIL_DEPLOY" --root "$img" --units "$tmp/units" install)" = 0 ] ||
        fail "install --root (run $i): $(cat "$tmp/err")"
done
grep -q '^shop:x:[0-9]*:[0-9]*:shop release:/:/usr/sbin/nologin$' "$img/etc/passwd" ||
    fail "user shop without a login shell: $(cat "$img/etc/passwd")"
[ "$(grep -c '^shop:' "$img/etc/passwd")" = 1 ] || fail "install twice adds the user once"
[ -f "$img/etc/systemd/system/shop.service" ] || fail "unit installed"
[ -L "$img/etc/systemd/system/multi-user.target.wants/shop.service" ] || fail "unit enabled"
[ -d "$img/srv/shop" ] || fail "deploy dir created by tmpfiles"
[ "$(stat -c %a "$img/srv/shop/COOKIE")" = 600 ] || fail "cookie kept, mode 0600"
cookie=$(cat "$img/srv/shop/COOKIE")
"$VIGIL_DEPLOY" --root "$img" --units "$tmp/units" install
[ "$(cat "$img/srv/shop/COOKIE")" = "$cookie" ] || fail "a second install keeps the cookie"
echo "deploy cli_test: ok"
