#!/bin/sh
# A package is the files src/vigil.app.src lists ({files, ...}; mix.exs reads the same list),
# packed as hex packs them: those paths, a directory meaning all of it. This packs them,
# unpacks them in an empty directory outside the repository and compiles them there with mix and
# with rebar3, offline (a network namespace of its own when root). A file the build needs but the
# list lacks fails the build, and is named. Then the same with one header left out must fail and
# name it: proof that the test sees a missing file.
# VIGIL_PACKAGE_WORK: a scratch directory (emptied). VIGIL_PACKAGE_DROP: a path to leave out
# (then make alone builds it). VIGIL_PACKAGE_PRIV: the tree's priv/, which the package's must match.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
work=${VIGIL_PACKAGE_WORK:-$(mktemp -d)}
rm -rf "$work" && mkdir -p "$work"
# Outside the repository, so that nothing in it can be found by walking up from the package.
scratch=$(mktemp -d /tmp/vigil-package.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

fail() {
    echo "package_test: FAIL: $*" >&2
    exit 1
}

# ---- the list: one, read where mix and rebar3_hex read it ----

(cd "$top" && erl -noshell -eval \
    '{ok, [{application, vigil, P}]} = file:consult("src/vigil.app.src"),
     [io:format("~s~n", [F]) || F <- proplists:get_value(files, P)], halt().') >"$work/app_src.list"
(cd "$top" && mix run --no-compile --no-start --no-deps-check \
    -e 'Enum.each(Mix.Project.config()[:package][:files], &IO.puts/1)') >"$work/mix.list"
cmp -s "$work/app_src.list" "$work/mix.list" ||
    fail "mix.exs's package files differ from src/vigil.app.src's: $(diff "$work/app_src.list" "$work/mix.list" | grep '^[<>]' | tr '\n' ' ')"

# Every listed path exists; a directory stands for every file under it, as hex expands it.
: >"$work/files"
while read -r entry; do
    [ -e "$top/$entry" ] || fail "\"$entry\" is in {files, ...} (src/vigil.app.src) but not in the tree"
    (cd "$top" && find "$entry" -type f) >>"$work/files"
done <"$work/app_src.list"
sort -o "$work/files" "$work/files"
if [ -n "${VIGIL_PACKAGE_DROP:-}" ]; then
    grep -vxF "$VIGIL_PACKAGE_DROP" "$work/files" >"$work/files.kept" || true
    mv "$work/files.kept" "$work/files"
fi

# Nothing a user's build does not need: tests, examples, build output, files git ignores.
bad=$(grep -E '^(test|examples|bench|scripts|_build|priv|deps|\.ci)/|\.(o|d|so|beam|a)$' \
    "$work/files" || true)
[ -z "$bad" ] || fail "the package would carry $(echo "$bad" | tr '\n' ' ')"
if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
    ignored=$(git -C "$top" check-ignore --no-index --stdin <"$work/files" || true)
    [ -z "$ignored" ] || fail "the package would carry ignored (built) files: $(echo "$ignored" | tr '\n' ' ')"
fi

tar -C "$top" -czf "$work/vigil.tar.gz" -T "$work/files"
tar -tzf "$work/vigil.tar.gz" | sort >"$work/tar.list"
cmp -s "$work/tar.list" "$work/files" || fail "the tarball holds other files than the list"
echo "== package: $(wc -l <"$work/files") files, $(wc -c <"$work/vigil.tar.gz") bytes packed"

# ---- build it where nothing else is ----

offline() {
    if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
        unshare --net "$@"
    else
        "$@"
    fi
}

unpack() {
    rm -rf "${scratch:?}/$1" && mkdir -p "$scratch/$1/home"
    tar -C "$scratch/$1" -xzf "$work/vigil.tar.gz"
}

# Names what the build missed, from make's and the compiler's own words.
missing_from() {
    sed -n -e "s|.*No rule to make target '$scratch/[a-z]*/\([^']*\)'.*|\1|p" \
        -e 's|.*fatal error: \([^:]*\): No such file or directory.*|\1|p' \
        -e 's|.*include: \([^:]*\): No such file or directory.*|\1|p' "$1" | sort -u | tr '\n' ' '
}

# $1: name, then the command, run in the unpacked package with a home of its own.
build() {
    name=$1
    shift
    unpack "$name"
    if ! (cd "$scratch/$name" && offline env HOME="$scratch/$name/home" MIX_HOME="$scratch/$name/home/.mix" \
        HEX_OFFLINE=1 REBAR_OFFLINE=1 "$@") >"$work/$name.log" 2>&1; then
        missing=$(missing_from "$work/$name.log")
        tail -n 15 "$work/$name.log" >&2
        [ -z "$missing" ] || fail "$name: the build needs $missing- add it to {files, ...} in src/vigil.app.src"
        fail "$name: the package does not build (log: $work/$name.log)"
    fi
}

# The package builds the same priv/ as the tree (VIGIL_PACKAGE_PRIV, built by make all): a
# template or a source of a priv/ file missing from the list leaves a hole there, named here.
check_priv() {
    [ -n "${VIGIL_PACKAGE_PRIV:-}" ] || return 0
    (cd "$VIGIL_PACKAGE_PRIV" && find . -type f | sort) >"$work/priv.tree"
    (cd "$1" && find . -type f | sort) >"$work/priv.$2"
    holes=$(comm -23 "$work/priv.tree" "$work/priv.$2" | sed 's|^\./|priv/|' | tr '\n' ' ')
    [ -z "$holes" ] || fail "$2: the package does not build $holes- add its source to {files, ...} in src/vigil.app.src"
}

# The built application must hold what a release needs: the NIF, both tools, the templates, the
# Erlang and Elixir modules; and the NIF must load.
check_app() {
    app=$1
    check_priv "$app/priv" "$2"
    for f in priv/vigil_nif.so priv/vigil-unit priv/vigil-deploy priv/templates/service.unit \
        ebin/vigil.app ebin/vigil.beam; do
        [ -e "$app/$f" ] || fail "$2: $f was not built"
    done
    "$app/priv/vigil-unit" --version >/dev/null
    # mix's build starts elixir first.
    ERL_LIBS=$elixir_libs erl -noshell -pa "$app/ebin" -eval \
        'case application:ensure_all_started(vigil) of {ok, _} -> halt(0); E -> io:format("~p~n", [E]), halt(1) end.' ||
        fail "$2: the application does not start"
}

if [ -z "${VIGIL_PACKAGE_DROP:-}" ]; then
    elixir_libs=$(elixir -e 'IO.write(Path.dirname(:code.lib_dir(:elixir)))')
    build mix mix compile
    check_app "$scratch/mix/_build/dev/lib/vigil" mix
    [ -e "$scratch/mix/_build/dev/lib/vigil/ebin/Elixir.Vigil.beam" ] || fail "mix: Vigil was not built"
    echo "== package: mix compile ok"
    build rebar3 rebar3 compile
    check_app "$scratch/rebar3/_build/default/lib/vigil" rebar3
    echo "== package: rebar3 compile ok"
else
    build make make -s all
    check_priv "$scratch/make/priv" make
fi

# ---- the proof that a file missing from the list is seen ----

if [ -z "${VIGIL_PACKAGE_DROP:-}" ]; then
    probe=c_src/gen/buf.h
    if VIGIL_PACKAGE_DROP=$probe VIGIL_PACKAGE_WORK="$work/drop" "$0" >"$work/drop.log" 2>&1; then
        fail "a package without $probe built: this test would not see a missing file"
    fi
    grep -q "the build needs .*buf\.h" "$work/drop.log" ||
        fail "without $probe the failure does not name it: $(tail -n 1 "$work/drop.log")"
    echo "== package: without $probe the build fails and names it"
fi
echo "package_test: ok"
