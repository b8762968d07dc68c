# shellcheck shell=bash
# test/e2e/harness.sh: a real systemd, booted as PID 1 of a systemd-nspawn container, for the
# end-to-end tests. Source it from a bash test script (set -euo pipefail is fine), then:
#
#   e2e_require            exit 77 (skipped) with a loud banner where nspawn cannot run at all
#   e2e_skip_reason        print why this machine cannot run nspawn at all (nothing if it can)
#   e2e_use_suite SUITE    bookworm (default: Debian 12, systemd 252, OTP 25) or trixie (Debian 13,
#                          systemd 257, OTP 27, Elixir 1.18, with what a build needs); call it first
#   e2e_tree               print the path of the cached Debian tree, building it on first use
#   e2e_boot NAME [ARG...] boot the tree (one container per script); ARGs go to systemd-nspawn
#   e2e_exec CMD...        run CMD inside as root; stdin, stdout, stderr and exit status pass through
#   e2e_copy_in SRC DST    copy a host file or directory to the path DST inside
#   e2e_prop UNIT PROP     print one property of a unit as systemd reports it
#   e2e_stop               power off, wait, and fail loudly if a process, mount or cgroup is left
#   e2e_scratch            print a directory for the script's builds, removed when the script exits
#   e2e_pristine_tree DIR  vigil as a new user gets it: see the function
#
# The repository is bind-mounted read-only at /vigil inside. Every function returns 0 on success
# and non-zero on failure (e2e_exec: the command's own status). The harness stops what it booted
# when the script exits, whatever the reason; a script that needs its own EXIT trap calls
# e2e_stop from it. Settings (environment): VIGIL_E2E_CACHE (default /var/cache/vigil-e2e),
# VIGIL_E2E_MIRROR (default: the Debian mirror apt uses here), VIGIL_E2E_BOOT_TIMEOUT (seconds).

# Part of the cache key: change it whenever the tree is built or configured differently.
E2E_HARNESS_VERSION=1
E2E_SUITE=bookworm
E2E_PACKAGES=systemd,systemd-sysv,dbus,erlang-nox
# Debian 13's tree builds vigil itself (OTP 27, Elixir 1.18, rebar3 3.24, gcc 14) as well as
# running it under systemd 257.
E2E_TRIXIE_PACKAGES=systemd,systemd-sysv,dbus,erlang-nox,erlang-dev,erlang-dialyzer,erlang-eunit,erlang-proper,elixir,gcc,make,libc6-dev,libcmocka-dev,pkg-config,git,iproute2,procps,python3
# Installed with apt-get after debootstrap (see e2e__apt_install); empty for bookworm.
E2E_APT_PACKAGES=
E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
E2E_CACHE=${VIGIL_E2E_CACHE:-/var/cache/vigil-e2e}
E2E_BOOT_TIMEOUT=${VIGIL_E2E_BOOT_TIMEOUT:-60}
E2E_CGROUP_PREFIX=vigil-e2e
E2E_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# State of the one container this script runs.
E2E_NAME=
E2E_NSPAWN_PID=
E2E_LEADER=
E2E_PIDNS=
E2E_WORK=
E2E_CGROUPS=()
E2E_MOUNTS_BEFORE=
E2E_SCRATCH=

e2e_log() {
    printf 'e2e: %s\n' "$*" >&2
}

e2e_die() {
    e2e_log "ERROR: $*"
    return 1
}

# The only two reasons to skip: nspawn cannot run at all without root or without its binary.
# Anything else that goes wrong on the way to a booted container is a failure.
e2e_skip_reason() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "not root: systemd-nspawn needs root"
    elif ! command -v systemd-nspawn >/dev/null 2>&1; then
        echo "systemd-nspawn not installed (Debian package systemd-container)"
    fi
}

e2e_require() {
    local reason
    reason=$(e2e_skip_reason)
    [ -n "$reason" ] || return 0
    echo "************************************************************************"
    echo "SKIPPED: the end-to-end tests cannot run here: $reason"
    echo "************************************************************************"
    echo "0 passed, 0 failed, 1 skipped"
    exit 77
}

# Prints the Debian mirror that apt is configured with: the first source, not a security one,
# that serves the suite we install or the host's own suite. Debian's own name when apt has none.
e2e_mirror() {
    if [ -n "${VIGIL_E2E_MIRROR:-}" ]; then
        echo "$VIGIL_E2E_MIRROR"
        return 0
    fi
    local host_suite uri
    host_suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
    uri=$(
        {
            cat /etc/apt/sources.list.d/*.sources 2>/dev/null
            echo
        } | awk -v a="$E2E_SUITE" -v b="${host_suite:-$E2E_SUITE}" '
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { if (deb && suite && uri != "") { print uri; exit } deb = suite = 0; uri = ""; next }
            tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == a || $i == b) suite = 1 }
            tolower($1) == "uris:" && $2 !~ /security/ { uri = $2 }
        '
    )
    if [ -z "$uri" ]; then
        uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            awk -v a="$E2E_SUITE" -v b="${host_suite:-$E2E_SUITE}" '
                $1 != "deb" { next }
                { i = 2; if ($i ~ /^\[/) while (i < NF && $i !~ /\]$/) i++; if ($i ~ /\]$/) i++ }
                $i !~ /security/ && ($(i + 1) == a || $(i + 1) == b) { print $i; exit }
            ')
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

# Chooses the Debian release the next e2e_tree / e2e_boot use.
e2e_use_suite() {
    case "${1:?usage: e2e_use_suite bookworm|trixie}" in
    bookworm) E2E_SUITE=bookworm E2E_PACKAGES=systemd,systemd-sysv,dbus,erlang-nox E2E_APT_PACKAGES= ;;
    trixie) E2E_SUITE=trixie E2E_PACKAGES=$E2E_TRIXIE_PACKAGES E2E_APT_PACKAGES=rebar3 ;;
    *)
        e2e_die "unknown suite $1 (bookworm or trixie)"
        return 1
        ;;
    esac
}

e2e_tree_key() {
    printf '%s\n' "$E2E_HARNESS_VERSION" "$E2E_SUITE" minbase "$E2E_PACKAGES" "$(dpkg --print-architecture)" \
        ${E2E_APT_PACKAGES:+"apt: $E2E_APT_PACKAGES"} |
        sha256sum | cut -c1-16
}

# Prints the tree's path; builds it first when the cache has none. The build goes to a temporary
# directory renamed into place at the end, under a lock, so an interrupted build leaves no cache
# entry (its leftovers are removed by the next build).
e2e_tree() {
    local dir
    dir=$E2E_CACHE/$E2E_SUITE-$(e2e_tree_key)
    if [ ! -d "$dir" ]; then
        e2e__build_tree "$dir" || return 1
    fi
    echo "$dir"
}

e2e__build_tree() (
    set -uo pipefail
    # No set -e: it is off anyway in a function called from `||`; every step checks itself.
    local dir=$1 tmp mirror start
    mkdir -p "$E2E_CACHE" || exit 1
    exec 9>"$E2E_CACHE/.lock"
    flock 9 || exit 1
    [ ! -d "$dir" ] || exit 0
    rm -rf "$E2E_CACHE"/.build.*
    tmp=$(mktemp -d "$E2E_CACHE/.build.XXXXXX") || exit 1
    mirror=$(e2e_mirror)
    start=$SECONDS
    e2e_log "building the $E2E_SUITE tree in $dir from $mirror (40 to 180 s, once)"
    # Its own mount namespace: the /proc and /sys that debootstrap mounts in the tree go away with it.
    if ! unshare --mount --propagation private -- debootstrap --variant=minbase \
        --include="$E2E_PACKAGES" "$E2E_SUITE" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
        tail -n 30 "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        e2e_die "debootstrap failed"
        exit 1
    fi
    if [ -n "$E2E_APT_PACKAGES" ] && ! e2e__apt_install "$tmp" >"$tmp.log" 2>&1; then
        tail -n 30 "$tmp.log" >&2
        rm -rf "$tmp" "$tmp.log"
        e2e_die "apt-get install $E2E_APT_PACKAGES failed in the $E2E_SUITE tree"
        exit 1
    fi
    rm -f "$tmp.log"
    e2e__configure_tree "$tmp" && mv -T "$tmp" "$dir" || exit 1
    e2e_log "tree built in $((SECONDS - start)) s"
)

# The packages debootstrap cannot configure itself (Debian 13's rebar3 pulls in erlang-wx and with
# it dconf, whose scripts want a configured system): apt-get inside the debootstrapped tree, with
# its own /proc and no service started.
e2e__apt_install() {
    local root=$1
    # shellcheck disable=SC2016 # the inner shell expands them; $2 is split into package names
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d" && chmod 0755 "$root/usr/sbin/policy-rc.d" &&
        unshare --mount --propagation private -- sh -c '
            mount -t proc proc "$1/proc" && mount --rbind /dev "$1/dev" && mount --rbind /sys "$1/sys" &&
            chroot "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
                apt-get install -y -q --no-install-recommends $2' sh "$root" "$E2E_APT_PACKAGES" &&
        chroot "$root" apt-get clean && rm -f "$root/usr/sbin/policy-rc.d"
}

e2e__configure_tree() {
    local root=$1
    rm -f "$root"/var/cache/apt/archives/*.deb
    # Units that only make sense on a real machine and fail or wait in a container.
    local unit
    for unit in systemd-networkd-wait-online.service getty@.service console-getty.service \
        apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
        ln -sf /dev/null "$root/etc/systemd/system/$unit"
    done
}

# Boots the tree with systemd as PID 1 and returns once it is up (running or degraded).
# Call it from the script's own shell, not from $(...) or a pipeline: it records what it started.
e2e_boot() {
    local name=${1:?usage: e2e_boot NAME [NSPAWN-ARG...]} tree
    shift
    [ -z "$E2E_NSPAWN_PID" ] || { e2e_die "a container is already booted ($E2E_NAME)"; return 1; }
    local reason
    reason=$(e2e_skip_reason)
    [ -z "$reason" ] || { e2e_die "cannot boot: $reason"; return 1; }
    tree=$(e2e_tree) || return 1

    E2E_NAME=$name
    e2e__reap_work_dirs
    E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/vigil-e2e.$$.XXXXXX")
    E2E_MOUNTS_BEFORE=$(e2e__mounts)
    e2e__trap_exit
    trap 'exit 130' INT
    trap 'exit 143' TERM
    e2e__cgroups_create || return 1

    local start=${EPOCHREALTIME/./}
    (
        for cg in "${E2E_CGROUPS[@]}"; do echo "$BASHPID" >"$cg/cgroup.procs"; done
        # A mount namespace of its own, with /run on tmpfs as nspawn requires; it dies with nspawn.
        exec unshare --mount --propagation private -- sh -c \
            'mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run && exec "$@"' sh \
            systemd-nspawn --boot --register=no --keep-unit --private-network \
            --console=passive --link-journal=no --machine="$name" --directory="$tree" \
            --volatile=overlay --bind-ro="$E2E_TOP:/vigil" "$@"
    ) </dev/null >"$E2E_WORK/console.log" 2>&1 &
    E2E_NSPAWN_PID=$!

    e2e__find_leader || { e2e__boot_failed; return 1; }
    e2e__wait_running || { e2e__boot_failed; return 1; }
    # The host's /dev/null may be 0620; copied as is, it makes a non-root BEAM spin opening it.
    e2e_exec chmod 0666 /dev/null
    e2e_log "booted $name in $(((${EPOCHREALTIME/./} - start) / 1000)) ms (its PID 1 is $E2E_LEADER here)"
}

e2e_exec() {
    [ -n "$E2E_LEADER" ] || { e2e_die "no container booted"; return 1; }
    nsenter --target "$E2E_LEADER" --mount --uts --ipc --net --pid --cgroup -- \
        env -i PATH="$E2E_PATH" LANG=C.UTF-8 TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 "$@"
}

# Copies a file (keeping its mode) or a directory's content to DST inside, owned by root.
e2e_copy_in() {
    local src=${1:?usage: e2e_copy_in SRC DST} dst=${2:?usage: e2e_copy_in SRC DST} mode
    # shellcheck disable=SC2016 # the inner shell expands them
    if [ -d "$src" ]; then
        tar -C "$src" --owner=0 --group=0 -cf - . |
            e2e_exec sh -c 'mkdir -p "$1" && tar -C "$1" -xf -' sh "$dst"
    else
        mode=$(stat -c %a "$src")
        e2e_exec sh -c 'mkdir -p "$(dirname "$1")" && cat >"$1" && chmod "$2" "$1"' \
            sh "$dst" "$mode" <"$src"
    fi
}

# NRestarts and the like count only while the unit stays loaded: read them before it is
# garbage-collected (stopped, or failed and reset).
e2e_prop() {
    e2e_exec systemctl show --property="${2:?usage: e2e_prop UNIT PROPERTY}" --value -- "$1"
}

# e2e_wait_prop UNIT PROPERTY VALUE SECONDS: polls until the property has that value; returns 1
# when it still has not after SECONDS.
e2e_wait_prop() {
    local deadline=$((SECONDS + $4))
    while [ "$SECONDS" -le "$deadline" ]; do
        [ "$(e2e_prop "$1" "$2")" != "$3" ] || return 0
        sleep 0.1
    done
    return 1
}

# Powers the container off (SIGTERM makes nspawn ask PID 1 for an orderly shutdown), kills it if
# that takes too long, then checks that none of its processes, mounts or cgroups is left.
e2e_stop() {
    [ -n "$E2E_NSPAWN_PID" ] || return 0
    local ok=0 i
    kill -TERM "$E2E_NSPAWN_PID" 2>/dev/null || true
    for ((i = 0; i < 300; i++)); do
        e2e__alive "$E2E_NSPAWN_PID" || break
        sleep 0.1
    done
    if e2e__alive "$E2E_NSPAWN_PID"; then
        e2e_log "ERROR: $E2E_NAME did not power off within 30 s; killing it"
        ok=1
        [ -z "$E2E_LEADER" ] || kill -KILL "$E2E_LEADER" 2>/dev/null || true
        sleep 1
        kill -KILL "$E2E_NSPAWN_PID" 2>/dev/null || true
    fi
    wait "$E2E_NSPAWN_PID" 2>/dev/null || true
    e2e__check_processes || ok=1
    e2e__cgroups_remove || ok=1
    e2e__check_mounts || ok=1
    if [ "$ok" -ne 0 ]; then
        e2e_log "console of $E2E_NAME (last lines):"
        tail -n 40 "$E2E_WORK/console.log" >&2 || true
    fi
    rm -rf "$E2E_WORK"
    E2E_NAME='' E2E_NSPAWN_PID='' E2E_LEADER='' E2E_PIDNS='' E2E_WORK='' E2E_MOUNTS_BEFORE=''
    E2E_CGROUPS=()
    return "$ok"
}

e2e__on_exit() {
    local status=$?
    trap - EXIT
    e2e_stop || status=1
    [ -z "$E2E_SCRATCH" ] || rm -rf "$E2E_SCRATCH"
    exit "$status"
}

e2e__trap_exit() {
    trap e2e__on_exit EXIT
}

# A directory for what the script builds on the host (releases, pristine trees). Call it once from
# the script's own shell (not from $(...)), then use $E2E_SCRATCH.
e2e_scratch() {
    [ -z "$E2E_SCRATCH" ] || return 0
    e2e__reap_work_dirs
    E2E_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/vigil-e2e-build.$$.XXXXXX")
    e2e__trap_exit
}

# Writes to DIR what a fresh clone of this work tree holds: its tracked and new files as they are
# now, without anything ignored (no priv/, no _build/), committed in a git repository of its own.
# DIR then serves as a path dependency, as a git dependency (file://DIR) or in _checkouts, and a
# build there starts from nothing, as a new user's does. Uncommitted changes are included, so a
# run tests the tree it is given.
e2e_pristine_tree() {
    local dir=${1:?usage: e2e_pristine_tree DIR}
    mkdir -p "$dir" || return 1
    (cd "$E2E_TOP" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$E2E_TOP" && while IFS= read -r -d '' f; do
            [ ! -e "$f" ] && [ ! -L "$f" ] || printf '%s\0' "$f"
        done) |
        tar -C "$E2E_TOP" --null --no-recursion -T - -cf - | tar -C "$dir" -xf - || return 1
    git -C "$dir" init -q -b main &&
        git -C "$dir" add -A &&
        git -C "$dir" -c user.name=vigil-e2e -c user.email=e2e@localhost commit -q -m pristine
}

e2e__boot_failed() {
    e2e_log "ERROR: $E2E_NAME did not boot; console (last lines):"
    tail -n 40 "$E2E_WORK/console.log" >&2 || true
    e2e_stop || true
}

e2e__alive() {
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

e2e__mounts() {
    awk '{ print $5 }' /proc/self/mountinfo | sort
}

# The container's PID 1: the descendant of nspawn whose PID in its own namespace is 1, once it
# runs systemd.
e2e__find_leader() {
    local i pid
    for ((i = 0; i < E2E_BOOT_TIMEOUT * 10; i++)); do
        e2e__alive "$E2E_NSPAWN_PID" || { e2e_die "systemd-nspawn exited"; return 1; }
        for pid in $(e2e__descendants "$E2E_NSPAWN_PID"); do
            if awk '$1 == "NSpid:" && NF > 2 && $NF == 1 { found = 1 } END { exit !found }' \
                "/proc/$pid/status" 2>/dev/null &&
                [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]; then
                E2E_LEADER=$pid
                E2E_PIDNS=$(readlink "/proc/$pid/ns/pid")
                return 0
            fi
        done
        sleep 0.1
    done
    e2e_die "no PID 1 of $E2E_NAME found within $E2E_BOOT_TIMEOUT s"
}

e2e__descendants() {
    local pid child
    # shellcheck disable=SC2013 # the file is a list of pids separated by spaces
    for child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        echo "$child"
        e2e__descendants "$child"
    done
}

# Waits until the system has finished booting; accepts running and degraded (naming the failed
# units, so that the cause is visible) and nothing else.
e2e__wait_running() {
    local state deadline=$((SECONDS + E2E_BOOT_TIMEOUT))
    while [ "$SECONDS" -lt "$deadline" ]; do
        state=$(e2e_exec timeout "$((deadline - SECONDS + 1))" \
            systemctl is-system-running --wait 2>/dev/null) || true
        case "$state" in
        running) return 0 ;;
        degraded)
            local failed
            failed=$(e2e_exec systemctl list-units --failed --no-legend --plain | awk '{ print $1 }')
            e2e_log "$E2E_NAME is degraded; failed units: $(echo "$failed" | xargs)"
            # shellcheck disable=SC2086 # one unit per word
            e2e_exec systemctl status --no-pager --lines=5 $failed >&2 || true
            return 0
            ;;
        initializing | starting | offline | unknown | "") sleep 0.1 ;;
        *)
            e2e_die "$E2E_NAME is $state after boot"
            return 1
            ;;
        esac
    done
    e2e_die "$E2E_NAME did not finish booting within $E2E_BOOT_TIMEOUT s"
}

# The hierarchies that nspawn uses: cgroup2 and the v1 name=systemd one (hybrid or legacy hosts).
# Prints "MOUNTPOINT CURRENT-PATH" for each.
e2e__hierarchies() {
    local mnt opts fstype path
    while read -r mnt fstype opts; do
        case "$fstype:$opts" in
        cgroup2:*) path=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup) ;;
        cgroup:*name=systemd*) path=$(awk -F: '$2 == "name=systemd" { print $3 }' /proc/self/cgroup) ;;
        *) continue ;;
        esac
        echo "$mnt ${path%/}"
    done < <(awk '{ for (i = 7; $i != "-"; i++); print $5, $(i + 1), $(i + 3) }' /proc/self/mountinfo)
}

# Work directories whose owner is gone: a run killed outright (SIGKILL) could not remove its own.
e2e__reap_work_dirs() {
    local dir owner
    for dir in "${TMPDIR:-/tmp}"/vigil-e2e.*.* "${TMPDIR:-/tmp}"/vigil-e2e-build.*.*; do
        [ -d "$dir" ] || continue
        owner=${dir##*/vigil-e2e}
        owner=${owner#-build}
        owner=${owner#.}
        owner=${owner%%.*}
        [ ! -e "/proc/$owner" ] || continue
        rm -rf "$dir"
    done
}

# The pids in a cgroup and all its children.
e2e__cgroup_pids() {
    [ -d "$1" ] || return 0
    find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null
}

# Kills what is left in a cgroup tree and removes it, deepest first. Fails if it cannot.
e2e__cgroup_reap() {
    local cg=$1 i pids
    for ((i = 0; i < 50; i++)); do
        pids=$(e2e__cgroup_pids "$cg")
        [ -n "$pids" ] || break
        # shellcheck disable=SC2086 # one pid per word
        kill -KILL $pids 2>/dev/null || true
        sleep 0.1
    done
    for ((i = 0; i < 50; i++)); do
        [ -d "$cg" ] || return 0
        find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [ -d "$cg" ] || return 0
        sleep 0.1
    done
    e2e_die "cannot remove cgroup $cg"
}

e2e__cgroups_create() {
    local mnt path cg stale owner
    E2E_CGROUPS=()
    while read -r mnt path; do
        # A run killed outright (SIGKILL) could not clean up; its owner's pid names its cgroup.
        for stale in "$mnt$path/$E2E_CGROUP_PREFIX".*; do
            [ -d "$stale" ] || continue
            owner=${stale##*.}
            [ ! -e "/proc/$owner" ] || continue
            e2e_log "removing $stale, left by a run that was killed"
            e2e__cgroup_reap "$stale" || return 1
        done
        cg=$mnt$path/$E2E_CGROUP_PREFIX.$E2E_NAME.$$
        mkdir "$cg" || { e2e_die "cannot create cgroup $cg"; return 1; }
        E2E_CGROUPS+=("$cg")
        e2e__cgroup_children "$mnt$path" >"$E2E_WORK/cgroups.${#E2E_CGROUPS[@]}"
    done < <(e2e__hierarchies)
    [ "${#E2E_CGROUPS[@]}" -gt 0 ] || { e2e_die "no cgroup hierarchy found"; return 1; }
}

e2e__cgroup_children() {
    find "$1" -mindepth 1 -maxdepth 1 -type d ! -name "$E2E_CGROUP_PREFIX.*" -printf '%f\n' | sort
}

# Removes this run's cgroups, and fails if nspawn left any other cgroup next to them.
e2e__cgroups_remove() {
    local ok=0 cg n=0 new
    for cg in "${E2E_CGROUPS[@]}"; do
        n=$((n + 1))
        e2e__cgroup_reap "$cg" || ok=1
        new=$(comm -13 "$E2E_WORK/cgroups.$n" <(e2e__cgroup_children "${cg%/*}"))
        if [ -n "$new" ]; then
            e2e_log "ERROR: cgroups left in ${cg%/*}: $(echo "$new" | tr '\n' ' ')"
            ok=1
        fi
    done
    return "$ok"
}

# Fails if a process of the container is still there (and kills it).
e2e__check_processes() {
    local ok=0 pid left=() cg
    if [ -n "$E2E_PIDNS" ]; then
        for pid in /proc/[0-9]*; do
            [ "$(readlink "$pid/ns/pid" 2>/dev/null)" != "$E2E_PIDNS" ] || left+=("${pid#/proc/}")
        done
    fi
    for cg in "${E2E_CGROUPS[@]}"; do
        # shellcheck disable=SC2207 # one pid per word
        left+=($(e2e__cgroup_pids "$cg"))
    done
    if [ "${#left[@]}" -gt 0 ]; then
        e2e_log "ERROR: processes left by $E2E_NAME, killed now:"
        ps -o pid=,args= -p "$(
            IFS=,
            echo "${left[*]}"
        )" >&2 || true
        kill -KILL "${left[@]}" 2>/dev/null || true
        ok=1
    fi
    return "$ok"
}

e2e__check_mounts() {
    local new
    new=$(comm -13 <(echo "$E2E_MOUNTS_BEFORE") <(e2e__mounts))
    [ -z "$new" ] || {
        e2e_die "mounts left on the host: $(echo "$new" | tr '\n' ' ')"
        return 1
    }
}
