/* The model core: the build context, adding and dropping directives, refusals, checks across
 * keys, and the build order. The concerns live in names.c, exec_env.c, hardening.c and
 * sections.c (see model_internal.h). */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void unit_file_name(struct buf *out, enum unit_file f, const char *svc)
{
    static const char *const suffix[UF_COUNT] = {
        ".service", "-restart.path", "-restart.service", "-runtime-environment.service",
        ".socket",  "-epmd.socket",  "-epmd.service"};
    buf_printf(out, "%s%s", svc, suffix[f]);
}

void directive_file_name(const struct unit_model *m, const struct directive *d, struct buf *out)
{
    if (d->file == UF_SOCKET && d->part < m->n_sockets)
        buf_add(out, m->sockets[d->part].unit);
    else
        unit_file_name(out, d->file, m->service);
}

bool unit_file_is_service(enum unit_file f)
{
    return f != UF_RESTART_PATH && f != UF_SOCKET && f != UF_EPMD_SOCKET;
}

/* Every given key either shapes the output or is listed in the manifest with the reason it
 * did not: each builder that can leave a key unused says so here. */
void note_unused(struct ctx *c, const char *key, bool unused, const char *reason)
{
    struct unit_model *m = c->m;
    if (!unused || !gen_opt_given(c->o, key))
        return;
    m->unused = xrealloc(m->unused, (m->n_unused + 1) * sizeof(*m->unused));
    m->unused[m->n_unused++] = (struct unused_key){key, xstrdup(reason)};
}

void note(struct ctx *c, const char *key, const char *text, bool warn)
{
    struct unit_model *m = c->m;
    m->notes = xrealloc(m->notes, (m->n_notes + 1) * sizeof(*m->notes));
    m->notes[m->n_notes++] = (struct note){key, xstrdup(text), warn};
}

bool knows(const struct ctx *c, const char *key, const char *value)
{
    return directive_since(key, value) <= c->m->systemd_version;
}

bool has_feature(const struct ctx *c, enum sd_feature f)
{
    return feature_since(f) <= c->m->systemd_version;
}

bool has_build_feature(const struct ctx *c, enum sd_build_feature f)
{
    return (c->m->features & (1U << f)) != 0;
}

char *needs_reason(const char *what, const char *key, const char *value)
{
    struct buf r = {0};
    buf_printf(&r, "%s needs systemd %u", what, directive_since(key, value));
    return buf_steal(&r);
}

int fail(struct ctx *c, const char *key, const char *value, const char *problem)
{
    return fail_value(c->err, key, value, problem);
}

int fail_number(struct ctx *c, const char *key, unsigned long value, const char *problem)
{
    struct buf v = {0};
    buf_printf(&v, "%lu", value);
    int r = fail(c, key, buf_str(&v), problem);
    buf_free(&v);
    return r;
}

const char *derive(struct ctx *c, const char *given, const char *fallback)
{
    if (given != NULL)
        return given;
    c->derived[c->nderived] = xstrdup(fallback);
    return c->derived[c->nderived++];
}

void add(struct ctx *c, enum unit_file f, enum unit_section s, const char *key, const char *value,
         const char *reason)
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
    enum sd_build_feature needs = directive_needs(key);
    struct buf r = {0};
    if (since > m->systemd_version)
        buf_printf(&r, "needs systemd %u, target is %u", since, m->systemd_version);
    else if (needs != SDB_NONE && (m->features & (1U << needs)) == 0)
        buf_printf(&r,
                   "not enforced on this target: its systemd is built without %s (-%s in "
                   "systemctl --version) and ignores it",
                   build_feature_name(needs), build_feature_name(needs));
    if (r.len > 0) {
        free(d[m->n].reason);
        d[m->n].reason = buf_steal(&r);
        d[m->n].status = DS_DROPPED;
        d[m->n].too_new = true;
    }
    m->n++;
}

/* A directive left out on purpose, recorded for the manifest. */
void drop(struct ctx *c, enum unit_file f, enum unit_section s, const char *key, const char *value,
          const char *reason)
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
void addf(struct ctx *c, enum unit_section s, const char *key, const char *reason, bool octal,
          unsigned long v)
{
    struct buf b = {0};
    if (octal)
        buf_printf(&b, "%04lo", v);
    else
        buf_printf(&b, "%lu", v);
    add(c, UF_SERVICE, s, key, buf_str(&b), reason);
    buf_free(&b);
}

/* A file mode for unit file `f`. */
void addf_to(struct ctx *c, enum unit_file f, const char *key, const char *reason,
             unsigned long mode)
{
    struct buf b = {0};
    buf_printf(&b, "%04lo", mode);
    add(c, f, SEC_SERVICE, key, buf_str(&b), reason);
    buf_free(&b);
}

void add_raw(struct ctx *c, enum unit_section s, const char *key, const char *value,
             const char *reason)
{
    struct buf v = {0};
    buf_add(&v, "");
    spec_escape(&v, value, false);
    add(c, UF_SERVICE, s, key, buf_str(&v), reason);
    buf_free(&v);
}

/* The target version, and what needs a newer one than the target as a whole. */
static int check_versions(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    struct buf v = {0};
    struct buf problem = {0};
    int r = 0;
    buf_printf(&v, "%lu", o->systemd_version);
    if (o->systemd_version < feature_since(SD_OLDEST) ||
        o->systemd_version > feature_since(SD_NEWEST)) {
        buf_printf(&problem, "is outside %u..%u", feature_since(SD_OLDEST),
                   feature_since(SD_NEWEST));
        r = fail(c, "systemd_version", buf_str(&v), buf_str(&problem));
    } else if (o->dynamic_user && !knows(c, "StateDirectory", NULL)) {
        buf_printf(&problem, "needs systemd %u for its state directories",
                   directive_since("StateDirectory", NULL));
        r = fail(c, "dynamic_user", "yes", buf_str(&problem));
    }
    buf_free(&v);
    buf_free(&problem);
    return r;
}

/* The target's build features, before any directive is added. */
static int resolve_features(struct ctx *c)
{
    char *bad = NULL;
    int r = parse_build_features(c->o->systemd_features, &c->m->features, &bad);
    if (r < 0) {
        struct buf why = {0};
        buf_printf(&why,
                   "has \"%s\" where systemctl --version prints +NAME, -NAME or "
                   "name=value",
                   bad);
        r = fail(c, "systemd_features", c->o->systemd_features, buf_str(&why));
        buf_free(&why);
    }
    free(bad);
    return r;
}

/* A unit's 0 does not turn journald's rate limit off: systemd passes only values above 0 on to
 * journald (unit_export_log_ratelimit_*), which then applies journald.conf's (measured on 252). */
static int check_log_rate_limit(struct ctx *c)
{
    static const char *const KEYS[] = {"log_rate_limit_interval_sec", "log_rate_limit_burst"};
    const unsigned long values[] = {c->o->log_rate_limit_interval_sec, c->o->log_rate_limit_burst};
    for (size_t i = 0; i < 2; i++)
        if (values[i] == 0 && gen_opt_given(c->o, KEYS[i]))
            return fail_number(c, KEYS[i], 0,
                               "does not turn journald's rate limit off for one unit (systemd "
                               "then applies journald.conf's); give a large value instead");
    return 0;
}

/* The kernel fires a trigger whose stall time is above 0 and below its window, which systemd
 * writes as 2 s. */
static int check_memory_pressure(struct ctx *c)
{
    unsigned long ms = c->o->memory_pressure_threshold_ms;
    if (ms == 0 || ms >= 2000)
        return fail_number(c, "memory_pressure_threshold_ms", ms,
                           "is not between 1 and 1999: the stall time per 2 s window systemd "
                           "asks the kernel for");
    return 0;
}

/* Settings that are fine alone but not together. */
static int check_combinations(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    if (o->timeout_stop_sec != 0 && o->timeout_stop_sec <= o->shutdown_time)
        return fail_number(c, "timeout_stop_sec", o->timeout_stop_sec,
                           "is not longer than shutdown_time");
    if (o->umask[0] != '0' || strlen(o->umask) != 4 || strspn(o->umask, "01234567") != 4)
        return fail(c, "umask", o->umask, "is not a four-digit octal umask such as 0077");
    if (strcmp(o->reload, "sighup") == 0 && strcmp(o->service_type, "notify") != 0)
        return fail(c, "reload", o->reload, "needs service_type = notify to report the reload");
    int r = check_log_rate_limit(c);
    return r < 0 ? r : check_memory_pressure(c);
}

/* The build order: resolve and check everything first, so that nothing is built from a value
 * that a later check refuses; then the builders, whose order is the directives' order in the
 * unit files. */
static int (*const STEPS[])(struct ctx *c) = {
    resolve_names,       resolve_paths,
    resolve_dirs,        check_versions,
    check_combinations,  resolve_distribution,
    resolve_sockets,     resolve_network,
    build_unit_section,  start_limit,
    build_exec_pre,      build_exec_start,
    build_process,       build_identity,
    build_dirs,          build_env,
    build_paths,         build_network,
    build_sockets,       build_hardening,
    build_restart_units, build_runtime_env_unit,
    build_epmd_units,    build_companion_files,
    apply_user_changes,
};

static void finish(struct ctx *c)
{
    struct unit_model *m = c->m;
    m->service = xstrdup(c->n.svc);
    m->app_name = xstrdup(c->n.app);
    m->version = xstrdup(c->o->version);
    m->hardening = xstrdup(c->o->hardening);
    m->mix_layout = c->mix_layout;
    size_t scored = exposure_scored_for(m->systemd_version);
    for (int f = 0; f < UF_COUNT; f++)
        m->unit_exposure[f] = m->has_file[f] && unit_file_is_service((enum unit_file)f)
                                  ? exposure_tenths(c, (enum unit_file)f, scored)
                                  : -1;
    if (c->exposure_unknown)
        m->unit_exposure[UF_SERVICE] = -1;
    m->exposure_tenths = m->unit_exposure[UF_SERVICE];
    m->exposure_scored_by = exposure_scored_version(scored);
    for (size_t i = 0; i < EXPOSURE_SCORED; i++) {
        m->exposure_versions[i] = exposure_scored_version(i);
        m->exposure_by_version[i] = c->exposure_unknown ? -1 : exposure_tenths(c, UF_SERVICE, i);
    }
}

int unit_model_build(const struct gen_opts *o, struct unit_model *m, struct buf *err)
{
    struct ctx c = {.o = o, .m = m, .err = err};
    *m = (struct unit_model){.systemd_version = (unsigned)o->systemd_version};
    m->has_file[UF_SERVICE] = true;
    int r = resolve_features(&c);
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(STEPS); i++)
        r = STEPS[i](&c);
    if (r == 0)
        finish(&c);
    for (size_t i = 0; i < c.nderived; i++)
        free(c.derived[i]);
    strlist_free(&c.dirs);
    free(c.socks);
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
    for (size_t i = 0; i < m->n_unused; i++)
        free(m->unused[i].reason);
    free(m->unused);
    for (size_t i = 0; i < m->n_notes; i++)
        free(m->notes[i].text);
    free(m->notes);
    for (size_t i = 0; i < m->n_user_keys; i++)
        free(m->user_keys[i]);
    for (size_t i = 0; i < m->n_sockets; i++) {
        free(m->sockets[i].unit);
        free(m->sockets[i].name);
        free(m->sockets[i].listen);
    }
    free(m->sockets);
    free(m->service);
    free(m->app_name);
    free(m->version);
    free(m->hardening);
    buf_free(&m->sysusers);
    buf_free(&m->tmpfiles);
    *m = (struct unit_model){0};
}
