#!/bin/sh
# The version has one home, src/vigil.app.src: mix.exs, the binaries (VIGIL_VERSION from the
# Makefile), the manifest vigil-unit writes and CHANGELOG.md must all show that one.
# VIGIL_UNIT and VIGIL_DEPLOY name the built binaries.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

check() {
    if [ "$2" = "$3" ]; then
        echo "  ok  $1: $3"
    else
        echo "  FAIL $1: \"$3\", app.src says \"$2\"" >&2
        fails=$((fails + 1))
    fi
}

app_src=$(cd "$top" && erl -noshell -eval \
    '{ok, [{application, vigil, P}]} = file:consult("src/vigil.app.src"),
     io:format("~s", [proplists:get_value(vsn, P)]), halt().')
echo "$app_src" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$' || {
    echo "version_test: FAIL: app.src's vsn \"$app_src\" is not a semantic version" >&2
    exit 1
}
mix_exs=$(cd "$top" && mix run --no-compile --no-start --no-deps-check \
    -e 'IO.write(Mix.Project.config()[:version])')
check "mix.exs" "$app_src" "$mix_exs"
check "vigil-unit --version" "vigil-unit $app_src" "$("$VIGIL_UNIT" --version)"
check "vigil-deploy --version" "vigil-deploy $app_src" "$("$VIGIL_DEPLOY" --version)"
# With a value, --version stays the release version key.
"$VIGIL_UNIT" --app-name probe --version 9.9.9 --output "$tmp/units" 2>/dev/null
manifest=$(sed -n 's/^  "vigil_version": "\(.*\)",$/\1/p' "$tmp/units/probe.manifest.json")
check "the manifest's vigil_version" "$app_src" "$manifest"
release=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$tmp/units/probe.manifest.json")
[ "$release" = 9.9.9 ] || { echo "  FAIL --version VALUE is no longer the release version ($release)" >&2; fails=$((fails + 1)); }
changelog=$(sed -n 's/^## \[\([0-9][^]]*\)\].*/\1/p' "$top/CHANGELOG.md" | head -1)
check "CHANGELOG.md's newest release" "$app_src" "$changelog"

[ "$fails" -eq 0 ] || { echo "version_test: $fails disagreement(s)" >&2; exit 1; }
echo "version_test: $app_src everywhere"
