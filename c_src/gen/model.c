#include "model.h"

#include "escape.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SYSTEMD 219
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* First systemd version of each directive (or directive=value) the generator writes, from
 * systemd's NEWS. Directives older than MIN_SYSTEMD are not listed. */
static const struct {
    const char *key;
    unsigned since;
} SINCE[] = {
    {"Type=exec", 240},
    {"Type=notify-reload", 253},
    {"AmbientCapabilities", 229},
    {"StartLimitIntervalSec", 230},
    {"MemoryDenyWriteExecute", 231},
    {"RestrictRealtime", 231},
    {"DynamicUser", 232},
    {"ProtectKernelTunables", 232},
    {"ProtectKernelModules", 232},
    {"ProtectControlGroups", 232},
    {"PrivateUsers", 232},
    {"RemoveIPC", 232},
    {"ProtectSystem=strict", 232},
    {"RestrictNamespaces", 233},
    {"BindReadOnlyPaths", 233},
    {"StateDirectory", 235},
    {"CacheDirectory", 235},
    {"LogsDirectory", 235},
    {"ConfigurationDirectory", 235},
    {"StateDirectoryMode", 235},
    {"CacheDirectoryMode", 235},
    {"LogsDirectoryMode", 235},
    {"ConfigurationDirectoryMode", 235},
    {"RuntimeDirectoryPreserve", 235},
    {"LockPersonality", 235},
    {"KeyringMode", 235},
    {"IPAddressDeny", 235},
    {"IPAddressAllow", 235},
    {"TemporaryFileSystem", 238},
    {"PrivateMounts", 239},
    {"SystemCallFilter=@system-service", 239},
    {"SystemCallFilter=~@privileged @resources", 239},
    {"ProtectHostname", 242},
    {"RestrictSUIDSGID", 242},
    {"ProtectKernelLogs", 244},
    {"ProtectClock", 245},
    {"LoadCredential", 247},
    {"ProtectProc", 247},
    {"ProcSubset", 247},
    {"PrivateIPC", 248},
    {"SocketBindAllow", 249},
    {"SocketBindDeny", 249},
};

unsigned directive_since(const char *key, const char *value)
{
    size_t klen = strlen(key);
    unsigned since = 0;
    for (size_t i = 0; i < ARRAY_SIZE(SINCE); i++) {
        const char *k = SINCE[i].key;
        bool match = strcmp(k, key) == 0 || (value != NULL && strncmp(k, key, klen) == 0 &&
                                             k[klen] == '=' && strcmp(k + klen + 1, value) == 0);
        if (match && SINCE[i].since > since)
            since = SINCE[i].since;
    }
    return since;
}

void unit_file_name(struct buf *out, enum unit_file f, const char *svc)
{
    static const char *const suffix[UF_COUNT] = {".service", "-restart.path", "-restart.service",
                                                 "-runtime-environment.service"};
    buf_printf(out, "%s%s", svc, suffix[f]);
}

/* Names and paths after defaults are derived; all validated. */
struct names {
    const char *app, *release, *ext, *svc, *user, *group, *deploy_user, *deploy_group;
    const char *deploy, *current, *working, *desc, *syslog, *env_script;
};

struct ctx {
    const struct gen_opts *o;
    struct unit_model *m;
    struct buf *err;
    struct names n;
    char *derived[16];
    size_t nderived;
    bool bind_caps;
};

static int fail(struct ctx *c, const char *key, const char *value, const char *problem)
{
    return fail_value(c->err, key, value, problem);
}

static const char *derive(struct ctx *c, const char *given, const char *fallback)
{
    if (given != NULL)
        return given;
    c->derived[c->nderived] = xstrdup(fallback);
    return c->derived[c->nderived++];
}

static void add(struct ctx *c, enum unit_file f, enum unit_section s, const char *key,
                const char *value, const char *reason)
{
    struct unit_model *m = c->m;
    struct directive *d = m->d = xrealloc(m->d, (m->n + 1) * sizeof(*d));
    unsigned since = directive_since(key, value);
    d[m->n] = (struct directive){.file = f,
                                 .section = s,
                                 .key = key,
                                 .value = xstrdup(value),
                                 .since = since,
                                 .status = DS_EMITTED,
                                 .reason = xstrdup(reason)};
    if (since > m->systemd_version) {
        struct buf r = {0};
        buf_printf(&r, "needs systemd %u, target is %u", since, m->systemd_version);
        free(d[m->n].reason);
        d[m->n].reason = buf_steal(&r);
        d[m->n].status = DS_DROPPED;
        d[m->n].too_new = true;
    }
    m->n++;
}

/* A directive left out on purpose, recorded for the manifest. */
static void drop(struct ctx *c, enum unit_file f, enum unit_section s, const char *key,
                 const char *value, const char *reason)
{
    add(c, f, s, key, value, reason);
    struct directive *d = &c->m->d[c->m->n - 1];
    if (d->status != DS_DROPPED) {
        d->status = DS_DROPPED;
        free(d->reason);
        d->reason = xstrdup(reason);
    }
}

/* A number; `octal` writes it as a file mode. */
static void addf(struct ctx *c, enum unit_section s, const char *key, const char *reason,
                 bool octal, unsigned long v)
{
    struct buf b = {0};
    if (octal)
        buf_printf(&b, "%04lo", v);
    else
        buf_printf(&b, "%lu", v);
    add(c, UF_SERVICE, s, key, buf_str(&b), reason);
    buf_free(&b);
}

static bool app_name_valid(const char *s)
{
    if (!(s[0] >= 'a' && s[0] <= 'z') || strlen(s) > 200)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

/* Service and external names end up in file names, unit names and specifier-free paths. */
static bool svc_name_valid(const char *s)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')) || strlen(s) > 200)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
              *p == '.'))
            return false;
    return true;
}

static int check_names(struct ctx *c)
{
    const struct names *n = &c->n;
    if (!app_name_valid(n->release))
        return fail(c, "release_name", n->release, "is not [a-z][a-z0-9_]*");
    if (!svc_name_valid(n->ext))
        return fail(c, "ext_name", n->ext, "is not a name of [a-z0-9_.-]");
    if (!svc_name_valid(n->svc))
        return fail(c, "service_name", n->svc, "is not a name of [a-z0-9_.-]");
    const char *users[][2] = {{"app_user", n->user},
                              {"app_group", n->group},
                              {"deploy_user", n->deploy_user},
                              {"deploy_group", n->deploy_group}};
    for (size_t i = 0; i < ARRAY_SIZE(users); i++)
        if (!user_name_valid(users[i][1]))
            return fail(c, users[i][0], users[i][1],
                        "is not a user or group name [a-z_][a-z0-9_-]*");
    return 0;
}

static int check_paths(struct ctx *c)
{
    const char *paths[][2] = {{"base_dir", c->o->base_dir},
                              {"deploy_dir", c->n.deploy},
                              {"current_dir", c->n.current},
                              {"working_dir", c->n.working},
                              {"runtime_environment_service_script", c->n.env_script}};
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        const char *problem = path_problem(paths[i][1]);
        if (problem != NULL)
            return fail(c, paths[i][0], paths[i][1], problem);
    }
    const char *texts[][2] = {
        {"description", c->n.desc}, {"syslog_identifier", c->n.syslog}, {"version", c->o->version}};
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
        const char *problem = raw_value_problem(texts[i][1]);
        if (problem != NULL)
            return fail(c, texts[i][0], texts[i][1], problem);
    }
    return 0;
}

static char *dashed(const char *s)
{
    char *d = xstrdup(s);
    for (char *p = d; *p; p++)
        if (*p == '_')
            *p = '-';
    return d;
}

static int resolve_names(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    struct names *n = &c->n;
    if (o->app_name == NULL || o->app_name[0] == '\0')
        return fail(c, "app_name", "", "is required");
    if (!app_name_valid(o->app_name))
        return fail(c, "app_name", o->app_name, "is not an OTP application name [a-z][a-z0-9_]*");
    char *ext = dashed(o->app_name);
    n->app = o->app_name;
    n->release = derive(c, o->release_name, o->app_name);
    n->ext = derive(c, o->ext_name, ext);
    free(ext);
    n->svc = derive(c, o->service_name, n->ext);
    n->user = derive(c, o->app_user, n->ext);
    n->group = derive(c, o->app_group, n->user);
    n->deploy_user = o->deploy_user;
    n->deploy_group = derive(c, o->deploy_group, o->dynamic_user ? "root" : n->group);
    return check_names(c);
}

static const char *derive_join(struct ctx *c, const char *given, const char *a, const char *b)
{
    if (given != NULL)
        return given;
    struct buf p = {0};
    buf_printf(&p, "%s%s%s", strcmp(a, "/") == 0 ? "" : a, "/", b);
    const char *r = derive(c, NULL, buf_str(&p));
    buf_free(&p);
    return r;
}

static int resolve_paths(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    struct names *n = &c->n;
    const char *problem = path_problem(o->base_dir);
    if (problem != NULL)
        return fail(c, "base_dir", o->base_dir, problem);
    n->deploy = derive_join(c, o->deploy_dir, o->base_dir, n->ext);
    n->current = derive_join(c, o->current_dir, n->deploy, "current");
    n->working = derive(c, o->working_dir, n->current);
    n->env_script = derive_join(c, o->runtime_environment_service_script, n->current,
                                "bin/runtime-environment");
    struct buf d = {0};
    buf_printf(&d, "%s release", n->app);
    n->desc = derive(c, o->description, buf_str(&d));
    buf_free(&d);
    n->syslog = derive(c, o->syslog_identifier, n->svc);
    return check_paths(c);
}

/* The `dirs` kinds: systemd manages each in its own base directory (since 235 for all but
 * runtime); older targets get a tmpfiles.d line for the legacy path instead. */
static const struct dir_kind {
    const char *name, *directive, *mode_directive, *specifier, *legacy, *env;
    size_t mode_offset;
} DIRS[] = {
    {"runtime", "RuntimeDirectory", "RuntimeDirectoryMode", "%t", "/run", "RUNTIME_DIR",
     offsetof(struct gen_opts, runtime_directory_mode)},
    {"configuration", "ConfigurationDirectory", "ConfigurationDirectoryMode", "%E", "/etc",
     "CONFIGURATION_DIR", offsetof(struct gen_opts, configuration_directory_mode)},
    {"state", "StateDirectory", "StateDirectoryMode", "%S", "/var/lib", "STATE_DIR",
     offsetof(struct gen_opts, state_directory_mode)},
    {"cache", "CacheDirectory", "CacheDirectoryMode", "%C", "/var/cache", "CACHE_DIR",
     offsetof(struct gen_opts, cache_directory_mode)},
    {"logs", "LogsDirectory", "LogsDirectoryMode", "%L", "/var/log", "LOGS_DIR",
     offsetof(struct gen_opts, logs_directory_mode)},
    {"tmp", NULL, NULL, NULL, "/var/tmp", "TMP_DIR", 0},
};

static const struct dir_kind *dir_kind(const char *name, size_t len)
{
    for (size_t i = 0; i < ARRAY_SIZE(DIRS); i++)
        if (strlen(DIRS[i].name) == len && strncmp(DIRS[i].name, name, len) == 0)
            return &DIRS[i];
    return NULL;
}

static bool managed_dirs(const struct ctx *c, const struct dir_kind *k)
{
    if (k->directive == NULL)
        return false;
    return strcmp(k->name, "runtime") == 0 || c->m->systemd_version >= 235;
}

/* The dir's path as a unit file value: a specifier when systemd manages it. */
static void dir_value(const struct ctx *c, const struct dir_kind *k, struct buf *out)
{
    if (strcmp(k->name, "tmp") == 0)
        buf_add(out, k->legacy);
    else
        buf_printf(out, "%s/%s", managed_dirs(c, k) ? k->specifier : k->legacy, c->n.svc);
}

static const char *name_ref(const struct ctx *c, const char *key, size_t len)
{
    const char *names[][2] = {{"deploy_dir", c->n.deploy},   {"current_dir", c->n.current},
                              {"working_dir", c->n.working}, {"base_dir", c->o->base_dir},
                              {"app_name", c->n.app},        {"release_name", c->n.release},
                              {"service_name", c->n.svc},    {"ext_name", c->n.ext}};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++)
        if (strlen(names[i][0]) == len && strncmp(names[i][0], key, len) == 0)
            return names[i][1];
    return NULL;
}

/* Appends the value of reference `@{key}` (key of `len` bytes) already escaped for layer 1. */
static int expand_ref(struct ctx *c, const char *key, size_t len, bool dollar, struct buf *out)
{
    const char *lit = name_ref(c, key, len);
    if (lit != NULL) {
        spec_escape(out, lit, dollar);
        return 0;
    }
    const struct dir_kind *k =
        len > 4 && strncmp(key + len - 4, "_dir", 4) == 0 ? dir_kind(key, len - 4) : NULL;
    if (k == NULL)
        return -ENOENT;
    if (!strlist_contains(&c->o->dirs, k->name))
        return -ENXIO;
    dir_value(c, k, out);
    return 0;
}

/* Expands `@{key}` references in `s` (`@@{` is a literal `@{`) and escapes the rest. */
static int expand_refs(struct ctx *c, const char *key, const char *s, bool dollar, struct buf *out)
{
    for (const char *p = s; *p;) {
        if (p[0] == '@' && p[1] == '@' && p[2] == '{') {
            buf_add(out, "@{");
            p += 3;
        } else if (p[0] == '@' && p[1] == '{') {
            const char *end = strchr(p, '}');
            int r = end ? expand_ref(c, p + 2, (size_t)(end - p - 2), dollar, out) : -ENOENT;
            if (r < 0)
                return fail(c, key, s,
                            r == -ENXIO ? "refers to a dir not listed in dirs"
                                        : "has an unknown @{...} reference");
            p = end + 1;
        } else {
            char one[2] = {*p++, '\0'};
            spec_escape(out, one, dollar);
        }
    }
    return 0;
}

static bool one_of(const char *v, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

/* A command setting: the directive written, the key and value named in errors. */
struct command {
    enum unit_file file;
    const char *directive, *key, *shown, *reason;
};

/* Escapes the words of a command for ExecStart=-style settings into `out`. The first word is
 * the executable and must be absolute once references are expanded. */
static int command_words(struct ctx *c, const struct command *cmd, const struct strlist *words,
                         struct buf *out)
{
    for (size_t i = 0; i < words->n; i++) {
        const char *problem = text_problem(words->v[i]);
        if (problem != NULL)
            return fail(c, cmd->key, cmd->shown, problem);
        struct buf w = {0};
        buf_add(&w, "");
        int r = expand_refs(c, cmd->key, words->v[i], true, &w);
        const char *s = buf_str(&w);
        bool abs = s[0] == '/' || (s[0] == '%' && s[1] != '%');
        if (r == 0 && i == 0 && !abs)
            r = fail(c, cmd->key, cmd->shown, "does not start with an absolute path");
        if (r == 0) {
            buf_add(out, i ? " " : "");
            quote_word(out, s, false);
        }
        buf_free(&w);
        if (r < 0)
            return r;
    }
    return 0;
}

/* `-` ignores failure; `+` runs with full privileges (231); `!`/`!!` skip the user change
 * (236). Returns the number of prefix bytes or -EINVAL. */
static int exec_prefix(struct ctx *c, const struct command *cmd, const char *raw)
{
    size_t n = strspn(raw, "-+!");
    unsigned need = 0;
    for (size_t i = 0; i < n; i++) {
        bool bang2 = raw[i] == '!' && i > 0 && raw[i - 1] == '!' && (i < 2 || raw[i - 2] != '!');
        if (memchr(raw, raw[i], i) != NULL && !bang2)
            return fail(c, cmd->key, cmd->shown, "repeats a command prefix");
        unsigned v = raw[i] == '!' ? 236 : raw[i] == '+' ? 231 : 0;
        need = v > need ? v : need;
    }
    if (need > c->m->systemd_version)
        return fail(c, cmd->key, cmd->shown,
                    "uses a command prefix the target systemd version lacks");
    return (int)n;
}

static int add_command(struct ctx *c, const struct command *cmd, const char *raw,
                       const struct strlist *front)
{
    struct strlist words = {0};
    const char *problem = NULL;
    int n = exec_prefix(c, cmd, raw);
    if (n < 0)
        return n;
    for (size_t i = 0; front != NULL && i < front->n; i++)
        strlist_push(&words, front->v[i]);
    struct buf out = {0};
    buf_addn(&out, raw, (size_t)n);
    int r = split_command(raw + n, &words, &problem);
    if (r < 0)
        r = fail(c, cmd->key, cmd->shown, problem);
    if (r == 0)
        r = command_words(c, cmd, &words, &out);
    if (r == 0)
        add(c, cmd->file, SEC_SERVICE, cmd->directive, buf_str(&out), cmd->reason);
    buf_free(&out);
    strlist_free(&words);
    return r;
}

/* The cookie reaches the release through RELEASE_COOKIE, read from the credential by a
 * shell that then execs the start script, so the BEAM stays the main process. */
static void cookie_wrapper(struct strlist *w)
{
    strlist_push(w, "/bin/sh");
    strlist_push(w, "-c");
    strlist_push(w, "RELEASE_COOKIE=\"$(cat \"$CREDENTIALS_DIRECTORY/erlang-cookie\")\" "
                    "exec \"$0\" \"$@\"");
}

/* Appends `s` single-quoted for split_command(). */
static void shell_quote(struct buf *b, const char *s)
{
    buf_addc(b, '\'');
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            buf_add(b, "'\\''");
        else
            buf_addc(b, *p);
    }
    buf_addc(b, '\'');
}

static int build_exec_start(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    if (strncmp(o->start_command, "daemon", 6) == 0 || !app_name_valid(o->start_command))
        return fail(c, "start_command", o->start_command,
                    "is not a foreground command (daemon forks away from Type=notify)");
    struct strlist front = {0};
    if (o->cookie_file[0] != '\0' && c->m->systemd_version >= 247)
        cookie_wrapper(&front);
    struct buf raw = {0}, script = {0};
    buf_printf(&script, "%s/bin/%s", c->n.current, c->n.release);
    if (o->exec_start_wrap[0] != '\0')
        buf_printf(&raw, "%s ", o->exec_start_wrap);
    shell_quote(&raw, buf_str(&script));
    buf_printf(&raw, " %s", o->start_command);
    const struct command cmd = {UF_SERVICE, "ExecStart", "exec_start_wrap", o->exec_start_wrap,
                                "start script in the foreground; it execs into the BEAM"};
    int r = add_command(c, &cmd, buf_str(&raw), &front);
    buf_free(&raw);
    buf_free(&script);
    strlist_free(&front);
    return r;
}

static int build_exec_pre(struct ctx *c)
{
    for (size_t i = 0; i < c->o->exec_start_pre.n; i++) {
        const char *raw = c->o->exec_start_pre.v[i];
        const struct command cmd = {UF_SERVICE, "ExecStartPre", "exec_start_pre", raw,
                                    "exec_start_pre"};
        int r = add_command(c, &cmd, raw, NULL);
        if (r < 0)
            return r;
    }
    return 0;
}

/* Adds Environment="NAME=value"; `value` is already escaped for layer 1. A later setting of
 * the same name replaces the earlier one in place, so env_vars override the defaults. */
static void set_env(struct ctx *c, const char *name, const char *value, const char *reason)
{
    struct buf w = {0}, q = {0};
    buf_printf(&w, "%s=%s", name, value);
    quote_word(&q, buf_str(&w), true);
    size_t len = strlen(name);
    for (size_t i = 0; i < c->m->n; i++) {
        struct directive *d = &c->m->d[i];
        if (strcmp(d->key, "Environment") == 0 && strncmp(d->value + 1, name, len) == 0 &&
            d->value[len + 1] == '=') {
            free(d->value);
            free(d->reason);
            d->value = buf_steal(&q);
            d->reason = xstrdup(reason);
            buf_free(&w);
            return;
        }
    }
    add(c, UF_SERVICE, SEC_SERVICE, "Environment", buf_str(&q), reason);
    buf_free(&w);
    buf_free(&q);
}

static void set_env_literal(struct ctx *c, const char *name, const char *value, const char *reason)
{
    struct buf v = {0};
    buf_add(&v, "");
    spec_escape(&v, value, false);
    set_env(c, name, buf_str(&v), reason);
    buf_free(&v);
}

static int user_env(struct ctx *c)
{
    for (size_t i = 0; i < c->o->env_vars.n; i++) {
        const char *raw = c->o->env_vars.v[i], *eq = strchr(raw, '=');
        const char *problem = text_problem(raw);
        if (problem != NULL)
            return fail(c, "env_vars", raw, problem);
        if (eq == NULL)
            return fail(c, "env_vars", raw, "is not NAME=value");
        char *name = xstrndup(raw, (size_t)(eq - raw));
        int r = env_name_valid(name)
                    ? 0
                    : fail(c, "env_vars", raw, "is not NAME=value with NAME of [A-Za-z0-9_]");
        struct buf v = {0};
        buf_add(&v, "");
        if (r == 0)
            r = expand_refs(c, "env_vars", eq + 1, false, &v);
        if (r == 0)
            set_env(c, name, buf_str(&v), "env_vars");
        buf_free(&v);
        free(name);
        if (r < 0)
            return r;
    }
    return 0;
}

static void erl_flags(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    struct buf f = {0};
    /* init:stop() must finish before systemd's TimeoutStopSec= ends in SIGKILL. */
    buf_printf(&f, "-shutdown_time %lu", o->shutdown_time * 1000);
    if (strcmp(o->distribution, "epmd_socket") == 0)
        buf_add(&f, " -start_epmd false");
    if (strcmp(o->distribution, "fixed_ports") == 0)
        buf_printf(&f, " -kernel inet_dist_listen_min %lu inet_dist_listen_max %lu",
                   o->dist_port_min, o->dist_port_max);
    set_env_literal(c, "ERL_FLAGS", buf_str(&f), "VM shutdown time and distribution flags");
    buf_free(&f);
}

static int build_env(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    set_env_literal(c, "LANG", "C.UTF-8", "file names are UTF-8 only with a UTF-8 locale");
    for (size_t i = 0; i < ARRAY_SIZE(DIRS); i++) {
        if (!strlist_contains(&o->dirs, DIRS[i].name))
            continue;
        struct buf v = {0};
        dir_value(c, &DIRS[i], &v);
        set_env(c, DIRS[i].env, buf_str(&v), "dirs");
        if (strcmp(DIRS[i].name, "runtime") == 0)
            set_env(c, "RELEASE_TMP", buf_str(&v), "release scratch files in the runtime dir");
        buf_free(&v);
    }
    set_env_literal(c, "RELEASE_DISTRIBUTION",
                    strcmp(o->distribution, "none") == 0 ? "none" : "sname", "distribution");
    erl_flags(c);
    if (strcmp(o->crash_dump, "state") == 0) {
        struct buf v = {0};
        dir_value(c, dir_kind("state", 5), &v);
        buf_add(&v, "/erl_crash.dump");
        set_env(c, "ERL_CRASH_DUMP", buf_str(&v), "crash_dump = state");
        set_env_literal(c, "ERL_CRASH_DUMP_SECONDS", "30", "crash_dump = state");
        buf_free(&v);
    } else
        set_env_literal(c, "ERL_CRASH_DUMP_SECONDS", "0", "crash_dump = off");
    if (strcmp(o->restart_method, "touch") == 0) {
        struct buf v = {0};
        buf_printf(&v, "%s/flags/restart.flag", c->n.deploy);
        set_env_literal(c, "RESTART_FLAG", buf_str(&v), "restart_method = touch");
        buf_free(&v);
    }
    return user_env(c);
}

static int build_dirs(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    for (size_t i = 0; i < ARRAY_SIZE(DIRS); i++) {
        const struct dir_kind *k = &DIRS[i];
        if (!strlist_contains(&o->dirs, k->name) || k->directive == NULL)
            continue;
        unsigned long mode =
            *(const unsigned long *)(const void *)((const char *)o + k->mode_offset);
        if (!managed_dirs(c, k)) {
            buf_printf(&c->m->tmpfiles, "d %s/%s %04lo %s %s -\n", k->legacy, c->n.svc, mode,
                       c->n.user, c->n.group);
            continue;
        }
        add(c, UF_SERVICE, SEC_SERVICE, k->directive, c->n.svc, "dirs");
        addf(c, SEC_SERVICE, k->mode_directive, "dirs", true, mode);
    }
    if (strlist_contains(&o->dirs, "runtime"))
        add(c, UF_SERVICE, SEC_SERVICE, "RuntimeDirectoryPreserve", o->runtime_directory_preserve,
            "runtime_directory_preserve");
    return 0;
}

/* A list of paths for a quoted-list setting; `-` marks a path that may be missing. */
static int add_path_list(struct ctx *c, const char *key, const char *directive,
                         const struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *raw = l->v[i], *path = raw + (raw[0] == '-');
        const char *problem = path_problem(path);
        if (problem != NULL)
            return fail(c, key, raw, problem);
        struct buf v = {0}, q = {0};
        buf_add(&v, raw[0] == '-' ? "-" : "");
        spec_escape(&v, path, false);
        quote_word(&q, buf_str(&v), false);
        add(c, UF_SERVICE, SEC_SERVICE, directive, buf_str(&q), key);
        buf_free(&v);
        buf_free(&q);
    }
    return 0;
}

/* EnvironmentFile= is not unquoted: the path goes in raw, with specifiers escaped. */
static int build_env_files(struct ctx *c)
{
    const struct strlist *l = &c->o->env_files;
    for (size_t i = 0; i < l->n; i++) {
        const char *raw = l->v[i], *path = raw + (raw[0] == '-');
        const char *problem = path_problem(path);
        if (problem != NULL)
            return fail(c, "env_files", raw, problem);
        struct buf v = {0};
        buf_add(&v, "");
        spec_escape(&v, raw, false);
        add(c, UF_SERVICE, SEC_SERVICE, "EnvironmentFile", buf_str(&v), "env_files");
        buf_free(&v);
    }
    return 0;
}

static int add_units(struct ctx *c, const char *key, const char *directive, const struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!unit_name_valid(l->v[i]))
            return fail(c, key, l->v[i], "is not a unit name such as foo.service");
        add(c, UF_SERVICE, SEC_UNIT, directive, l->v[i], key);
    }
    return 0;
}

static void add_raw(struct ctx *c, enum unit_section s, const char *key, const char *value,
                    const char *reason)
{
    struct buf v = {0};
    buf_add(&v, "");
    spec_escape(&v, value, false);
    add(c, UF_SERVICE, s, key, buf_str(&v), reason);
    buf_free(&v);
}

static int build_unit_section(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    add_raw(c, SEC_UNIT, "Description", c->n.desc, "description");
    if (o->network_online) {
        add(c, UF_SERVICE, SEC_UNIT, "Wants", "network-online.target", "network_online");
        add(c, UF_SERVICE, SEC_UNIT, "After", "network-online.target", "network_online");
    }
    if (strcmp(o->distribution, "epmd_socket") == 0) {
        add(c, UF_SERVICE, SEC_UNIT, "Requires", "epmd.socket", "distribution = epmd_socket");
        add(c, UF_SERVICE, SEC_UNIT, "After", "epmd.socket", "distribution = epmd_socket");
    }
    if (o->runtime_environment_service) {
        struct buf u = {0};
        unit_file_name(&u, UF_RUNTIME_ENV, c->n.svc);
        add(c, UF_SERVICE, SEC_UNIT, "Requires", buf_str(&u), "runtime_environment_service");
        add(c, UF_SERVICE, SEC_UNIT, "After", buf_str(&u), "runtime_environment_service");
        buf_free(&u);
    }
    int r = add_units(c, "unit_after", "After", &o->unit_after);
    if (r == 0)
        r = add_units(c, "unit_wants", "Wants", &o->unit_wants);
    if (r == 0)
        r = add_units(c, "unit_requires", "Requires", &o->unit_requires);
    return r;
}

/* Before 230 the start limit lived in [Service] as StartLimitInterval=. */
static void start_limit(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    bool old = c->m->systemd_version < 230;
    addf(c, old ? SEC_SERVICE : SEC_UNIT, "StartLimitBurst", "restart storm limit", false,
         o->start_limit_burst);
    if (!old) {
        addf(c, SEC_UNIT, "StartLimitIntervalSec", "restart storm limit", false,
             o->start_limit_interval_sec);
        return;
    }
    addf(c, SEC_SERVICE, "StartLimitInterval", "restart storm limit", false,
         o->start_limit_interval_sec);
    struct directive *d = &c->m->d[c->m->n - 1];
    d->status = DS_GATED;
    free(d->reason);
    d->reason = xstrdup("StartLimitIntervalSec= in [Unit] needs systemd 230");
}

static int check_combinations(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    char v[32];
    snprintf(v, sizeof(v), "%lu", o->systemd_version);
    if (o->systemd_version < MIN_SYSTEMD || o->systemd_version > 999)
        return fail(c, "systemd_version", v, "is outside 219..999");
    snprintf(v, sizeof(v), "%lu", o->timeout_stop_sec);
    if (o->timeout_stop_sec != 0 && o->timeout_stop_sec <= o->shutdown_time)
        return fail(c, "timeout_stop_sec", v, "is not longer than shutdown_time");
    if (strcmp(o->crash_dump, "state") == 0 && !strlist_contains(&o->dirs, "state"))
        return fail(c, "crash_dump", o->crash_dump, "needs state in dirs");
    if (o->private_network && strcmp(o->distribution, "none") != 0)
        return fail(c, "private_network", "yes", "leaves no network for distribution");
    if (o->dynamic_user && o->systemd_version < 235)
        return fail(c, "dynamic_user", "yes", "needs systemd 235 for its state directories");
    snprintf(v, sizeof(v), "%lu", o->dist_port_max);
    if (o->dist_port_max < o->dist_port_min || o->dist_port_max > 65535)
        return fail(c, "dist_port_max", v, "is not a port at or above dist_port_min");
    if (o->umask[0] != '0' || strlen(o->umask) != 4 || strspn(o->umask, "01234567") != 4)
        return fail(c, "umask", o->umask, "is not a four-digit octal umask such as 0077");
    if (strcmp(o->reload, "sighup") == 0 && strcmp(o->service_type, "notify") != 0)
        return fail(c, "reload", o->reload, "needs service_type = notify to report the reload");
    if (o->cookie_file[0] != '\0' && path_problem(o->cookie_file) != NULL)
        return fail(c, "cookie_file", o->cookie_file, path_problem(o->cookie_file));
    return 0;
}

/* systemctl reload as SIGHUP, answered by RELOADING=1 ... READY=1 from the app: from 253 the
 * manager sends the signal itself and waits (Type=notify-reload); before, ExecReload= sends it
 * and the notifications still mark the reload. */
static const char *build_reload(struct ctx *c)
{
    if (strcmp(c->o->reload, "sighup") != 0)
        return "notify";
    if (c->m->systemd_version >= 253)
        return "notify-reload";
    add(c, UF_SERVICE, SEC_SERVICE, "ExecReload", "/bin/kill -HUP $MAINPID",
        "reload = sighup; Type=notify-reload needs systemd 253");
    return "notify";
}

static void build_process(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    bool notify = strcmp(o->service_type, "notify") == 0;
    const char *type = notify ? build_reload(c) : o->service_type;
    add(c, UF_SERVICE, SEC_SERVICE, "Type",
        notify || c->m->systemd_version >= 240 ? type : "simple", "service_type");
    if (notify) {
        add(c, UF_SERVICE, SEC_SERVICE, "NotifyAccess", "main",
            "only the BEAM, which the start script execs into, may notify");
        if (o->watchdog_sec > 0)
            addf(c, SEC_SERVICE, "WatchdogSec", "watchdog_sec", false, o->watchdog_sec);
    }
    addf(c, SEC_SERVICE, "TimeoutStartSec", "timeout_start_sec", false, o->timeout_start_sec);
    addf(c, SEC_SERVICE, "TimeoutStopSec", "longer than the VM's -shutdown_time", false,
         o->timeout_stop_sec ? o->timeout_stop_sec : o->shutdown_time + 5);
    add(c, UF_SERVICE, SEC_SERVICE, "KillMode", "mixed",
        "SIGTERM to the BEAM only, then SIGKILL to what is left of its ports");
    add(c, UF_SERVICE, SEC_SERVICE, "KillSignal", "SIGTERM",
        "the BEAM stops cleanly on SIGTERM; bin/app stop would need distribution");
    add(c, UF_SERVICE, SEC_SERVICE, "Restart", o->restart, "restart");
    addf(c, SEC_SERVICE, "RestartSec", "restart_sec", false, o->restart_sec);
    addf(c, SEC_SERVICE, "LimitNOFILE", "the BEAM keeps the 1024 soft limit otherwise", false,
         o->limit_nofile);
    add(c, UF_SERVICE, SEC_SERVICE, "LimitCORE", "0", "no core files of the whole VM");
    add(c, UF_SERVICE, SEC_SERVICE, "UMask", o->umask, "umask");
    add_raw(c, SEC_SERVICE, "SyslogIdentifier", c->n.syslog, "syslog_identifier");
    add_raw(c, SEC_SERVICE, "WorkingDirectory", c->n.working, "working_dir");
    add(c, UF_SERVICE, SEC_INSTALL, "WantedBy", "multi-user.target", "started at boot");
}

static void build_identity(struct ctx *c)
{
    if (c->o->dynamic_user) {
        add(c, UF_SERVICE, SEC_SERVICE, "DynamicUser", "yes", "dynamic_user");
        add(c, UF_SERVICE, SEC_SERVICE, "User", c->n.user, "name of the dynamic user");
        return;
    }
    add(c, UF_SERVICE, SEC_SERVICE, "User", c->n.user, "app_user, created by sysusers.d");
    add(c, UF_SERVICE, SEC_SERVICE, "Group", c->n.group, "app_group");
}

enum { P_STRICT = 1, P_STANDARD = 2 };

/* Why an option opens a hardening directive, or NULL when it stays. */
enum opener { OPEN_NEVER, OPEN_OS_MON, OPEN_JIT_PERF, OPEN_BIND_CAPS };

/* The profiles. Measured with OTP 25 under systemd 252: the JIT double-maps a memfd and so
 * survives MemoryDenyWriteExecute=; the BEAM needs memfd_create (no ~@ipc), AF_NETLINK for
 * inet:getifaddrs, and AF_INET/AF_INET6 to listen. */
static const struct hardening {
    const char *key, *value;
    unsigned profiles;
    enum opener opener;
} HARDENING[] = {
    {"NoNewPrivileges", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectSystem", "strict", P_STRICT, OPEN_NEVER},
    {"ProtectSystem", "full", P_STANDARD, OPEN_NEVER},
    {"ProtectHome", "yes", P_STRICT, OPEN_NEVER},
    {"ProtectHome", "read-only", P_STANDARD, OPEN_NEVER},
    {"PrivateTmp", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"PrivateDevices", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"PrivateUsers", "yes", P_STRICT, OPEN_BIND_CAPS},
    {"PrivateIPC", "yes", P_STRICT, OPEN_NEVER},
    {"PrivateMounts", "yes", P_STRICT, OPEN_NEVER},
    {"ProtectKernelTunables", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectKernelModules", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectKernelLogs", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectControlGroups", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectClock", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectHostname", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"ProtectProc", "invisible", P_STRICT, OPEN_NEVER},
    {"ProcSubset", "pid", P_STRICT, OPEN_OS_MON},
    {"RestrictNamespaces", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"RestrictRealtime", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"RestrictSUIDSGID", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"LockPersonality", "yes", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"MemoryDenyWriteExecute", "yes", P_STRICT | P_STANDARD, OPEN_JIT_PERF},
    {"RemoveIPC", "yes", P_STRICT, OPEN_NEVER},
    {"KeyringMode", "private", P_STRICT, OPEN_NEVER},
    {"DevicePolicy", "closed", P_STRICT, OPEN_NEVER},
    {"SystemCallArchitectures", "native", P_STRICT | P_STANDARD, OPEN_NEVER},
    {"SystemCallFilter", "@system-service", P_STRICT, OPEN_NEVER},
    {"SystemCallFilter", "~@privileged @resources", P_STRICT, OPEN_NEVER},
    {"SystemCallErrorNumber", "EPERM", P_STRICT, OPEN_NEVER},
    {"CapabilityBoundingSet", "", P_STRICT, OPEN_BIND_CAPS},
    {"RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6 AF_NETLINK", P_STRICT | P_STANDARD,
     OPEN_NEVER},
};

static const char *opened_by(const struct ctx *c, enum opener op)
{
    switch (op) {
    case OPEN_OS_MON:
        return c->o->os_mon ? "os_mon reads /proc beyond the service's own processes" : NULL;
    case OPEN_JIT_PERF:
        return c->o->jit_perf ? "jit_perf: +JPperf true writes executable perf maps" : NULL;
    case OPEN_BIND_CAPS:
        return c->bind_caps ? "a listen port below 1024 needs CAP_NET_BIND_SERVICE in the "
                              "host user namespace"
                            : NULL;
    default:
        return NULL;
    }
}

static unsigned profile_bit(const char *name)
{
    return strcmp(name, "strict") == 0 ? P_STRICT : strcmp(name, "standard") == 0 ? P_STANDARD : 0;
}

static void build_hardening(struct ctx *c)
{
    unsigned bit = profile_bit(c->o->hardening);
    for (size_t i = 0; i < ARRAY_SIZE(HARDENING); i++) {
        const struct hardening *h = &HARDENING[i];
        const char *why = opened_by(c, h->opener);
        if ((h->profiles & bit) == 0)
            continue;
        if (why != NULL)
            drop(c, UF_SERVICE, SEC_SERVICE, h->key, h->value, why);
        else
            add(c, UF_SERVICE, SEC_SERVICE, h->key, h->value, c->o->hardening);
    }
    if (c->bind_caps) {
        const char *cap = "CAP_NET_BIND_SERVICE", *why = "listen port below 1024";
        add(c, UF_SERVICE, SEC_SERVICE, "AmbientCapabilities", cap, why);
        if (bit == P_STRICT)
            add(c, UF_SERVICE, SEC_SERVICE, "CapabilityBoundingSet", cap, why);
    }
}

static int parse_ports(struct ctx *c, unsigned long *ret_ports, size_t *ret_n)
{
    const struct strlist *l = &c->o->listen_ports;
    *ret_n = 0;
    for (size_t i = 0; i < l->n && i < 64; i++) {
        char *end = NULL;
        unsigned long p = strtoul(l->v[i], &end, 10);
        if (l->v[i][0] < '0' || l->v[i][0] > '9' || *end != '\0' || p == 0 || p > 65535)
            return fail(c, "listen_ports", l->v[i], "is not a TCP port 1..65535");
        ret_ports[(*ret_n)++] = p;
        if (p < 1024)
            c->bind_caps = true;
    }
    if (l->n > 64)
        return fail(c, "listen_ports", l->v[64], "is beyond 64 ports");
    return 0;
}

static int build_ip_allow(struct ctx *c)
{
    static const char *const words[] = {"any", "localhost", "link-local", "multicast", NULL};
    const struct strlist *l = &c->o->ip_address_allow;
    for (size_t i = 0; i < l->n; i++) {
        const char *a = l->v[i];
        if (!one_of(a, words) &&
            (a[0] == '\0' || strspn(a, "0123456789abcdefABCDEF:./") != strlen(a)))
            return fail(c, "ip_address_allow", a, "is not an address, prefix or keyword");
    }
    if (l->n == 0)
        return 0;
    add(c, UF_SERVICE, SEC_SERVICE, "IPAddressDeny", "any", "ip_address_allow");
    for (size_t i = 0; i < l->n; i++)
        add(c, UF_SERVICE, SEC_SERVICE, "IPAddressAllow", l->v[i], "ip_address_allow");
    return 0;
}

/* fixed_ports pins the distribution ports and allows binding only those, epmd's and the
 * listen ports. */
static void build_socket_bind(struct ctx *c, const unsigned long *ports, size_t n)
{
    const struct gen_opts *o = c->o;
    const char *why = "distribution = fixed_ports";
    struct buf v = {0};
    buf_printf(&v, "tcp:%lu-%lu", o->dist_port_min, o->dist_port_max);
    add(c, UF_SERVICE, SEC_SERVICE, "SocketBindAllow", buf_str(&v), why);
    add(c, UF_SERVICE, SEC_SERVICE, "SocketBindAllow", "tcp:4369", "epmd, started by the VM");
    for (size_t i = 0; i < n; i++) {
        buf_free(&v);
        buf_printf(&v, "tcp:%lu", ports[i]);
        add(c, UF_SERVICE, SEC_SERVICE, "SocketBindAllow", buf_str(&v), "listen_ports");
    }
    add(c, UF_SERVICE, SEC_SERVICE, "SocketBindDeny", "any", why);
    buf_free(&v);
}

static int build_network(struct ctx *c)
{
    unsigned long ports[64];
    size_t n = 0;
    int r = parse_ports(c, ports, &n);
    if (r < 0)
        return r;
    if (c->o->private_network)
        add(c, UF_SERVICE, SEC_SERVICE, "PrivateNetwork", "yes", "private_network");
    if (strcmp(c->o->distribution, "fixed_ports") == 0)
        build_socket_bind(c, ports, n);
    if (c->o->cookie_file[0] != '\0') {
        struct buf v = {0};
        buf_add(&v, "erlang-cookie:");
        spec_escape(&v, c->o->cookie_file, false);
        add(c, UF_SERVICE, SEC_SERVICE, "LoadCredential", buf_str(&v),
            "cookie_file; read into RELEASE_COOKIE by the ExecStart= wrapper");
        buf_free(&v);
    }
    return build_ip_allow(c);
}

static int build_paths(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    int r = build_env_files(c);
    if (r == 0)
        r = add_path_list(c, "read_write_paths", "ReadWritePaths", &o->read_write_paths);
    if (r == 0)
        r = add_path_list(c, "read_only_paths", "ReadOnlyPaths", &o->read_only_paths);
    if (r == 0)
        r = add_path_list(c, "inaccessible_paths", "InaccessiblePaths", &o->inaccessible_paths);
    if (r < 0 || !o->chroot)
        return r;
    /* An empty read-only root with only what the BEAM needs bound back in. */
    add(c, UF_SERVICE, SEC_SERVICE, "TemporaryFileSystem", "/:ro", "chroot");
    static const char *const sys[] = {"/usr",
                                      "-/lib",
                                      "-/lib64",
                                      "-/bin",
                                      "-/etc/ssl",
                                      "-/etc/resolv.conf",
                                      "-/etc/hosts",
                                      "-/etc/nsswitch.conf",
                                      "-/etc/localtime",
                                      "-/etc/passwd",
                                      "-/etc/group"};
    for (size_t i = 0; i < ARRAY_SIZE(sys); i++)
        add(c, UF_SERVICE, SEC_SERVICE, "BindReadOnlyPaths", sys[i], "chroot");
    struct strlist deploy = {0};
    strlist_push(&deploy, c->n.deploy);
    r = add_path_list(c, "deploy_dir", "BindReadOnlyPaths", &deploy);
    strlist_free(&deploy);
    return r;
}

/* tmpfiles.d and sysusers.d split fields on spaces, unquote and expand specifiers. */
static void tmpfiles_path(struct buf *out, const char *path)
{
    struct buf v = {0};
    buf_add(&v, "");
    spec_escape(&v, path, false);
    quote_word(out, buf_str(&v), false);
    buf_free(&v);
}

static void build_companion_files(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    struct unit_model *m = c->m;
    if (!o->dynamic_user) {
        if (strcmp(c->n.group, c->n.user) != 0)
            buf_printf(&m->sysusers, "g %s -\n", c->n.group);
        /* "-:group" picks any free UID and the named primary group. */
        buf_printf(&m->sysusers, "u %s %s%s \"%s release\" - -\n", c->n.user,
                   strcmp(c->n.group, c->n.user) != 0 ? "-:" : "-",
                   strcmp(c->n.group, c->n.user) != 0 ? c->n.group : "", c->n.svc);
    }
    struct buf t = {0};
    buf_add(&t, "d ");
    tmpfiles_path(&t, c->n.deploy);
    buf_printf(&t, " %s %s %s -\n", o->dynamic_user ? "0755" : "0750", c->n.deploy_user,
               c->n.deploy_group);
    if (strcmp(o->restart_method, "systemctl") != 0) {
        struct buf flags = {0};
        buf_printf(&flags, "%s/flags", c->n.deploy);
        buf_add(&t, "d ");
        tmpfiles_path(&t, buf_str(&flags));
        buf_printf(&t, " 0770 %s %s -\n", c->n.deploy_user, c->n.deploy_group);
        buf_free(&flags);
    }
    /* Legacy dir lines from build_dirs() come after the deploy dir. */
    buf_add(&t, buf_str(&m->tmpfiles));
    buf_free(&m->tmpfiles);
    m->tmpfiles = t;
}

static void build_restart_units(struct ctx *c)
{
    struct buf v = {0}, svc = {0};
    buf_printf(&svc, "%s.service", c->n.svc);
    add(c, UF_RESTART_PATH, SEC_UNIT, "Description", "Restart on deploy flag", "systemd_flag");
    buf_add(&v, "");
    spec_escape(&v, c->n.deploy, false);
    buf_add(&v, "/flags/restart.flag");
    add(c, UF_RESTART_PATH, SEC_PATH, "PathModified", buf_str(&v), "systemd_flag");
    add(c, UF_RESTART_PATH, SEC_INSTALL, "WantedBy", "multi-user.target", "systemd_flag");
    add(c, UF_RESTART_SERVICE, SEC_UNIT, "Description", "Restart after deploy", "systemd_flag");
    add(c, UF_RESTART_SERVICE, SEC_SERVICE, "Type", "oneshot", "systemd_flag");
    buf_free(&v);
    buf_printf(&v, "/bin/systemctl restart %s", buf_str(&svc));
    add(c, UF_RESTART_SERVICE, SEC_SERVICE, "ExecStart", buf_str(&v), "systemd_flag");
    buf_free(&v);
    buf_free(&svc);
    c->m->has_file[UF_RESTART_PATH] = c->m->has_file[UF_RESTART_SERVICE] = true;
}

static void runtime_env_identity(struct ctx *c)
{
    /* Units naming the same dynamic user share its UID, so the service can read the file. */
    if (c->o->dynamic_user)
        add(c, UF_RUNTIME_ENV, SEC_SERVICE, "DynamicUser", "yes", "same user as the service");
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "User", c->n.user, "same user as the service");
    if (!c->o->dynamic_user)
        add(c, UF_RUNTIME_ENV, SEC_SERVICE, "Group", c->n.group, "same group as the service");
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "UMask", "0077", "the file may hold secrets");
}

static void build_runtime_env_unit(struct ctx *c)
{
    const char *why = "runtime_environment_service";
    struct buf dir = {0}, file = {0}, cmd = {0}, esc = {0};
    buf_printf(&dir, "%s-runtime-environment", c->n.svc);
    buf_printf(&file, "%%t/%s/environment", buf_str(&dir));
    add(c, UF_RUNTIME_ENV, SEC_UNIT, "Description", "Runtime environment", why);
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "Type", "oneshot", why);
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "RemainAfterExit", "yes", why);
    runtime_env_identity(c);
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "RuntimeDirectory", buf_str(&dir), why);
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "RuntimeDirectoryPreserve", "yes", "read by the service");
    buf_add(&esc, "");
    spec_escape(&esc, c->n.env_script, true);
    quote_word(&cmd, buf_str(&esc), false);
    buf_printf(&cmd, " %s", buf_str(&file));
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "ExecStart", buf_str(&cmd),
        "runtime_environment_service_script, given the file to write");
    buf_free(&esc);
    buf_printf(&esc, "-%s", buf_str(&file));
    add(c, UF_SERVICE, SEC_SERVICE, "EnvironmentFile", buf_str(&esc), why);
    buf_free(&dir);
    buf_free(&file);
    buf_free(&cmd);
    buf_free(&esc);
    c->m->has_file[UF_RUNTIME_ENV] = true;
}

/* Expected `systemd-analyze security --offline=true` exposure in tenths, as measured with
 * systemd 252 for each profile and each option that changes the assessed settings. Only
 * targets from 248 on get every directive of the profiles; older ones return -1 (unknown). */
static int exposure_tenths(const struct ctx *c)
{
    const struct gen_opts *o = c->o;
    bool ip = o->ip_address_allow.n > 0, pn = o->private_network;
    if (c->m->systemd_version < 248)
        return -1;
    switch (profile_bit(o->hardening)) {
    case P_STRICT:
        return 11 + (c->bind_caps ? 4 : 0) - (pn ? 4 : 0) - (ip ? 1 : 0) - (pn && ip ? 1 : 0);
    case P_STANDARD:
        return 51 + (c->bind_caps ? 1 : 0) - (pn ? 4 : 0) - (ip ? 1 : 0);
    default:
        return 92 + (c->bind_caps ? 1 : 0) - (pn ? 5 : 0) - (ip ? 2 : 0) -
               (o->dynamic_user ? 8 : 0);
    }
}

static int build_all(struct ctx *c)
{
    int r = resolve_names(c);
    if (r == 0)
        r = resolve_paths(c);
    if (r == 0)
        r = check_combinations(c);
    if (r == 0)
        r = build_unit_section(c);
    if (r < 0)
        return r;
    start_limit(c);
    r = build_exec_pre(c);
    if (r == 0)
        r = build_exec_start(c);
    if (r < 0)
        return r;
    build_process(c);
    build_identity(c);
    r = build_dirs(c);
    if (r == 0)
        r = build_env(c);
    if (r == 0)
        r = build_paths(c);
    if (r == 0)
        r = build_network(c);
    return r;
}

int unit_model_build(const struct gen_opts *o, struct unit_model *m, struct buf *err)
{
    struct ctx c = {.o = o, .m = m, .err = err};
    *m = (struct unit_model){.systemd_version = (unsigned)o->systemd_version};
    m->has_file[UF_SERVICE] = true;
    int r = build_all(&c);
    if (r == 0) {
        build_hardening(&c);
        if (strcmp(o->restart_method, "systemd_flag") == 0)
            build_restart_units(&c);
        if (o->runtime_environment_service)
            build_runtime_env_unit(&c);
        build_companion_files(&c);
        m->service = xstrdup(c.n.svc);
        m->app_name = xstrdup(c.n.app);
        m->version = xstrdup(o->version);
        m->hardening = xstrdup(o->hardening);
        m->exposure_tenths = exposure_tenths(&c);
    }
    for (size_t i = 0; i < c.nderived; i++)
        free(c.derived[i]);
    if (r < 0)
        unit_model_free(m);
    return r;
}

void unit_model_free(struct unit_model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->d[i].value);
        free(m->d[i].reason);
    }
    free(m->d);
    free(m->service);
    free(m->app_name);
    free(m->version);
    free(m->hardening);
    buf_free(&m->sysusers);
    buf_free(&m->tmpfiles);
    *m = (struct unit_model){0};
}
