#!/bin/sh
# Command-line behaviour of vigil-unit (built with ASan/UBSan): help, errors before any
# write, --print, --config with the command line winning, --init-templates, --templates.
set -eu
BIN=${VIGIL_UNIT:?}
T=${TEMPLATES:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "cli_test: $*" >&2; exit 1; }

"$BIN" --help >"$tmp/help"
for key in app-name env-vars hardening watchdog-sec systemd-version dirs sockets socket-backlog \
    fd-store-max log-rate-limit-interval-sec log-rate-limit-burst; do
    grep -q -- "--$key" "$tmp/help" || fail "--help lacks --$key"
done
grep -q 'default: strict' "$tmp/help" || fail "--help lacks the hardening default"
grep -q 'one of strict, standard, off' "$tmp/help" || fail "--help lacks the hardening choices"
# Required keys say so, derived defaults say what they come from, once.
grep -A1 -- '^  --app-name' "$tmp/help" | grep -q '(required)$' || fail "--help: app-name not required"
! grep -q 'default: (derived)\|default: \]' "$tmp/help" || fail "--help shows empty or placeholder defaults"
! grep -q 'daemon forks' "$tmp/help" || fail "--help start command text"
grep -A1 -- '^  --start-command' "$tmp/help" | grep -q 'foreground for relx' || fail "--help start command"

# Option names are exact: every proper prefix of every name --help lists is refused (unless
# it is itself a name), before anything is written, and names what it may have meant.
sed -n 's/^  --\([a-z][a-z-]*\).*/\1/p' "$tmp/help" | sort -u >"$tmp/names"
[ "$(wc -l <"$tmp/names")" -gt 60 ] || fail "--help lists too few names"
# shellcheck disable=SC2094 # names is only read, by the loop and by grep; prefixes is written
while read -r name; do
    i=1
    while [ "$i" -lt "${#name}" ]; do
        printf '%s\n' "$name" | cut -c1-"$i"
        i=$((i + 1))
    done
done <"$tmp/names" | sort -u | grep -vxF -f "$tmp/names" >"$tmp/prefixes"
checked=$(wc -l <"$tmp/prefixes")
# shellcheck disable=SC2016
xargs -P 8 -n 1 sh -c '
    if "$0" --templates "$1" --output "$2/abbr" --app-name foo "--$3" x 2>"$2/err.$3"; then
        echo "abbreviation --$3 accepted"; exit 255
    fi
    grep -q "^vigil-unit: unknown option \"--$3\"" "$2/err.$3" || { cat "$2/err.$3"; exit 255; }
' "$BIN" "$T" "$tmp" <"$tmp/prefixes" || fail "an abbreviation was not refused"
[ ! -e "$tmp/abbr" ] || fail "files written for an abbreviated option"
[ "$checked" -gt 500 ] || fail "only $checked abbreviations checked"
if "$BIN" --templates "$T" --print --app-name foo --limit 10 2>"$tmp/err"; then
    fail "--limit accepted"
fi
grep -qx 'vigil-unit: unknown option "--limit", did you mean --limit-nofile?' "$tmp/err" ||
    fail "no suggestion for --limit: $(cat "$tmp/err")"
if "$BIN" --templates "$T" --print --app-name foo --hardenin=off 2>"$tmp/err"; then
    fail "--hardenin accepted"
fi
grep -qx 'vigil-unit: unknown option "--hardenin", did you mean --hardening?' "$tmp/err" ||
    fail "no suggestion for a misspelt key: $(cat "$tmp/err")"
if "$BIN" --templates "$T" --print --app-name foo --evn-vars A=1 2>"$tmp/err"; then
    fail "--evn-vars accepted"
fi
grep -q 'did you mean --env-vars?' "$tmp/err" || fail "no suggestion for --evn-vars: $(cat "$tmp/err")"
printf 'app_name = foo\ncache_dir = 0700\n' >"$tmp/near"
if "$BIN" --templates "$T" --print --config "$tmp/near" 2>"$tmp/err"; then
    fail "config key cache_dir accepted"
fi
grep -qxF "vigil-unit: $tmp/near:2: unknown key \"cache_dir\", did you mean cache_directory_mode?" "$tmp/err" ||
    fail "config suggestion: $(cat "$tmp/err")"
# A list key given on the command line replaces the config file's list.
printf 'app_name = foo\nenv_vars = FROM_FILE=1\nenv_vars = ALSO_FILE=2\n' >"$tmp/lists"
"$BIN" --templates "$T" --print --config "$tmp/lists" --env-vars CLI=3 >"$tmp/print"
grep -qx 'Environment="CLI=3"' "$tmp/print" || fail "command line list missing"
! grep -q '_FILE=' "$tmp/print" || fail "config file list kept next to the command line's"

# Typed keys are refused where they are read, naming the key and listing the choices.
if "$BIN" --templates "$T" --print --app-name foo --hardening paranoid 2>"$tmp/err"; then
    fail "unknown hardening profile accepted"
fi
grep -qx 'vigil-unit: hardening: value "paranoid" is not one of strict, standard, off' "$tmp/err" ||
    fail "choice error: $(cat "$tmp/err")"
printf 'app_name = foo\nlisten_ports = 80\nlisten_ports = 70000\n' >"$tmp/ports"
if "$BIN" --templates "$T" --print --config "$tmp/ports" 2>"$tmp/err"; then
    fail "port 70000 accepted"
fi
grep -qxF "vigil-unit: listen_ports: value \"70000\" is not a TCP port 1..65535 ($tmp/ports:3)" "$tmp/err" ||
    fail "port error: $(cat "$tmp/err")"

if "$BIN" --templates "$T" --output "$tmp/out" --app-name foo --env-vars 'BAD NAME=1' 2>"$tmp/err"; then
    fail "bad env name accepted"
fi
grep -q 'env_vars: value "BAD NAME=1"' "$tmp/err" || fail "error does not name key and value: $(cat "$tmp/err")"
[ ! -e "$tmp/out" ] || fail "files written despite an error"

if "$BIN" --templates "$T" --print --app-name foo --watchdog-sec ten 2>"$tmp/err"; then
    fail "non-numeric watchdog accepted"
fi
grep -q 'watchdog_sec' "$tmp/err" || fail "error does not name watchdog_sec"
# Every refusal has one format, with control bytes shown escaped, whatever stage refuses.
if "$BIN" --templates "$T" --print --app-name foo --watchdog-sec "$(printf '1\033[2J')" 2>"$tmp/err"; then
    fail "control bytes in a number accepted"
fi
grep -qx 'vigil-unit: watchdog_sec: value "1\\x1b\[2J" is not a whole number up to 1000000000' "$tmp/err" ||
    fail "number error not escaped: $(cat "$tmp/err")"
printf 'app_name = foo\ndescription = "a"b"\n' >"$tmp/badq"
if "$BIN" --templates "$T" --print --config "$tmp/badq" 2>"$tmp/err"; then
    fail "bad quoting accepted"
fi
grep -qxF "vigil-unit: description: value \"\"a\"b\"\" has bad quoting ($tmp/badq:2)" "$tmp/err" ||
    fail "quoting error: $(cat "$tmp/err")"

# sockets: NAME=LISTEN, refused where read with the key, the value and the problem; nothing
# written. Each refusal below is one rule: the port, the address, the path, the name, a
# second socket on the same name or address.
refuse_socket() {
    want=$1
    shift
    if "$BIN" --templates "$T" --output "$tmp/sock" --app-name foo "$@" 2>"$tmp/err"; then
        fail "socket accepted: $*"
    fi
    grep -qxF "vigil-unit: sockets: $want" "$tmp/err" || fail "socket refusal: $(cat "$tmp/err")"
    [ ! -e "$tmp/sock" ] || fail "files written for a refused socket"
}
refuse_socket 'value "http=70000" has a port that is not 1..65535' --sockets http=70000
refuse_socket 'value "http=0" has a port that is not 1..65535' --sockets http=0
refuse_socket 'value "http=127.0.0.1:0" has a port that is not 1..65535' --sockets http=127.0.0.1:0
refuse_socket 'value "http=localhost:80" has an address that is not IPv4 dotted (127.0.0.1:PORT; host names are not resolved) or IPv6 in brackets' \
    --sockets http=localhost:80
refuse_socket 'value "http=::1:80" has an address that is not IPv4 dotted (127.0.0.1:PORT; host names are not resolved) or IPv6 in brackets' \
    --sockets http=::1:80
refuse_socket 'value "http=[::1]" has an IPv6 address without a port ([ADDRESS6]:PORT)' --sockets 'http=[::1]'
refuse_socket 'value "http=[::g]:80" has an address that is not IPv6 (in brackets: [::1]:PORT)' \
    --sockets 'http=[::g]:80'
refuse_socket 'value "api=run/api.sock" has a relative path: an AF_UNIX socket needs an absolute path (or LISTEN is a port, ADDRESS:PORT or [ADDRESS6]:PORT)' \
    --sockets api=run/api.sock
long=/run/$(printf 'x%.0s' $(seq 1 103))
refuse_socket "value \"api=$long\" has a path longer than an AF_UNIX socket address holds (107 bytes)" \
    --sockets "api=$long"
"$BIN" --templates "$T" --print --app-name foo --sockets "api=${long%x}" >/dev/null ||
    fail "a 107-byte socket path refused"
refuse_socket 'value "a:b=80" has a name that is not printable ASCII without a colon (a file descriptor name, as LISTEN_FDNAMES carries it)' \
    --sockets a:b=80
refuse_socket 'value "=80" is not NAME=LISTEN (LISTEN: a port, ADDRESS:PORT, [ADDRESS6]:PORT or an absolute path)' \
    --sockets =80
refuse_socket 'value "http" is not NAME=LISTEN (LISTEN: a port, ADDRESS:PORT, [ADDRESS6]:PORT or an absolute path)' \
    --sockets http
refuse_socket "value \"$(printf 'n%.0s' $(seq 1 256))=80\" has a name longer than 255 characters" \
    --sockets "$(printf 'n%.0s' $(seq 1 256))=80"
refuse_socket 'value "http=8080" repeats the name of another socket ("http=80")' \
    --sockets http=80 --sockets http=8080
refuse_socket 'value "admin=127.0.0.1:80" binds a port another socket binds on the same or any address ("http=80")' \
    --sockets http=80 --sockets admin=127.0.0.1:80
refuse_socket 'value "b=/run/a.sock" repeats the path of another socket ("a=/run/a.sock")' \
    --sockets a=/run/a.sock --sockets b=/run/a.sock
refuse_socket 'value "api=/run/foo/api.sock" is in the service'"'"'s runtime dir, which systemd removes when the service stops (runtime_directory_preserve is not yes) while the socket unit listens on: put it beside, e.g. /run/NAME.sock' \
    --sockets api=/run/foo/api.sock
refuse_socket 'value "a b=81" makes the socket unit name of another socket (characters a unit name cannot hold become _)' \
    --sockets http=80 --sockets a_b=82 --sockets 'a b=81'
# Different addresses on one port are fine; a config file's list is checked the same way.
"$BIN" --templates "$T" --print --app-name foo --sockets v4=127.0.0.1:80 --sockets 'v6=[::1]:80' >/dev/null ||
    fail "loopback v4 and v6 on one port refused"
printf 'app_name = foo\nsockets = http=80\nsockets = web=0.0.0.0:80\n' >"$tmp/socks"
if "$BIN" --templates "$T" --print --config "$tmp/socks" 2>"$tmp/err"; then
    fail "config sockets clash accepted"
fi
grep -qxF "vigil-unit: sockets: value \"web=0.0.0.0:80\" binds a port another socket binds on the same or any address (\"http=80\") ($tmp/socks:3)" "$tmp/err" ||
    fail "config socket refusal: $(cat "$tmp/err")"
if "$BIN" --templates "$T" --print --app-name foo --socket-backlog -1 2>"$tmp/err"; then
    fail "negative backlog accepted"
fi
grep -qx 'vigil-unit: socket_backlog: value "-1" is not a whole number up to 1000000000' "$tmp/err" ||
    fail "backlog error: $(cat "$tmp/err")"
# A unit's 0 would leave journald.conf's limit in place: refused, the key named.
for key in log-rate-limit-interval-sec log-rate-limit-burst; do
    if "$BIN" --templates "$T" --print --app-name foo "--$key" 0 2>"$tmp/err"; then
        fail "$key 0 accepted"
    fi
    grep -q "^vigil-unit: $(echo "$key" | tr - _): value \"0\" does not turn journald's rate limit off" "$tmp/err" ||
        fail "$key 0: $(cat "$tmp/err")"
done
for key in fd-store-max log-rate-limit-interval-sec log-rate-limit-burst; do
    if "$BIN" --templates "$T" --print --app-name foo "--$key" 1.5 2>"$tmp/err"; then
        fail "--$key 1.5 accepted"
    fi
    grep -qx "vigil-unit: $(echo "$key" | tr - _): value \"1.5\" is not a whole number up to 1000000000" "$tmp/err" ||
        fail "$key error: $(cat "$tmp/err")"
done
# The fd store outlives a stop from systemd 254 (FileDescriptorStorePreserve=); 252 lacks it,
# quietly: nothing asked for it by name.
"$BIN" --templates "$T" --print --app-name foo --fd-store-max 8 --systemd-version 254 >"$tmp/print"
grep -qx 'FileDescriptorStoreMax=8' "$tmp/print" || fail "fd_store_max on 254"
grep -qx 'FileDescriptorStorePreserve=yes' "$tmp/print" || fail "no FileDescriptorStorePreserve= on 254"
"$BIN" --templates "$T" --print --app-name foo --fd-store-max 8 >"$tmp/print" 2>"$tmp/err"
! grep -q 'FileDescriptorStorePreserve' "$tmp/print" || fail "FileDescriptorStorePreserve= on 252"
[ ! -s "$tmp/err" ] || fail "fd_store_max on 252 warned: $(cat "$tmp/err")"
# journald's rate limit only where given.
"$BIN" --templates "$T" --print --app-name foo >"$tmp/print"
! grep -q '^LogRateLimit' "$tmp/print" || fail "LogRateLimit written without the keys"

"$BIN" --templates "$T" --print --app-name foo_bar >"$tmp/print"
grep -qx 'ExecStart=/srv/foo-bar/current/bin/foo_bar start' "$tmp/print" || fail "--print output"

printf 'app_name = foo\nhardening = off\n' >"$tmp/cfg"
"$BIN" --templates "$T" --print --config "$tmp/cfg" --hardening strict >"$tmp/print"
grep -qx 'ProtectSystem=strict' "$tmp/print" || fail "command line did not win over config"

"$BIN" --templates "$T" --init-templates "$tmp/tpl"
[ -f "$tmp/tpl/service.unit" ] || fail "--init-templates copied nothing"
if "$BIN" --templates "$T" --init-templates "$tmp/tpl" 2>/dev/null; then
    fail "--init-templates overwrote existing templates"
fi
printf '# custom\n[Service]\n{{service}}\n' >"$tmp/tpl/service.unit"
"$BIN" --templates "$tmp/tpl" --print --app-name foo | head -1 | grep -qx '# custom' ||
    fail "--templates not used"
printf '{{nope}}\n' >"$tmp/tpl/service.unit"
if "$BIN" --templates "$tmp/tpl" --print --app-name foo 2>"$tmp/err"; then
    fail "unknown placeholder accepted"
fi
grep -q 'unknown placeholder {{nope}}' "$tmp/err" || fail "placeholder error"
# systemctl reload as SIGHUP: the manager sends it itself from 253, ExecReload= before.
"$BIN" --templates "$T" --print --app-name foo --reload sighup --systemd-version 254 >"$tmp/print"
grep -qx 'Type=notify-reload' "$tmp/print" || fail "reload = sighup on 254 is not notify-reload"
! grep -q '^ExecReload=' "$tmp/print" || fail "ExecReload= next to notify-reload"
"$BIN" --templates "$T" --print --app-name foo --reload sighup >"$tmp/print"
grep -qx 'Type=notify' "$tmp/print" || fail "reload = sighup on 252 changed Type="
# shellcheck disable=SC2016 # the unit's own $MAINPID, as written in the file
grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$tmp/print" || fail "reload = sighup on 252"
if "$BIN" --templates "$T" --print --app-name foo --reload sighup --service-type exec 2>"$tmp/err"; then
    fail "reload = sighup accepted without notify"
fi
grep -q 'reload: value "sighup" needs service_type = notify' "$tmp/err" || fail "reload error"
# restart_method = touch: the service touches a flag in its runtime dir, or is refused.
if "$BIN" --templates "$T" --print --app-name foo --restart-method touch --dirs -runtime 2>"$tmp/err"; then
    fail "touch accepted without a runtime dir"
fi
grep -q 'restart_method: value "touch" needs runtime in dirs' "$tmp/err" || fail "touch error: $(cat "$tmp/err")"
# --keys lists every key with its kind, for the mix task.
"$BIN" --keys >"$tmp/keys"
grep -qx "$(printf 'env_vars\tlist')" "$tmp/keys" || fail "--keys: env_vars"
grep -qx "$(printf 'dynamic_user\tbool')" "$tmp/keys" || fail "--keys: dynamic_user"
grep -qx "$(printf 'sockets\tlist')" "$tmp/keys" || fail "--keys: sockets"
grep -qx "$(printf 'fd_store_max\tnumber')" "$tmp/keys" || fail "--keys: fd_store_max"
[ "$(wc -l <"$tmp/keys")" -eq "$(grep -c '^  --[a-z]' "$tmp/help" | awk '{print $1 - 6}')" ] ||
    fail "--keys and --help list different keys"
# Credentials: a name given twice across both lists, and encrypted ones before systemd 250, are
# refused with the key and the value; nothing written.
refuse_credential() {
    want=$1
    shift
    if "$BIN" --templates "$T" --output "$tmp/cred" --app-name foo "$@" 2>"$tmp/err"; then
        fail "credential accepted: $*"
    fi
    grep -qxF "vigil-unit: $want" "$tmp/err" || fail "credential refusal: $(cat "$tmp/err")"
    [ ! -e "$tmp/cred" ] || fail "files written for a refused credential"
}
refuse_credential 'encrypted_credentials: value "db=/x" repeats a credential name' \
    --credentials db=/y --encrypted-credentials db=/x
refuse_credential 'encrypted_credentials: value ".erlang.cookie=/x" repeats a credential name' \
    --distribution epmdless --cookie-file /c --encrypted-credentials .erlang.cookie=/x
refuse_credential 'encrypted_credentials: value "db=/x" needs LoadCredentialEncrypted=, systemd 250 or later (systemd_version is 249)' \
    --systemd-version 249 --encrypted-credentials db=/x
echo "cli_test: ok"
