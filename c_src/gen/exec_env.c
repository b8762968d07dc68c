/* Command lines (ExecStart=, ExecStartPre=) and the environment (Environment=,
 * EnvironmentFile=): the values users write most freely, escaped for each context. */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A command setting: the directive written, the key and value named in errors. */
struct command {
    enum unit_file file;
    const char *directive, *key, *shown, *reason;
};

/* Escapes the words of a command for ExecStart=-style settings into `out`. The first word is
 * the executable and must be absolute once references are expanded; systemd expands $VAR in
 * the arguments only, so only they get `$` escaped as `$$`. */
static int command_words(struct ctx *c, const struct command *cmd, const struct strlist *words,
                         struct buf *out)
{
    for (size_t i = 0; i < words->n; i++) {
        const char *problem = text_problem(words->v[i]);
        if (problem != NULL)
            return fail(c, cmd->key, cmd->shown, problem);
        struct buf w = {0};
        buf_add(&w, "");
        int r = expand_refs(c, cmd->key, words->v[i], i > 0, &w);
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

/* `-` ignores failure; `+` runs with full privileges; `!`/`!!` skip the user change (each from
 * the version in sdver.c). Returns the number of prefix bytes or -EINVAL. */
static int exec_prefix(struct ctx *c, const struct command *cmd, const char *raw)
{
    size_t n = strspn(raw, "-+!");
    bool too_new = false;
    for (size_t i = 0; i < n; i++) {
        bool bang2 = raw[i] == '!' && i > 0 && raw[i - 1] == '!' && (i < 2 || raw[i - 2] != '!');
        if (memchr(raw, raw[i], i) != NULL && !bang2)
            return fail(c, cmd->key, cmd->shown, "repeats a command prefix");
        if ((raw[i] == '!' && !has_feature(c, SD_EXEC_PREFIX_BANG)) ||
            (raw[i] == '+' && !has_feature(c, SD_EXEC_PREFIX_PLUS)))
            too_new = true;
    }
    if (too_new)
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

int build_exec_start(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    bool relx = strcmp(o->release_tool, "relx") == 0;
    const char *start = o->start_command ? o->start_command : relx ? "foreground" : "start";
    if (strncmp(start, "daemon", 6) == 0 || !app_name_valid(start))
        return fail(c, "start_command", start,
                    "is not a foreground command (daemon forks away from Type=notify)");
    if (relx && strcmp(start, "start") == 0)
        return fail(c, "start_command", start,
                    "is relx's deprecated daemon mode, which forks away from Type=notify; use "
                    "foreground");
    if (relx)
        note(c, "release_tool",
             "relx: -sname/-name and -setcookie in the release's vm.args turn distribution on "
             "whatever distribution says; RELEASE_DISTRIBUTION and RELEASE_TMP only reach mix "
             "releases",
             false);
    struct buf raw = {0};
    struct buf script = {0};
    buf_printf(&script, "%s/bin/%s", c->n.current, c->n.release);
    if (o->exec_start_wrap[0] != '\0')
        buf_printf(&raw, "%s ", o->exec_start_wrap);
    shell_quote(&raw, buf_str(&script));
    buf_printf(&raw, " %s", start);
    const struct command cmd = {UF_SERVICE, "ExecStart", "exec_start_wrap", o->exec_start_wrap,
                                "start script in the foreground; it execs into the BEAM"};
    int r = add_command(c, &cmd, buf_str(&raw), NULL);
    buf_free(&raw);
    buf_free(&script);
    return r;
}

int build_exec_pre(struct ctx *c)
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
void set_env(struct ctx *c, const char *name, const char *value, const char *reason)
{
    struct buf w = {0};
    struct buf q = {0};
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

void set_env_literal(struct ctx *c, const char *name, const char *value, const char *reason)
{
    struct buf v = {0};
    buf_add(&v, "");
    spec_escape(&v, value, false);
    set_env(c, name, buf_str(&v), reason);
    buf_free(&v);
}

/* Control bytes the target's manager accepts in an environment value; they are written as
 * C escapes inside the quoted Environment= word, which systemd unquotes. */
static unsigned env_allowed(const struct ctx *c)
{
    return (has_feature(c, SD_ENV_TAB) ? TEXT_TAB : 0) |
           (has_feature(c, SD_ENV_NEWLINE) ? TEXT_NEWLINE : 0) |
           (has_feature(c, SD_ENV_CONTROL) ? TEXT_CONTROL : 0);
}

/* A control byte newer targets would carry: say from which version. */
static int refuse_env_text(struct ctx *c, const char *raw, const char *problem)
{
    if (text_problem_allowing(raw, TEXT_TAB | TEXT_NEWLINE | TEXT_CONTROL) != NULL)
        return fail(c, "env_vars", raw, problem);
    unsigned v = text_problem_allowing(raw, TEXT_TAB | TEXT_NEWLINE) == NULL
                     ? feature_since(SD_ENV_NEWLINE)
                     : feature_since(SD_ENV_CONTROL);
    struct buf why = {0};
    buf_printf(&why, "%s, which environment values carry from systemd %u", problem, v);
    int r = fail(c, "env_vars", raw, buf_str(&why));
    buf_free(&why);
    return r;
}

/* Environment= values are world-readable (systemctl show): a name that looks like a secret's
 * gets a warning pointing to credentials. KEY counts as a word of the name, the others
 * anywhere in it. */
static void warn_secret(struct ctx *c, const char *name, const char *value)
{
    static const char *const anywhere[] = {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "COOKIE"};
    char up[256];
    size_t n = 0;
    for (; n < sizeof(up) - 1 && name[n]; n++)
        up[n] = (char)(name[n] >= 'a' && name[n] <= 'z' ? name[n] - 32 : name[n]);
    up[n] = '\0';
    bool secret = false;
    for (size_t i = 0; i < ARRAY_SIZE(anywhere); i++)
        secret |= strstr(up, anywhere[i]) != NULL;
    for (const char *k = strstr(up, "KEY"); k != NULL && !secret; k = strstr(k + 1, "KEY"))
        secret = (k == up || k[-1] == '_') && (k[3] == '\0' || k[3] == '_');
    if (!secret || value[0] == '\0')
        return;
    struct buf w = {0};
    buf_printf(&w,
               "%s looks like a secret, and Environment= values are readable by every user "
               "(systemctl show): give it as credentials = %s=/path/to/file and read "
               "$CREDENTIALS_DIRECTORY/%s",
               name, name, name);
    note(c, "env_vars", buf_str(&w), true);
    buf_free(&w);
}

/* One env_vars entry, NAME=value, where value may hold @{key} references. */
static int user_env_one(struct ctx *c, const char *raw)
{
    const char *eq = strchr(raw, '=');
    const char *problem = text_problem_allowing(raw, env_allowed(c));
    if (problem != NULL)
        return refuse_env_text(c, raw, problem);
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
    if (r == 0) {
        warn_secret(c, name, eq + 1);
        set_env(c, name, buf_str(&v), "env_vars");
    }
    buf_free(&v);
    free(name);
    return r;
}

static int user_env(struct ctx *c)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < c->o->env_vars.n; i++)
        r = user_env_one(c, c->o->env_vars.v[i]);
    return r;
}

static void erl_flags(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    struct buf f = {0};
    /* init:stop() must finish before systemd's TimeoutStopSec= ends in SIGKILL. */
    buf_printf(&f, "-shutdown_time %lu", o->shutdown_time * 1000);
    if (dist_on(c))
        build_dist_env(c, &f);
    else
        set_env_literal(c, "RELEASE_DISTRIBUTION", "none", "distribution");
    set_env_literal(c, "ERL_FLAGS", buf_str(&f), "VM shutdown time and distribution flags");
    buf_free(&f);
}

/* EnvironmentFile= is not unquoted: the path goes in raw, with specifiers escaped and @{key}
 * references expanded. */
static int build_env_files(struct ctx *c)
{
    const struct strlist *l = &c->o->env_files;
    for (size_t i = 0; i < l->n; i++) {
        struct buf v = {0};
        int r = path_value(c, "env_files", l->v[i], true, false, &v);
        if (r == 0)
            add(c, UF_SERVICE, SEC_SERVICE, "EnvironmentFile", buf_str(&v), "env_files");
        buf_free(&v);
        if (r < 0)
            return r;
    }
    return 0;
}

static bool credential_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > 255 || (n <= 2 && s[0] == '.' && s[n - 1] == '.'))
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") >= n;
}

/* True when NAME (len bytes) is taken: .erlang.cookie by distribution's cookie_file, or an
 * earlier entry of either list. */
static bool credential_taken(const struct ctx *c, const char *name, size_t len,
                             const struct strlist *l, size_t i)
{
    if (dist_on(c) && len == 14 && strncmp(name, ".erlang.cookie", 14) == 0)
        return true;
    const struct strlist *lists[] = {&c->o->credentials, &c->o->encrypted_credentials};
    for (size_t k = 0; k < 2; k++) {
        size_t n = lists[k] == l ? i : (lists[k] == &c->o->credentials ? lists[k]->n : 0);
        for (size_t j = 0; j < n; j++)
            if (strncmp(lists[k]->v[j], name, len + 1) == 0)
                return true;
    }
    return false;
}

/* credentials / encrypted_credentials: NAME=PATH, each a LoadCredential[Encrypted]=NAME:PATH;
 * the cookie_file one is .erlang.cookie. */
static int build_credential_list(struct ctx *c, const char *key, const struct strlist *l,
                                 const char *directive)
{
    if (l->n > 0 && !knows(c, directive, NULL)) {
        struct buf why = {0};
        buf_printf(&why, "needs %s=, systemd %u or later (systemd_version is %u)", directive,
                   directive_since(directive, NULL), c->m->systemd_version);
        int r = fail(c, key, l->v[0], buf_str(&why));
        buf_free(&why);
        return r;
    }
    for (size_t i = 0; i < l->n; i++) {
        const char *raw = l->v[i];
        const char *eq = strchr(raw, '=');
        size_t len = eq ? (size_t)(eq - raw) : 0;
        if (eq == NULL || !credential_name_valid(raw, len))
            return fail(c, key, raw, "is not NAME=PATH with NAME of [A-Za-z0-9_.-]");
        if (credential_taken(c, raw, len, l, i))
            return fail(c, key, raw, "repeats a credential name");
        struct buf v = {0};
        buf_addn(&v, raw, len + 1);
        v.data[len] = ':';
        int r = path_value(c, key, eq + 1, false, false, &v);
        if (r == 0)
            add(c, UF_SERVICE, SEC_SERVICE, directive, buf_str(&v),
                "credentials; the release reads $CREDENTIALS_DIRECTORY/NAME");
        buf_free(&v);
        if (r < 0)
            return r;
    }
    return 0;
}

static int build_credentials(struct ctx *c)
{
    int r = build_credential_list(c, "credentials", &c->o->credentials, "LoadCredential");
    return r == 0 ? build_credential_list(c, "encrypted_credentials", &c->o->encrypted_credentials,
                                          "LoadCredentialEncrypted")
                  : r;
}

int build_env(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    set_env_literal(c, "LANG", "C.UTF-8", "file names are UTF-8 only with a UTF-8 locale");
    build_dir_env(c);
    erl_flags(c);
    if (strcmp(o->crash_dump, "state") == 0) {
        struct buf v = {0};
        dir_path(c, "state", &v);
        buf_add(&v, "/erl_crash.dump");
        set_env(c, "ERL_CRASH_DUMP", buf_str(&v), "crash_dump = state");
        set_env_literal(c, "ERL_CRASH_DUMP_SECONDS", "30", "crash_dump = state");
        buf_free(&v);
    } else
        set_env_literal(c, "ERL_CRASH_DUMP_SECONDS", "0", "crash_dump = off");
    if (strcmp(o->restart_method, "touch") == 0 && has_dir(c, "runtime")) {
        struct buf v = {0};
        restart_flag(c, &v);
        set_env(c, "RESTART_FLAG", buf_str(&v),
                "restart_method = touch: the service touches it to be restarted");
        buf_free(&v);
    }
    int r = user_env(c);
    if (r == 0)
        r = build_env_files(c);
    return r == 0 ? build_credentials(c) : r;
}
