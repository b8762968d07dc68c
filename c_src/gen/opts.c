#include "opts.h"

#include "escape.h"
#include "sockspec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define O(field) offsetof(struct gen_opts, field)

/* Defaults; NULL strings are derived in the model (see each key's help). */
static const struct gen_opts DEFAULTS = {
    .version = "",
    .deploy_user = "root",
    .base_dir = "/srv",
    .release_tool = "mix",
    .service_type = "notify",
    .hardening = "strict",
    .restart = "on-failure",
    .restart_method = "systemctl",
    .reload = "none",
    .crash_dump = "off",
    .layout = "flat",
    .distribution = "none",
    .cookie_file = "",
    .dist_address = "127.0.0.1",
    .epmd_path = "/usr/bin/epmd",
    .umask = "0077",
    .runtime_directory_preserve = "no",
    .exec_start_wrap = "",
    .systemd_features = "",
    .systemd_version = 252,
    .watchdog_sec = 30,
    .timeout_start_sec = 60,
    .shutdown_time = 10,
    .restart_sec = 5,
    .start_limit_burst = 5,
    .start_limit_interval_sec = 60,
    .limit_nofile = 65536,
    /* journald.conf's defaults, which apply while these are not given. */
    .log_rate_limit_interval_sec = 30,
    .log_rate_limit_burst = 10000,
    .memory_pressure_watch = "skip",
    /* systemd's own default, which applies while this is not given. */
    .memory_pressure_threshold_ms = 200,
    .dist_port = 9100,
    .runtime_directory_mode = 0750,
    .configuration_directory_mode = 0750,
    .state_directory_mode = 0750,
    .cache_directory_mode = 0750,
    .logs_directory_mode = 0750,
};

const char *const GEN_DEFAULT_DIRS[] = {"runtime", "configuration", NULL};

/* Allowed values of the keys that take one of a set. */
static const char *const LAYOUTS[] = {"flat", "mix_systemd", NULL};
static const char *const TOOLS[] = {"mix", "relx", NULL};
static const char *const TYPES[] = {"notify", "exec", NULL};
static const char *const PROFILES[] = {"strict", "standard", "off", NULL};
static const char *const RESTARTS[] = {"no",          "on-success", "on-failure", "on-abnormal",
                                       "on-watchdog", "on-abort",   "always",     NULL};
static const char *const METHODS[] = {"systemctl", "systemd_flag", "touch", NULL};
static const char *const RELOADS[] = {"none", "sighup", NULL};
static const char *const DUMPS[] = {"off", "state", NULL};
static const char *const DISTS[] = {"none", "local", "epmdless", "epmd_socket", "tls", NULL};
static const char *const PRESERVE[] = {"no", "yes", "restart", NULL};
static const char *const PRESSURE_WATCH[] = {"skip", "auto", "on", "off", NULL};
static const char *const DIR_KINDS[] = {
    "runtime",        "configuration", "state",  "cache", "logs", "tmp", "-runtime",
    "-configuration", "-state",        "-cache", "-logs", "-tmp", NULL};

const struct opt_def GEN_OPT_DEFS[] = {
    {"app_name", OPT_STR, O(app_name), "OTP application name, [a-z][a-z0-9_]* (required)", NULL},
    {"release_name", OPT_STR, O(release_name), "release name (default: app_name)", NULL},
    {"ext_name", OPT_STR, O(ext_name), "external name (default: app_name with - for _)", NULL},
    {"service_name", OPT_STR, O(service_name), "unit name without .service (default: ext_name)",
     NULL},
    {"version", OPT_STR, O(version), "release version, recorded in the manifest", NULL},
    {"description", OPT_STR, O(description), "Description= (default: \"<app_name> release\")",
     NULL},
    {"app_user", OPT_STR, O(app_user), "User= (default: ext_name)", NULL},
    {"app_group", OPT_STR, O(app_group), "Group= (default: app_user)", NULL},
    {"deploy_user", OPT_STR, O(deploy_user), "owner of the deploy dir", NULL},
    {"deploy_group", OPT_STR, O(deploy_group), "group of the deploy dir (default: app_group)",
     NULL},
    {"dynamic_user", OPT_BOOL, O(dynamic_user), "DynamicUser= instead of a sysusers.d user", NULL},
    {"base_dir", OPT_STR, O(base_dir), "parent of the deploy dir", NULL},
    {"deploy_dir", OPT_STR, O(deploy_dir), "deploy dir (default: base_dir/ext_name)", NULL},
    {"current_dir", OPT_STR, O(current_dir), "release dir (default: deploy_dir/current)", NULL},
    {"working_dir", OPT_STR, O(working_dir), "WorkingDirectory= (default: current_dir)", NULL},
    {"release_tool", OPT_STR, O(release_tool),
     "what built the release: mix release, or rebar3 release (relx)", TOOLS},
    {"layout", OPT_STR, O(layout),
     "where files go (mix_systemd: units in lib/systemd/system/, sysusers.d and tmpfiles.d in "
     "lib/, the runtime environment file in the service's runtime dir)",
     LAYOUTS},
    {"start_command", OPT_STR, O(start_command),
     "release script command that runs it in the foreground (default: start for mix, "
     "foreground for relx)",
     NULL},
    {"service_type", OPT_STR, O(service_type), "Type=", TYPES},
    {"hardening", OPT_STR, O(hardening), "hardening profile", PROFILES},
    {"restart", OPT_STR, O(restart), "Restart=", RESTARTS},
    {"restart_method", OPT_STR, O(restart_method), "how a deploy restarts the service", METHODS},
    {"reload", OPT_STR, O(reload),
     "systemctl reload (sighup: Type=notify-reload where systemd has it, else ExecReload= "
     "sending SIGHUP; the app sets config :vigil, sighup)",
     RELOADS},
    {"crash_dump", OPT_STR, O(crash_dump), "BEAM crash dumps (state: into the state dir)", DUMPS},
    {"distribution", OPT_STR, O(distribution),
     "Erlang distribution, named node_name@dist_address (longnames): local (loopback only, no "
     "epmd), epmdless (dist_port on dist_address, no epmd), epmd_socket (a socket-activated "
     "epmd of the service's own, <service_name>-epmd.socket), tls (as epmdless, over TLS with "
     "mutual authentication: credentials dist.crt, dist.key and dist-ca.crt); every mode but "
     "none needs cookie_file",
     DISTS},
    {"cookie_file", OPT_STR, O(cookie_file),
     "the cookie, loaded with LoadCredential= as $HOME/.erlang.cookie (HOME is the "
     "credentials dir), never on a command line (@{key} references)",
     NULL},
    {"dist_address", OPT_STR, O(dist_address),
     "IPv4 address the distribution listens on and the node name's host part (local: a "
     "loopback address)",
     NULL},
    {"dist_port", OPT_UINT, O(dist_port),
     "the distribution port (every node of the cluster listens on it, except with "
     "epmd_socket, where epmd tells)",
     NULL},
    {"node_name", OPT_STR, O(node_name), "the node name's part before @ (default: release_name)",
     NULL},
    {"epmd_path", OPT_STR, O(epmd_path),
     "epmd for distribution = epmd_socket (Debian's erlang-base; a release's "
     "erts-VSN/bin/epmd works too)",
     NULL},
    {"syslog_identifier", OPT_STR, O(syslog_identifier),
     "SyslogIdentifier= (default: "
     "service_name)",
     NULL},
    {"umask", OPT_STR, O(umask), "UMask=", NULL},
    {"runtime_directory_preserve", OPT_STR, O(runtime_directory_preserve),
     "RuntimeDirectoryPreserve=", PRESERVE},
    {"exec_start_wrap", OPT_STR, O(exec_start_wrap), "command put in front of the start script",
     NULL},
    {"runtime_environment_service_script", OPT_STR, O(runtime_environment_service_script),
     "writes the runtime environment file; given alone, turns runtime_environment_service on "
     "(default: current_dir/bin/runtime-environment)",
     NULL},
    {"network_online", OPT_BOOL, O(network_online), "order after network-online.target", NULL},
    {"chroot", OPT_BOOL, O(chroot), "empty root with only system libraries and the release", NULL},
    {"runtime_environment_service", OPT_BOOL, O(runtime_environment_service),
     "a oneshot service that writes an environment file before start", NULL},
    {"os_mon", OPT_BOOL, O(os_mon), "keep /proc readable for os_mon (no ProcSubset=pid)", NULL},
    {"jit_perf", OPT_BOOL, O(jit_perf), "allow +JPperf (no MemoryDenyWriteExecute=)", NULL},
    {"private_network", OPT_BOOL, O(private_network), "PrivateNetwork=yes (no network at all)",
     NULL},
    {"systemd_version", OPT_UINT, O(systemd_version), "target systemd version (Debian 12: 252)",
     NULL},
    {"systemd_features", OPT_STR, O(systemd_features),
     "compile-time features of the target's systemd as `systemctl --version` prints them "
     "(+BPF_FRAMEWORK -SECCOMP ...), over Debian 12's; a directive needing a missing one is "
     "dropped",
     NULL},
    {"watchdog_sec", OPT_UINT, O(watchdog_sec), "WatchdogSec= (0: off)", NULL},
    {"timeout_start_sec", OPT_UINT, O(timeout_start_sec), "TimeoutStartSec=", NULL},
    {"shutdown_time", OPT_UINT, O(shutdown_time), "VM -shutdown_time in seconds", NULL},
    {"timeout_stop_sec", OPT_UINT, O(timeout_stop_sec), "TimeoutStopSec= (0: shutdown_time+5)",
     NULL},
    {"restart_sec", OPT_UINT, O(restart_sec), "RestartSec=", NULL},
    {"start_limit_burst", OPT_UINT, O(start_limit_burst), "StartLimitBurst=", NULL},
    {"start_limit_interval_sec", OPT_UINT, O(start_limit_interval_sec),
     "StartLimitIntervalSec=", NULL},
    {"limit_nofile", OPT_UINT, O(limit_nofile), "LimitNOFILE=", NULL},
    {"log_rate_limit_interval_sec", OPT_UINT, O(log_rate_limit_interval_sec),
     "LogRateLimitIntervalSec=, journald's rate limit for the service (systemd 240; above 0: "
     "a unit's 0 is journald.conf's value), "
     "written only when given, else journald.conf's RateLimitIntervalSec= applies. The limit "
     "counts per unit and per priority (5 pools: emerg to crit, err, warning, notice and info, "
     "debug), its burst scaled up with the journal's free space; the sender is not told: "
     "journald drops the entries and later logs \"Suppressed N messages\" "
     "(MESSAGE_ID=a596d6fe7bfa4994828e72309e95d61e)",
     NULL},
    {"log_rate_limit_burst", OPT_UINT, O(log_rate_limit_burst),
     "LogRateLimitBurst=: entries per interval and priority before journald drops the rest (above "
     "0), written only when given, else journald.conf's RateLimitBurst= applies",
     NULL},
    {"memory_pressure_watch", OPT_STR, O(memory_pressure_watch),
     "MemoryPressureWatch= (systemd 254; dropped, with a message, on older targets): on hands "
     "the service a PSI trigger on its cgroup's memory.pressure (MEMORY_PRESSURE_WATCH), which "
     "vigil watches (vigil:subscribe(memory_pressure), memory_pressure_action); auto does so "
     "where the unit's memory is accounted; off tells the service not to watch; skip writes "
     "nothing (systemd's default, auto, applies). systemd opens the file to the service itself, "
     "ProtectControlGroups= and all",
     PRESSURE_WATCH},
    {"memory_pressure_threshold_ms", OPT_UINT, O(memory_pressure_threshold_ms),
     "MemoryPressureThresholdSec= (systemd 254): stall time per 2 s window that fires the "
     "trigger, 1 to 1999 ms, written only when given (systemd's default is 200 ms)",
     NULL},
    {"fd_store_max", OPT_UINT, O(fd_store_max),
     "FileDescriptorStoreMax=: descriptors systemd keeps for the service (vigil:store_fds needs "
     "it above 0); on systemd 252 a restart keeps them, a stop then start drops them; from 254 "
     "FileDescriptorStorePreserve=yes keeps them while the unit is loaded",
     NULL},
    {"runtime_directory_mode", OPT_MODE, O(runtime_directory_mode), "RuntimeDirectoryMode=", NULL},
    {"configuration_directory_mode", OPT_MODE, O(configuration_directory_mode),
     "ConfigurationDirectoryMode=", NULL},
    {"state_directory_mode", OPT_MODE, O(state_directory_mode), "StateDirectoryMode=", NULL},
    {"cache_directory_mode", OPT_MODE, O(cache_directory_mode), "CacheDirectoryMode=", NULL},
    {"logs_directory_mode", OPT_MODE, O(logs_directory_mode), "LogsDirectoryMode=", NULL},
    {"dirs", OPT_LIST, O(dirs),
     "directories systemd creates for the service, added to the defaults; -KIND removes one "
     "(an empty value alone: none)",
     DIR_KINDS},
    {"env_vars", OPT_LIST, O(env_vars), "NAME=value; @{key} inserts a dir or name key", NULL},
    {"env_files", OPT_LIST, O(env_files),
     "EnvironmentFile= paths (- in front: optional; @{key} references)", NULL},
    {"exec_start_pre", OPT_LIST, O(exec_start_pre), "ExecStartPre= commands, prefixes - + !", NULL},
    {"read_write_paths", OPT_LIST, O(read_write_paths),
     "ReadWritePaths= (- in front: may be missing; @{key} references, as in every path key)", NULL},
    {"read_only_paths", OPT_LIST, O(read_only_paths), "ReadOnlyPaths=", NULL},
    {"inaccessible_paths", OPT_LIST, O(inaccessible_paths), "InaccessiblePaths=", NULL},
    {"unit_after", OPT_LIST, O(unit_after), "After= units", NULL},
    {"unit_wants", OPT_LIST, O(unit_wants), "Wants= units", NULL},
    {"unit_requires", OPT_LIST, O(unit_requires), "Requires= units", NULL},
    {"listen_ports", OPT_PORTS, O(listen_ports),
     "TCP ports the release listens on (below 1024: the bind capability; with distribution: "
     "allowed to bind)",
     NULL},
    {"sockets", OPT_SOCKETS, O(sockets),
     "NAME=LISTEN: a socket unit listens and passes the socket as NAME (LISTEN_FDNAMES); "
     "LISTEN is a port (IPv6 and IPv4), ADDRESS:PORT, [ADDRESS6]:PORT or the absolute path of "
     "an AF_UNIX socket (app_user's and app_group's, mode 0660; root's with dynamic_user). "
     "The first is <service_name>.socket, the others <service_name>-NAME.socket; the service "
     "needs no bind capability for them, and with private_network they are its only way in",
     NULL},
    {"socket_backlog", OPT_UINT, O(socket_backlog),
     "Backlog= of each socket unit (0: not written; systemd 252 asks for the most, which the "
     "kernel caps at net.core.somaxconn, 4096 on Debian 12)",
     NULL},
    {"ip_address_allow", OPT_LIST, O(ip_address_allow), "IPAddressAllow= (with Deny=any)", NULL},
    {"cluster_peers", OPT_LIST, O(cluster_peers),
     "addresses or prefixes of the other nodes: IPAddressAllow= with localhost (the remote "
     "console), IPAddressDeny=any for everything else (add the app's clients to "
     "ip_address_allow)",
     NULL},
    {"credentials", OPT_LIST, O(credentials),
     "NAME=PATH: LoadCredential=NAME:PATH, read by the release from "
     "$CREDENTIALS_DIRECTORY/NAME (systemd 247); for secrets instead of env_vars",
     NULL},
    {"encrypted_credentials", OPT_LIST, O(encrypted_credentials),
     "NAME=PATH: LoadCredentialEncrypted=NAME:PATH for a file made by systemd-creds encrypt "
     "(systemd 250), decrypted by systemd into $CREDENTIALS_DIRECTORY/NAME",
     NULL},
    {"override", OPT_LIST, O(override),
     "Section.Directive=value (unit file syntax, written as is) replacing what the service "
     "gets for that directive, or added; the manifest records what it replaced",
     NULL},
    {"drop", OPT_LIST, O(drop),
     "[Section.]Directive removed from the service; the manifest records what it removed", NULL},
    {NULL, OPT_STR, 0, NULL, NULL},
};

_Static_assert(sizeof(GEN_OPT_DEFS) / sizeof(GEN_OPT_DEFS[0]) <= GEN_OPT_MAX + 1,
               "raise GEN_OPT_MAX");

bool gen_opt_is_list(const struct opt_def *def)
{
    return def->kind == OPT_LIST || def->kind == OPT_PORTS || def->kind == OPT_SOCKETS;
}

size_t gen_opt_count(void)
{
    size_t n = 0;
    while (GEN_OPT_DEFS[n].key != NULL)
        n++;
    return n;
}

#define FIELD(o, def, type) ((type *)(void *)((char *)(o) + (def)->offset))

void gen_opts_init(struct gen_opts *o)
{
    *o = DEFAULTS;
    for (const struct opt_def *d = GEN_OPT_DEFS; d->key != NULL; d++) {
        char **s = FIELD(o, d, char *);
        if (d->kind == OPT_STR && *s != NULL)
            *s = xstrdup(*s);
    }
    for (size_t i = 0; GEN_DEFAULT_DIRS[i] != NULL; i++)
        strlist_push(&o->dirs, GEN_DEFAULT_DIRS[i]);
}

void gen_opts_free(struct gen_opts *o)
{
    for (const struct opt_def *d = GEN_OPT_DEFS; d->key != NULL; d++) {
        if (d->kind == OPT_STR)
            free(*FIELD(o, d, char *));
        else if (gen_opt_is_list(d))
            strlist_free(FIELD(o, d, struct strlist));
    }
    *o = (struct gen_opts){0};
}

const struct opt_def *gen_opt_find(const char *key)
{
    for (const struct opt_def *d = GEN_OPT_DEFS; d->key != NULL; d++) {
        size_t i = 0;
        while (d->key[i] && (key[i] == d->key[i] || (key[i] == '-' && d->key[i] == '_')))
            i++;
        if (d->key[i] == '\0' && key[i] == '\0')
            return d;
    }
    return NULL;
}

static int parse_bool(const char *v, bool *ret)
{
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
            *ret = strcmp(v, yes[i]) == 0;
            return 0;
        }
    }
    return -EINVAL;
}

static int parse_uint(const char *v, int base, unsigned long max, unsigned long *ret)
{
    char *end = NULL;
    if (v[0] < '0' || v[0] > '9')
        return -EINVAL;
    errno = 0;
    unsigned long n = strtoul(v, &end, base);
    if (errno != 0 || *end != '\0' || n > max)
        return -EINVAL;
    *ret = n;
    return 0;
}

bool one_of(const char *v, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

/* "is not one of a, b, c" for a refusal. */
static void choices_problem(struct buf *out, const char *const *set)
{
    buf_add(out, "is not one of ");
    for (size_t i = 0; set[i] != NULL; i++)
        buf_printf(out, "%s%s", i ? ", " : "", set[i]);
}

static int refuse_choice(const struct opt_def *def, const char *value, struct buf *err)
{
    if (strcmp(def->key, "distribution") == 0 && strcmp(value, "fixed_ports") == 0)
        return fail_value(err, def->key, value,
                          "was replaced by epmdless (one fixed port, dist_port, and no epmd) "
                          "and epmd_socket (an epmd of the service's own)");
    struct buf problem = {0};
    choices_problem(&problem, def->choices);
    int r = fail_value(err, def->key, value, buf_str(&problem));
    buf_free(&problem);
    return r;
}

static int set_scalar(struct gen_opts *o, const struct opt_def *def, const char *value,
                      struct buf *err)
{
    switch (def->kind) {
    case OPT_BOOL:
        if (parse_bool(value, FIELD(o, def, bool)) == 0)
            return 0;
        return fail_value(err, def->key, value,
                          "is not a boolean (yes/no, true/false, on/off, 1/0)");
    case OPT_UINT:
        if (parse_uint(value, 10, 1000000000UL, FIELD(o, def, unsigned long)) == 0)
            return 0;
        return fail_value(err, def->key, value, "is not a whole number up to 1000000000");
    case OPT_MODE:
        if (parse_uint(value, 8, 07777, FIELD(o, def, unsigned long)) == 0)
            return 0;
        return fail_value(err, def->key, value, "is not an octal mode up to 07777");
    default:
        if (def->choices != NULL && !one_of(value, def->choices))
            return refuse_choice(def, value, err);
        free(*FIELD(o, def, char *));
        *FIELD(o, def, char *) = xstrdup(value);
        return 0;
    }
}

/* A socket: well formed, and neither its name nor its address taken by one listed before. */
static int check_socket(const struct opt_def *def, const struct strlist *l, const char *value,
                        struct buf *err)
{
    struct sock_spec s;
    struct sock_spec other;
    const char *problem = NULL;
    if (sock_spec_parse(value, &s, &problem) < 0)
        return fail_value(err, def->key, value, problem);
    for (size_t i = 0; i < l->n; i++) {
        (void)sock_spec_parse(l->v[i], &other, &problem);
        problem = sock_spec_clash(&s, &other);
        if (problem != NULL) {
            struct buf why = {0};
            buf_printf(&why, "%s (\"%s\")", problem, l->v[i]);
            int r = fail_value(err, def->key, value, buf_str(&why));
            buf_free(&why);
            return r;
        }
    }
    if (l->n >= GEN_MAX_SOCKETS)
        return fail_value(err, def->key, value, "is beyond 16 sockets");
    return 0;
}

/* One item of a list key, checked for the list's type before it is added. */
static int check_item(const struct opt_def *def, const struct strlist *l, const char *value,
                      struct buf *err)
{
    unsigned long port = 0;
    if (def->choices != NULL && !one_of(value, def->choices))
        return refuse_choice(def, value, err);
    if (def->kind == OPT_SOCKETS)
        return check_socket(def, l, value, err);
    if (def->kind != OPT_PORTS)
        return 0;
    if (parse_uint(value, 10, 65535, &port) < 0 || port == 0)
        return fail_value(err, def->key, value, "is not a TCP port 1..65535");
    if (l->n >= GEN_MAX_PORTS)
        return fail_value(err, def->key, value, "is beyond 64 ports");
    return 0;
}

static int set_list(struct gen_opts *o, const struct opt_def *def, const char *value,
                    enum opt_origin origin, struct buf *err)
{
    struct strlist *l = FIELD(o, def, struct strlist);
    size_t idx = (size_t)(def - GEN_OPT_DEFS);
    if (o->origin[idx] != origin)
        strlist_free(l);
    o->origin[idx] = origin;
    /* An empty value only clears the list, so `--dirs ''` means no dirs. */
    if (value[0] == '\0')
        return 0;
    int r = check_item(def, l, value, err);
    if (r == 0)
        strlist_push(l, value);
    return r;
}

int gen_opt_set(struct gen_opts *o, const struct opt_def *def, const char *value,
                enum opt_origin origin, struct buf *err)
{
    if (gen_opt_is_list(def))
        return set_list(o, def, value, origin, err);
    o->origin[def - GEN_OPT_DEFS] = origin;
    return set_scalar(o, def, value, err);
}

bool gen_opt_given(const struct gen_opts *o, const char *key)
{
    const struct opt_def *def = gen_opt_find(key);
    return def != NULL && o->origin[def - GEN_OPT_DEFS] != ORIGIN_DEFAULT;
}
