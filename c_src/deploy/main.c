/* vigil-deploy: installs a release's units and deploys releases with an atomic switch, a
 * readiness gate and an automatic rollback. main() only wires options to the flows. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deploy.h"
#include "install.h"

enum {
    OPT_ROOT = 256,
    OPT_DEPLOY_DIR,
    OPT_SERVICE,
    OPT_UNITS,
    OPT_KEEP,
    OPT_HELP,
    OPT_FLAG,
    OPT_VERSION
};

/** The command line, with designated defaults. */
struct options {
    const char *root, *deploy_dir, *service, *units, *command;
    const char *arg;
    char *manifest_service; /**< owned: the service read from the manifest */
    long keep;
    bool help, version;
    bool restart_flag; /**< --restart-flag: restart through <deploy dir>/flags/restart.flag */
};

static const char USAGE[] =
    "Usage: vigil-deploy COMMAND [ARG] [OPTION]...\n\n"
    "Commands:\n"
    "  install               install the units vigil-unit wrote (--units), create the user and\n"
    "                        dirs (systemd-sysusers, systemd-tmpfiles --create), keep a cookie in\n"
    "                        the deploy dir, reload the manager, enable the service, its sockets\n"
    "                        and path units. Idempotent; --root DIR prepares an image offline\n"
    "  release TARBALL|DIR   unpack into releases/<version>-<timestamp>, switch current\n"
    "                        atomically, restart and wait for READY=1; on failure switch back,\n"
    "                        restart the previous release and print the failed start's journal\n"
    "  rollback [RELEASE]    to the release before current, or to any kept one (a name or a\n"
    "                        version), forward too; refused when there is none\n"
    "  status                current, the kept releases, which runs, the unit's state\n"
    "  prune --keep N        remove all but the N newest releases (never current or running)\n\n"
    "Options:\n"
    "  --root DIR            operate on an image at DIR (install only)\n"
    "  --deploy-dir DIR      default: the installed unit's WorkingDirectory= without /current\n"
    "  --service NAME        default: the manifest's, in --units\n"
    "  --units DIR           where vigil-unit wrote the unit files and manifest\n"
    "  --keep N              releases prune keeps (at least 1)\n"
    "  --restart-flag        restart by touching <deploy dir>/flags/restart.flag, which the\n"
    "                        unit's <service>-restart.path (restart_method = systemd_flag)\n"
    "                        watches, and take the verdict from <service>-restart.service:\n"
    "                        for a deploy user without root. The default when not run as\n"
    "                        root and that flags dir exists\n"
    "  --help                this text\n"
    "  --version             vigil's version\n\n"
    "Exit status:\n"
    "  0  done: the service is ready on the release current points at (or nothing to do)\n"
    "  1  refused or failed before current changed: nothing changed\n"
    "  2  the new release failed to start; switched back, the previous release is ready again\n"
    "  3  the new release failed and the previous one failed to start too: the service is down\n"
    " 64  usage error\n\n"
    "The cookie: the deploy dir keeps COOKIE (mode 0600), created by install or taken from the\n"
    "first release; each release's releases/COOKIE is replaced by it, so the node's cookie and\n"
    "bin/<app> remote|rpc|stop through current agree across releases. A unit generated with\n"
    "cookie_file = <deploy dir>/COOKIE loads the same file as a credential.\n"
    "One deploy runs at a time (flock on <deploy dir>/.deploy-lock; others wait); a deploy\n"
    "killed at any step is undone by the next run (.deploy-intent).\n";

static int usage_error(const char *msg)
{
    (void)fprintf(stderr, "vigil-deploy: %s (see --help)\n", msg);
    return 64;
}

static int parse(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"root", required_argument, NULL, OPT_ROOT},
        {"deploy-dir", required_argument, NULL, OPT_DEPLOY_DIR},
        {"service", required_argument, NULL, OPT_SERVICE},
        {"units", required_argument, NULL, OPT_UNITS},
        {"keep", required_argument, NULL, OPT_KEEP},
        {"help", no_argument, NULL, OPT_HELP},
        {"restart-flag", no_argument, NULL, OPT_FLAG},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    const char **slot[] = {&o->root, &o->deploy_dir, &o->service, &o->units};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c >= OPT_ROOT && c <= OPT_UNITS) {
            *slot[c - OPT_ROOT] = optarg;
        } else if (c == OPT_KEEP) {
            char *end;
            o->keep = strtol(optarg, &end, 10);
            if (*end != '\0' || o->keep < 1)
                return usage_error("--keep needs a number of releases, at least 1");
        } else if (c == OPT_HELP) {
            o->help = true;
        } else if (c == OPT_FLAG) {
            o->restart_flag = true;
        } else if (c == OPT_VERSION) {
            o->version = true;
        } else {
            return 64;
        }
    }
    o->command = optind < argc ? argv[optind++] : NULL;
    o->arg = optind < argc ? argv[optind++] : NULL;
    if (optind < argc)
        return usage_error("too many arguments");
    return 0;
}

/* The service name from --service or the manifest in --units, and the unit name. */
static int resolve_service(struct options *o, struct buf *unit, struct buf *err)
{
    struct manifest m = {0};
    if (o->service == NULL && o->units != NULL && manifest_load(o->units, NULL, &m, err) == 0)
        o->service = o->manifest_service = xstrdup(m.service);
    manifest_free(&m);
    if (o->service == NULL) {
        buf_add(err, "give --service NAME (or --units DIR with its manifest)");
        return -EINVAL;
    }
    size_t n = strlen(o->service);
    bool suffixed = n > 8 && strcmp(o->service + n - 8, ".service") == 0;
    buf_printf(unit, "%s%s", o->service, suffixed ? "" : ".service");
    return 0;
}

static int resolve_deploy_dir(const struct options *o, const char *unit, struct buf *dir,
                              struct buf *err)
{
    if (o->deploy_dir != NULL) {
        buf_add(dir, o->deploy_dir);
        return 0;
    }
    struct buf path = {0};
    buf_printf(&path, "/etc/systemd/system/%s", unit);
    int r = unit_deploy_dir(buf_str(&path), dir);
    if (r <= 0)
        buf_printf(err, "no WorkingDirectory=.../current in %s: give --deploy-dir", buf_str(&path));
    buf_free(&path);
    return r > 0 ? 0 : -EINVAL;
}

static int run_flow(struct deploy *d, const struct options *o)
{
    if (strcmp(o->command, "status") == 0) {
        struct buf out = {0};
        deploy_status(d, &out);
        (void)fputs(buf_str(&out), stdout);
        buf_free(&out);
        return DEPLOY_DONE;
    }
    if (deploy_begin(d, true) < 0)
        return DEPLOY_REFUSED;
    if (strcmp(o->command, "release") == 0)
        return deploy_release(d, o->arg);
    if (strcmp(o->command, "rollback") == 0)
        return deploy_rollback(d, o->arg);
    return deploy_prune(d, (unsigned)o->keep);
}

static int check_command(const struct options *o)
{
    static const char *const known[] = {"install", "release", "rollback", "status", "prune"};
    bool ok = false;
    for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
        ok = ok || strcmp(o->command, known[i]) == 0;
    if (!ok)
        return usage_error("unknown command");
    if (strcmp(o->command, "release") == 0 && o->arg == NULL)
        return usage_error("release needs a TARBALL or DIR");
    if (strcmp(o->command, "prune") == 0 && o->keep < 1)
        return usage_error("prune needs --keep N");
    if (o->root != NULL && strcmp(o->command, "install") != 0)
        return usage_error("--root is for install only");
    if (strcmp(o->command, "install") == 0 && o->units == NULL)
        return usage_error("install needs --units DIR");
    bool takes_arg = strcmp(o->command, "release") == 0 || strcmp(o->command, "rollback") == 0;
    return o->arg != NULL && !takes_arg ? usage_error("unexpected argument") : 0;
}

static int run(struct options *o)
{
    struct buf err = {0};
    struct buf unit = {0};
    struct buf dir = {0};
    int r = strcmp(o->command, "install") == 0
                ? deploy_install(o->units, o->root ? o->root : "", o->service, o->deploy_dir, &err)
                : resolve_service(o, &unit, &err);
    if (r == 0 && strcmp(o->command, "install") != 0)
        r = resolve_deploy_dir(o, buf_str(&unit), &dir, &err);
    int status = r < 0 ? DEPLOY_REFUSED : DEPLOY_DONE;
    if (r == 0 && strcmp(o->command, "install") != 0) {
        struct deploy d;
        struct deploy_manager flagged;
        struct flag_manager f;
        struct buf flag = {0};
        struct buf restart_unit = {0};
        buf_printf(&flag, "%s/flags", buf_str(&dir));
        bool use_flag = o->restart_flag || (geteuid() != 0 && access(buf_str(&flag), F_OK) == 0);
        buf_add(&flag, "/restart.flag");
        buf_addn(&restart_unit, buf_str(&unit), unit.len - 8);
        buf_add(&restart_unit, "-restart.service");
        flag_manager_init(&f, &flagged, buf_str(&flag), buf_str(&restart_unit));
        deploy_init(&d, buf_str(&dir), buf_str(&unit), use_flag ? &flagged : &MANAGER_SYSTEMCTL);
        d.log = stderr;
        status = run_flow(&d, o);
        if (d.err.len)
            (void)fprintf(stderr, "vigil-deploy: %s\n", buf_str(&d.err));
        deploy_free(&d);
        buf_free(&flag);
        buf_free(&restart_unit);
    } else if (r < 0) {
        (void)fprintf(stderr, "vigil-deploy: %s\n", buf_str(&err));
    }
    buf_free(&err);
    buf_free(&unit);
    buf_free(&dir);
    return status;
}

int main(int argc, char **argv)
{
    struct options o = {.keep = 0};
    int r = parse(argc, argv, &o);
    if (r != 0)
        return r;
    if (o.version)
        return puts("vigil-deploy " VIGIL_VERSION) == EOF ? 1 : 0;
    if (o.help || o.command == NULL) {
        (void)fputs(USAGE, o.help ? stdout : stderr);
        return o.help ? 0 : 64;
    }
    r = check_command(&o);
    r = r != 0 ? r : run(&o);
    free(o.manifest_service);
    return r;
}
