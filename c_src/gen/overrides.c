/* The user's last word: `override = Section.Directive=value` replaces what the generator wrote
 * for a directive of the service (or adds it), `drop = [Section.]Directive` removes it. Both
 * are applied to the model after everything is built, so regeneration keeps them and the
 * manifest records each change with the value it replaced. */
#include "model_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SECTIONS[] = {"Unit", "Service", "Install"};
static const enum unit_section SECTION_IDS[] = {SEC_UNIT, SEC_SERVICE, SEC_INSTALL};

/* Directives `systemd-analyze security` does not assess: changing them keeps the expected
 * exposure. Any other change makes it unknown. */
static const char *const NOT_ASSESSED[] = {
    "Description",
    "Documentation",
    "Wants",
    "After",
    "Before",
    "Requires",
    "BindsTo",
    "PartOf",
    "StartLimitBurst",
    "StartLimitIntervalSec",
    "StartLimitInterval",
    "Type",
    "TimeoutStartSec",
    "TimeoutStopSec",
    "TimeoutSec",
    "KillMode",
    "KillSignal",
    "Restart",
    "RestartSec",
    "RestartForceExitStatus",
    "SuccessExitStatus",
    "LimitNOFILE",
    "LimitCORE",
    "SyslogIdentifier",
    "WorkingDirectory",
    "WantedBy",
    "RequiredBy",
    "Environment",
    "EnvironmentFile",
    "ExecStart",
    "ExecStartPre",
    "ExecStartPost",
    "ExecReload",
    "ExecStop",
    "ExecStopPost",
    "WatchdogSec",
    "RuntimeDirectoryPreserve",
    "RuntimeDirectoryMode",
    "StateDirectoryMode",
    "CacheDirectoryMode",
    "LogsDirectoryMode",
    "ConfigurationDirectoryMode",
    "Nice",
    "OOMScoreAdjust",
    "CPUQuota",
    "CPUWeight",
    "MemoryMax",
    "MemoryHigh",
    "TasksMax",
    "IOWeight",
    "SuccessExitStatus",
    "RestartPreventExitStatus",
    "TimeoutAbortSec",
    "LogLevelMax",
    "LogRateLimitIntervalSec",
    "LogRateLimitBurst",
    "FileDescriptorStoreMax",
    "FileDescriptorStorePreserve",
    "Sockets",
    "Also",
};

static bool assessed(const char *key)
{
    for (size_t i = 0; i < ARRAY_SIZE(NOT_ASSESSED); i++)
        if (strcmp(NOT_ASSESSED[i], key) == 0)
            return false;
    return true;
}

static bool directive_name_valid(const char *s, size_t n)
{
    if (n == 0 || n > 64 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* `[Section.]Directive` of `s` up to `end`; a missing section is -1 (any). */
struct target {
    int section;
    char name[72];
};

static int parse_target(struct ctx *c, const char *key, const char *raw, const char *end,
                        bool need_section, struct target *t)
{
    const char *dot = memchr(raw, '.', (size_t)(end - raw));
    const char *name = dot ? dot + 1 : raw;
    t->section = -1;
    for (size_t i = 0; dot != NULL && i < ARRAY_SIZE(SECTIONS); i++)
        if (strlen(SECTIONS[i]) == (size_t)(dot - raw) &&
            strncmp(SECTIONS[i], raw, (size_t)(dot - raw)) == 0)
            t->section = (int)SECTION_IDS[i];
    if ((dot != NULL || need_section) && t->section < 0)
        return fail(c, key, raw, "does not start with Unit., Service. or Install.");
    if (!directive_name_valid(name, (size_t)(end - name)))
        return fail(c, key, raw, "does not name a directive such as LimitNOFILE");
    size_t len = (size_t)(end - name);
    if (len >= sizeof(t->name))
        return fail(c, key, raw, "names a directive longer than any systemd knows");
    memcpy(t->name, name, len);
    t->name[len] = '\0';
    return 0;
}

static bool matches(const struct directive *d, const struct target *t)
{
    return d->file == UF_SERVICE && d->status != DS_DROPPED && strcmp(d->key, t->name) == 0 &&
           (t->section < 0 || (int)d->section == t->section);
}

/* Drops the matching directives (not the user's own overrides); returns how many. */
static size_t drop_matching(struct ctx *c, const struct target *t, const char *why)
{
    size_t n = 0;
    for (size_t i = 0; i < c->m->n; i++) {
        struct directive *d = &c->m->d[i];
        if (!matches(d, t) || strcmp(d->reason, "override") == 0)
            continue;
        d->status = DS_DROPPED;
        free(d->reason);
        d->reason = xstrdup(why);
        n++;
    }
    return n;
}

static void changed(struct ctx *c, const char *key, const char *name)
{
    if (!assessed(name))
        return;
    struct buf why = {0};
    buf_printf(&why,
               "%s changed %s=, which systemd-analyze security assesses: the expected "
               "exposure is not known",
               key, name);
    note(c, "expected_exposure", buf_str(&why), false);
    buf_free(&why);
    c->exposure_unknown = true;
}

static int apply_override(struct ctx *c, const char *raw)
{
    const char *eq = strchr(raw, '=');
    struct target t;
    if (eq == NULL)
        return fail(c, "override", raw, "is not Section.Directive=value");
    int r = parse_target(c, "override", raw, eq, true, &t);
    const char *problem = r == 0 ? raw_value_problem(eq + 1) : NULL;
    if (problem != NULL)
        r = fail(c, "override", raw, problem);
    if (r < 0)
        return r;
    size_t n = drop_matching(c, &t, "overridden by the user (override)");
    char *key = NULL;
    for (size_t i = 0; i < c->m->n && key == NULL; i++)
        if (strcmp(c->m->d[i].key, t.name) == 0)
            key = (char *)c->m->d[i].key;
    /* Directive names live as long as the model: reuse a generated one, else keep a copy. */
    if (key == NULL)
        key = c->m->user_keys[c->m->n_user_keys++] = xstrdup(t.name);
    add(c, UF_SERVICE, (enum unit_section)t.section, key, eq + 1, "override");
    if (n == 0) {
        struct buf why = {0};
        buf_printf(&why, "%s= is not one the generator writes; added", t.name);
        note(c, "override", buf_str(&why), false);
        buf_free(&why);
    }
    changed(c, "override", t.name);
    return 0;
}

static int apply_drop(struct ctx *c, const char *raw)
{
    struct target t;
    int r = parse_target(c, "drop", raw, raw + strlen(raw), false, &t);
    if (r < 0)
        return r;
    if (drop_matching(c, &t, "dropped by the user (drop)") == 0)
        return fail(c, "drop", raw, "matches no directive of the service");
    changed(c, "drop", t.name);
    return 0;
}

int apply_user_changes(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    int r = 0;
    if (o->override.n + o->drop.n > GEN_MAX_USER_KEYS)
        return fail(c, "override", o->override.n ? o->override.v[0] : o->drop.v[0],
                    "is one of more than 64 override and drop values");
    for (size_t i = 0; r == 0 && i < o->override.n; i++)
        r = apply_override(c, o->override.v[i]);
    for (size_t i = 0; r == 0 && i < o->drop.n; i++)
        r = apply_drop(c, o->drop.v[i]);
    return r;
}
