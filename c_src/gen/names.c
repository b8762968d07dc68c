/* Names, paths, dirs and @{key} references: what the release and service are called and where
 * they live, derived from other keys where not given, validated once. */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool app_name_valid(const char *s)
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
                              {"working_dir", c->n.working}};
    for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
        const char *problem = path_problem(paths[i][1]);
        if (problem != NULL)
            return fail(c, paths[i][0], paths[i][1], problem);
    }
    struct buf script = {0};
    int r =
        path_value(c, "runtime_environment_service_script", c->n.env_script, false, true, &script);
    buf_free(&script);
    if (r < 0)
        return r;
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

int resolve_names(struct ctx *c)
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

int resolve_paths(struct ctx *c)
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
    c->env_service =
        o->runtime_environment_service || (gen_opt_given(o, "runtime_environment_service_script") &&
                                           !gen_opt_given(o, "runtime_environment_service"));
    c->mix_layout = strcmp(o->layout, "mix_systemd") == 0;
    struct buf d = {0};
    buf_printf(&d, "%s release", n->app);
    n->desc = derive(c, o->description, buf_str(&d));
    buf_free(&d);
    n->syslog = derive(c, o->syslog_identifier, n->svc);
    return check_paths(c);
}

/* The `dirs` kinds: systemd manages each in its own base directory where the target knows the
 * directive (see sdver.c); older targets get a tmpfiles.d line for the legacy path instead. */
static const struct dir_kind {
    const char *name, *directive, *mode_directive, *specifier, *legacy, *env;
    const char *mode_key; /**< the option holding the mode */
} DIRS[] = {
    {"runtime", "RuntimeDirectory", "RuntimeDirectoryMode", "%t", "/run", "RUNTIME_DIR",
     "runtime_directory_mode"},
    {"configuration", "ConfigurationDirectory", "ConfigurationDirectoryMode", "%E", "/etc",
     "CONFIGURATION_DIR", "configuration_directory_mode"},
    {"state", "StateDirectory", "StateDirectoryMode", "%S", "/var/lib", "STATE_DIR",
     "state_directory_mode"},
    {"cache", "CacheDirectory", "CacheDirectoryMode", "%C", "/var/cache", "CACHE_DIR",
     "cache_directory_mode"},
    {"logs", "LogsDirectory", "LogsDirectoryMode", "%L", "/var/log", "LOGS_DIR",
     "logs_directory_mode"},
    {"tmp", NULL, NULL, NULL, "/var/tmp", "TMP_DIR", NULL},
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
    return k->directive != NULL && knows(c, k->directive, NULL);
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

void dir_path(const struct ctx *c, const char *kind, struct buf *out)
{
    dir_value(c, dir_kind(kind, strlen(kind)), out);
}

/* How a reference is written: escaped for layer 1 (with `$` for command lines), or plain,
 * with dirs as their legacy path, for checking what the value will be. */
enum ref_mode { REF_UNIT, REF_COMMAND, REF_PLAIN };

static void ref_text(struct buf *out, const char *s, enum ref_mode mode)
{
    if (mode == REF_PLAIN)
        buf_add(out, s);
    else
        spec_escape(out, s, mode == REF_COMMAND);
}

/* Appends the value of reference `@{key}` (key of `len` bytes) in `mode`. */
static int expand_ref(struct ctx *c, const char *key, size_t len, enum ref_mode mode,
                      struct buf *out)
{
    const char *lit = name_ref(c, key, len);
    if (lit != NULL) {
        ref_text(out, lit, mode);
        return 0;
    }
    const struct dir_kind *k =
        len > 4 && strncmp(key + len - 4, "_dir", 4) == 0 ? dir_kind(key, len - 4) : NULL;
    if (k == NULL)
        return -ENOENT;
    if (!has_dir(c, k->name))
        return -ENXIO;
    if (mode != REF_PLAIN)
        dir_value(c, k, out);
    else if (strcmp(k->name, "tmp") == 0)
        buf_add(out, k->legacy);
    else
        buf_printf(out, "%s/%s", k->legacy, c->n.svc);
    return 0;
}

/* Expands `s`; a refusal shows `shown`, the value as the user wrote it. */
static int expand_mode(struct ctx *c, const char *key, const char *shown, const char *s,
                       enum ref_mode mode, struct buf *out)
{
    for (const char *p = s; *p;) {
        if (p[0] == '@' && p[1] == '@' && p[2] == '{') {
            buf_add(out, "@{");
            p += 3;
        } else if (p[0] == '@' && p[1] == '{') {
            const char *end = strchr(p, '}');
            int r = end ? expand_ref(c, p + 2, (size_t)(end - p - 2), mode, out) : -ENOENT;
            if (r < 0)
                return fail(c, key, shown,
                            r == -ENXIO ? "refers to a dir not listed in dirs"
                                        : "has an unknown @{...} reference");
            p = end + 1;
        } else {
            char one[2] = {*p++, '\0'};
            ref_text(out, one, mode);
        }
    }
    return 0;
}

/* Expands `@{key}` references in `s` (`@@{` is a literal `@{`) and escapes the rest. */
int expand_refs(struct ctx *c, const char *key, const char *s, bool dollar, struct buf *out)
{
    return expand_mode(c, key, s, s, dollar ? REF_COMMAND : REF_UNIT, out);
}

/* A path-valued setting: `@{key}` references expanded, then checked as an absolute path; an
 * optional `-` in front (when `dash`) is kept. The value goes to `out` escaped for layer 1. */
int path_value(struct ctx *c, const char *key, const char *raw, bool dash, bool dollar,
               struct buf *out)
{
    bool minus = dash && raw[0] == '-';
    struct buf plain = {0};
    buf_add(&plain, "");
    int r = expand_mode(c, key, raw, raw + minus, REF_PLAIN, &plain);
    const char *problem = r == 0 ? path_problem(buf_str(&plain)) : NULL;
    if (problem != NULL)
        r = fail(c, key, raw, problem);
    buf_free(&plain);
    if (r < 0)
        return r;
    buf_add(out, minus ? "-" : "");
    return expand_mode(c, key, raw, raw + minus, dollar ? REF_COMMAND : REF_UNIT, out);
}

bool has_dir(const struct ctx *c, const char *kind)
{
    return strlist_contains(&c->dirs, kind);
}

static void dir_remove(struct strlist *l, const char *kind)
{
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->v[i], kind) != 0)
            continue;
        free(l->v[i]);
        l->v[i] = l->v[--l->n];
        return;
    }
}

/* The dirs: the defaults unless an empty `dirs` removed them all, plus each kind `dirs`
 * names, minus each -KIND; crash_dump = state brings the state dir. */
int resolve_dirs(struct ctx *c)
{
    const struct strlist *l = &c->o->dirs;
    bool none = gen_opt_given(c->o, "dirs") && l->n == 0;
    for (size_t i = 0; !none && GEN_DEFAULT_DIRS[i] != NULL; i++)
        strlist_push(&c->dirs, GEN_DEFAULT_DIRS[i]);
    for (size_t i = 0; i < l->n; i++) {
        if (l->v[i][0] == '-')
            dir_remove(&c->dirs, l->v[i] + 1);
        else if (!has_dir(c, l->v[i]))
            strlist_push(&c->dirs, l->v[i]);
    }
    if (strcmp(c->o->crash_dump, "state") != 0 || has_dir(c, "state"))
        return 0;
    if (strlist_contains(l, "-state"))
        return fail(c, "crash_dump", c->o->crash_dump,
                    "writes into the state dir, which dirs removes (-state)");
    strlist_push(&c->dirs, "state");
    note(c, "dirs", "state added: crash_dump = state writes the crash dump into the state dir",
         false);
    return 0;
}

/* One listed dir: the directive and its mode, or a tmpfiles.d line for older targets. */
static void build_dir(struct ctx *c, const struct dir_kind *k)
{
    const struct opt_def *def = gen_opt_find(k->mode_key);
    unsigned long mode = *(const unsigned long *)(const void *)((const char *)c->o + def->offset);
    if (!managed_dirs(c, k)) {
        buf_printf(&c->m->tmpfiles, "d %s/%s %04lo %s %s -\n", k->legacy, c->n.svc, mode, c->n.user,
                   c->n.group);
        return;
    }
    add(c, UF_SERVICE, SEC_SERVICE, k->directive, c->n.svc, "dirs");
    addf(c, SEC_SERVICE, k->mode_directive, "dirs", true, mode);
}

/* A mode given for a dir that is not listed changes nothing. */
static void note_unused_mode(struct ctx *c, const struct dir_kind *k, bool listed)
{
    struct buf why = {0};
    buf_printf(&why, "%s is not in dirs", k->name);
    note_unused(c, k->mode_key, !listed, buf_str(&why));
    buf_free(&why);
}

int build_dirs(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    for (size_t i = 0; i < ARRAY_SIZE(DIRS); i++) {
        bool listed = has_dir(c, DIRS[i].name);
        if (DIRS[i].mode_key != NULL)
            note_unused_mode(c, &DIRS[i], listed);
        if (listed && DIRS[i].directive != NULL)
            build_dir(c, &DIRS[i]);
    }
    note_unused(c, "runtime_directory_preserve", !has_dir(c, "runtime"), "runtime is not in dirs");
    if (!has_dir(c, "runtime"))
        return 0;
    /* The environment file in the runtime dir must outlive a stop of the service: the oneshot
     * unit that wrote it stays active and does not write it again. */
    bool shared = c->env_service && c->mix_layout;
    if (shared && gen_opt_given(o, "runtime_directory_preserve") &&
        strcmp(o->runtime_directory_preserve, "yes") != 0)
        return fail(c, "runtime_directory_preserve", o->runtime_directory_preserve,
                    "would remove the runtime environment file, which layout = mix_systemd "
                    "keeps in the runtime dir, when the service stops");
    if (shared)
        add(c, UF_SERVICE, SEC_SERVICE, "RuntimeDirectoryPreserve", "yes",
            "the runtime environment file lives in the runtime dir (layout = mix_systemd)");
    else
        add(c, UF_SERVICE, SEC_SERVICE, "RuntimeDirectoryPreserve", o->runtime_directory_preserve,
            "runtime_directory_preserve");
    return 0;
}

/* Every listed dir's path in the environment, the runtime dir also as RELEASE_TMP. */
int build_dir_env(struct ctx *c)
{
    for (size_t i = 0; i < ARRAY_SIZE(DIRS); i++) {
        if (!has_dir(c, DIRS[i].name))
            continue;
        struct buf v = {0};
        dir_value(c, &DIRS[i], &v);
        set_env(c, DIRS[i].env, buf_str(&v), "dirs");
        if (strcmp(DIRS[i].name, "runtime") == 0)
            set_env(c, "RELEASE_TMP", buf_str(&v), "release scratch files in the runtime dir");
        buf_free(&v);
    }
    return 0;
}
