/* The [Unit] and [Service] basics of the service, and the companion units and files:
 * restart-on-deploy units, the runtime environment unit, sysusers.d and tmpfiles.d. */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_units(struct ctx *c, const char *option, const char *directive,
                     const struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!unit_name_valid(l->v[i]))
            return fail(c, option, l->v[i], "is not a unit name such as foo.service");
        add(c, UF_SERVICE, SEC_UNIT, directive, l->v[i], option);
    }
    return 0;
}

int build_unit_section(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    add_raw(c, SEC_UNIT, "Description", c->n.desc, "description");
    if (o->network_online) {
        add(c, UF_SERVICE, SEC_UNIT, "Wants", "network-online.target", "network_online");
        add(c, UF_SERVICE, SEC_UNIT, "After", "network-online.target", "network_online");
    }
    build_dist_unit(c);
    if (c->env_service) {
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

/* Before StartLimitIntervalSec= the start limit lived in [Service] as StartLimitInterval=. */
int start_limit(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    bool old = !knows(c, "StartLimitIntervalSec", NULL);
    addf(c, old ? SEC_SERVICE : SEC_UNIT, "StartLimitBurst", "restart storm limit", false,
         o->start_limit_burst);
    if (!old) {
        addf(c, SEC_UNIT, "StartLimitIntervalSec", "restart storm limit", false,
             o->start_limit_interval_sec);
        return 0;
    }
    addf(c, SEC_SERVICE, "StartLimitInterval", "restart storm limit", false,
         o->start_limit_interval_sec);
    struct directive *d = &c->m->d[c->m->n - 1];
    d->status = DS_GATED;
    free(d->reason);
    d->reason = needs_reason("StartLimitIntervalSec= in [Unit]", "StartLimitIntervalSec", NULL);
    return 0;
}

/* systemctl reload as SIGHUP, answered by RELOADING=1 ... READY=1 from the app: with
 * Type=notify-reload the manager sends the signal itself and waits; before that type,
 * ExecReload= sends it and the notifications still mark the reload. */
static const char *build_reload(struct ctx *c)
{
    if (strcmp(c->o->reload, "sighup") != 0)
        return "notify";
    if (knows(c, "Type", "notify-reload"))
        return "notify-reload";
    char *why = needs_reason("reload = sighup; Type=notify-reload", "Type", "notify-reload");
    add(c, UF_SERVICE, SEC_SERVICE, "ExecReload", "/bin/kill -HUP $MAINPID", why);
    free(why);
    return "notify";
}

/* Type= and what only a notifying service has; a type the target lacks becomes simple. */
static void build_type(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    bool notify = strcmp(o->service_type, "notify") == 0;
    const char *type = notify ? build_reload(c) : o->service_type;
    add(c, UF_SERVICE, SEC_SERVICE, "Type", knows(c, "Type", type) ? type : "simple",
        "service_type");
    note_unused(c, "watchdog_sec", !notify, "only service_type = notify has a watchdog");
    if (!notify)
        return;
    add(c, UF_SERVICE, SEC_SERVICE, "NotifyAccess", "main",
        "only the BEAM, which the start script execs into, may notify");
    if (o->watchdog_sec > 0)
        addf(c, SEC_SERVICE, "WatchdogSec", "watchdog_sec", false, o->watchdog_sec);
}

/* journald's rate limit for the unit, only where given: journald.conf's applies otherwise. */
static void build_log_rate_limit(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    if (gen_opt_given(o, "log_rate_limit_interval_sec"))
        addf(c, SEC_SERVICE, "LogRateLimitIntervalSec", "log_rate_limit_interval_sec", false,
             o->log_rate_limit_interval_sec);
    if (gen_opt_given(o, "log_rate_limit_burst"))
        addf(c, SEC_SERVICE, "LogRateLimitBurst", "log_rate_limit_burst", false,
             o->log_rate_limit_burst);
}

/* The memory pressure trigger (systemd 254): add() drops both directives on older targets and
 * says so. systemd makes the unit's memory.pressure writable for the service itself, whatever
 * ProtectControlGroups= and User= are (measured with systemd 257 under the strict profile). */
static void build_memory_pressure(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    bool off = strcmp(o->memory_pressure_watch, "off") == 0;
    note_unused(c, "memory_pressure_threshold_ms", off,
                "memory_pressure_watch = off: no trigger to set");
    if (strcmp(o->memory_pressure_watch, "skip") != 0)
        add(c, UF_SERVICE, SEC_SERVICE, "MemoryPressureWatch", o->memory_pressure_watch,
            "memory_pressure_watch: the PSI trigger vigil watches (vigil:subscribe/1)");
    if (off || !gen_opt_given(o, "memory_pressure_threshold_ms"))
        return;
    struct buf v = {0};
    buf_printf(&v, "%lums", o->memory_pressure_threshold_ms);
    add(c, UF_SERVICE, SEC_SERVICE, "MemoryPressureThresholdSec", buf_str(&v),
        "memory_pressure_threshold_ms");
    buf_free(&v);
}

int build_process(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    build_type(c);
    addf(c, SEC_SERVICE, "TimeoutStartSec", "timeout_start_sec", false, o->timeout_start_sec);
    addf(c, SEC_SERVICE, "TimeoutStopSec", "longer than the VM's -shutdown_time", false,
         o->timeout_stop_sec ? o->timeout_stop_sec : o->shutdown_time + 5);
    add(c, UF_SERVICE, SEC_SERVICE, "KillMode", "mixed",
        "SIGTERM to the BEAM only, then SIGKILL to what is left of its ports");
    add(c, UF_SERVICE, SEC_SERVICE, "KillSignal", "SIGTERM",
        "the BEAM stops cleanly on SIGTERM; bin/app stop is an rpc and needs distribution");
    add(c, UF_SERVICE, SEC_SERVICE, "Restart", o->restart, "restart");
    addf(c, SEC_SERVICE, "RestartSec", "restart_sec", false, o->restart_sec);
    /* vigil turns :init.reboot/0 into exit status 75 (EX_TEMPFAIL): a new VM, not a failure. */
    add(c, UF_SERVICE, SEC_SERVICE, "RestartForceExitStatus", "75",
        ":init.reboot/0 exits 75 under vigil: start a new VM, whatever Restart= says");
    add(c, UF_SERVICE, SEC_SERVICE, "SuccessExitStatus", "75", "a reboot is not a failure");
    addf(c, SEC_SERVICE, "LimitNOFILE", "the BEAM keeps the 1024 soft limit otherwise", false,
         o->limit_nofile);
    add(c, UF_SERVICE, SEC_SERVICE, "LimitCORE", "0", "no core files of the whole VM");
    add(c, UF_SERVICE, SEC_SERVICE, "UMask", o->umask, "umask");
    add_raw(c, SEC_SERVICE, "SyslogIdentifier", c->n.syslog, "syslog_identifier");
    build_log_rate_limit(c);
    build_memory_pressure(c);
    add_raw(c, SEC_SERVICE, "WorkingDirectory", c->n.working, "working_dir");
    add(c, UF_SERVICE, SEC_INSTALL, "WantedBy", "multi-user.target", "started at boot");
    return 0;
}

int build_identity(struct ctx *c)
{
    note_unused(c, "app_group", c->o->dynamic_user,
                "dynamic_user: systemd picks the group along with the user");
    if (c->o->dynamic_user) {
        add(c, UF_SERVICE, SEC_SERVICE, "DynamicUser", "yes", "dynamic_user");
        add(c, UF_SERVICE, SEC_SERVICE, "User", c->n.user, "name of the dynamic user");
        return 0;
    }
    add(c, UF_SERVICE, SEC_SERVICE, "User", c->n.user, "app_user, created by sysusers.d");
    add(c, UF_SERVICE, SEC_SERVICE, "Group", c->n.group, "app_group");
    return 0;
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

static void build_sysusers(struct ctx *c)
{
    const struct names *n = &c->n;
    bool own_group = strcmp(n->group, n->user) != 0;
    if (c->o->dynamic_user)
        return;
    if (own_group)
        buf_printf(&c->m->sysusers, "g %s -\n", n->group);
    /* "-:group" picks any free UID and the named primary group. */
    buf_printf(&c->m->sysusers, "u %s %s%s \"%s release\" - -\n", n->user, own_group ? "-:" : "-",
               own_group ? n->group : "", n->svc);
}

static void tmpfiles_dir(struct buf *t, const char *path, const char *mode, const struct names *n)
{
    buf_add(t, "d ");
    tmpfiles_path(t, path);
    buf_printf(t, " %s %s %s -\n", mode, n->deploy_user, n->deploy_group);
}

int build_companion_files(struct ctx *c)
{
    struct unit_model *m = c->m;
    struct buf t = {0};
    build_sysusers(c);
    tmpfiles_dir(&t, c->n.deploy, c->o->dynamic_user ? "0755" : "0750", &c->n);
    if (strcmp(c->o->restart_method, "systemd_flag") == 0) {
        struct buf flags = {0};
        buf_printf(&flags, "%s/flags", c->n.deploy);
        tmpfiles_dir(&t, buf_str(&flags), "0770", &c->n);
        buf_free(&flags);
    }
    if (c->o->chroot) {
        struct buf root = {0};
        chroot_root(c, &root);
        buf_printf(&t, "d %s 0555 root root -\n", buf_str(&root));
        buf_free(&root);
    }
    /* Legacy dir lines from build_dirs() come after the deploy dir. */
    buf_add(&t, buf_str(&m->tmpfiles));
    buf_free(&m->tmpfiles);
    m->tmpfiles = t;
    return 0;
}

/* The flag file a restart watches, as a unit file value: systemd_flag has the deployer touch
 * it in the deploy dir; touch has the service itself touch it, so it lives in the runtime
 * dir, the one place under the sandbox that is the service's to write and always there. */
void restart_flag(const struct ctx *c, struct buf *out)
{
    if (strcmp(c->o->restart_method, "touch") == 0) {
        dir_path(c, "runtime", out);
    } else {
        spec_escape(out, c->n.deploy, false);
        buf_add(out, "/flags");
    }
    buf_add(out, "/restart.flag");
}

int build_restart_units(struct ctx *c)
{
    const char *why = c->o->restart_method;
    if (strcmp(why, "systemctl") == 0)
        return 0;
    if (strcmp(why, "touch") == 0 && !has_dir(c, "runtime"))
        return fail(c, "restart_method", why,
                    "needs runtime in dirs: the service touches the flag in its runtime dir");
    struct buf v = {0};
    struct buf svc = {0};
    buf_printf(&svc, "%s.service", c->n.svc);
    add(c, UF_RESTART_PATH, SEC_UNIT, "Description",
        strcmp(why, "touch") == 0 ? "Restart when the service asks" : "Restart on deploy flag",
        why);
    buf_add(&v, "");
    restart_flag(c, &v);
    add(c, UF_RESTART_PATH, SEC_PATH, "PathModified", buf_str(&v), why);
    add(c, UF_RESTART_PATH, SEC_INSTALL, "WantedBy", "multi-user.target", why);
    add(c, UF_RESTART_SERVICE, SEC_UNIT, "Description",
        strcmp(why, "touch") == 0 ? "Restart at the service's request" : "Restart after deploy",
        why);
    add(c, UF_RESTART_SERVICE, SEC_SERVICE, "Type", "oneshot", why);
    buf_free(&v);
    if (strcmp(why, "systemd_flag") == 0) {
        /* A deploy is an operator's decision: the start rate limiter is for crash loops. */
        buf_printf(&v, "-/bin/systemctl reset-failed %s", buf_str(&svc));
        add(c, UF_RESTART_SERVICE, SEC_SERVICE, "ExecStartPre", buf_str(&v),
            "systemd_flag: a deploy's restart is not refused by StartLimitBurst=");
        buf_free(&v);
    }
    buf_printf(&v, "/bin/systemctl restart %s", buf_str(&svc));
    add(c, UF_RESTART_SERVICE, SEC_SERVICE, "ExecStart", buf_str(&v), why);
    harden_restart_service(c);
    buf_free(&v);
    buf_free(&svc);
    c->m->has_file[UF_RESTART_PATH] = c->m->has_file[UF_RESTART_SERVICE] = true;
    return 0;
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

/* The oneshot unit that writes the environment file before the service starts. */
static void runtime_env_unit(struct ctx *c, const char *dir, const char *file)
{
    const char *why = "runtime_environment_service";
    struct buf esc = {0};
    struct buf cmd = {0};
    add(c, UF_RUNTIME_ENV, SEC_UNIT, "Description", "Runtime environment", why);
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "Type", "oneshot", why);
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "RemainAfterExit", "yes", why);
    runtime_env_identity(c);
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "RuntimeDirectory", dir, why);
    if (c->mix_layout)
        addf_to(c, UF_RUNTIME_ENV, "RuntimeDirectoryMode", "the service's runtime dir, same mode",
                c->o->runtime_directory_mode);
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "RuntimeDirectoryPreserve", "yes", "read by the service");
    buf_add(&esc, "");
    /* Checked with the other paths (resolve_paths), so it expands here. */
    (void)path_value(c, "runtime_environment_service_script", c->n.env_script, false, false, &esc);
    quote_word(&cmd, buf_str(&esc), false);
    buf_printf(&cmd, " %s", file);
    add(c, UF_RUNTIME_ENV, SEC_SERVICE, "ExecStart", buf_str(&cmd),
        "runtime_environment_service_script, given the file to write");
    harden_runtime_env(c);
    buf_free(&esc);
    buf_free(&cmd);
}

/* Where the environment file lives: a runtime dir of the oneshot unit's own, or with
 * layout = mix_systemd the service's runtime dir, where mix_deploy's scripts write it. */
static void runtime_env_paths(struct ctx *c, struct buf *dir, struct buf *file)
{
    if (c->mix_layout)
        buf_add(dir, c->n.svc);
    else
        buf_printf(dir, "%s-runtime-environment", c->n.svc);
    buf_printf(file, "%%t/%s/environment", buf_str(dir));
}

int build_runtime_env_unit(struct ctx *c)
{
    note_unused(c, "runtime_environment_service_script", !c->env_service,
                "runtime_environment_service is off");
    if (!c->env_service)
        return 0;
    if (!gen_opt_given(c->o, "runtime_environment_service"))
        note(c, "runtime_environment_service",
             "on because runtime_environment_service_script is given", false);
    if (!gen_opt_given(c->o, "runtime_environment_service_script"))
        note(c, "runtime_environment_service",
             "the release must ship bin/runtime-environment, which mix release does not create "
             "(put it in rel/overlays/bin/); without it the unit that runs it fails (203/EXEC) "
             "and the service with it (Dependency failed); mix vigil.gen.unit checks",
             false);
    struct buf dir = {0};
    struct buf file = {0};
    struct buf opt = {0};
    runtime_env_paths(c, &dir, &file);
    runtime_env_unit(c, buf_str(&dir), buf_str(&file));
    /* `-`: the service still starts when the file is missing. */
    buf_printf(&opt, "-%s", buf_str(&file));
    add(c, UF_SERVICE, SEC_SERVICE, "EnvironmentFile", buf_str(&opt),
        "runtime_environment_service");
    buf_free(&dir);
    buf_free(&file);
    buf_free(&opt);
    c->m->has_file[UF_RUNTIME_ENV] = true;
    return 0;
}
