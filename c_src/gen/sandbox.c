/* The service's view of the file system: sandbox paths, the chroot (an empty root holding
 * only the system's programs and libraries, a few files of /etc, the release and what the
 * unit grants), and PrivateMounts= wherever other settings imply it. */
#include "model_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A list of paths for a quoted-list setting; `-` marks a path that may be missing, @{key}
 * references are expanded. */
static int add_path_list(struct ctx *c, const char *option, const char *directive,
                         const struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        struct buf v = {0};
        struct buf q = {0};
        int r = path_value(c, option, l->v[i], true, false, &v);
        if (r == 0) {
            quote_word(&q, buf_str(&v), false);
            add(c, UF_SERVICE, SEC_SERVICE, directive, buf_str(&q), option);
        }
        buf_free(&v);
        buf_free(&q);
        if (r < 0)
            return r;
    }
    return 0;
}

void chroot_root(const struct ctx *c, struct buf *out)
{
    buf_printf(out, "/run/%s-chroot", c->n.svc);
}

/* What the BEAM and the release's start script (/bin/sh and the tools it runs) read. */
static const char *const CHROOT_SYSTEM[] = {
    "/usr",
    "-/bin",
    "-/sbin",
    "-/lib",
    "-/lib64",
    "-/etc/ld.so.cache",
    "-/etc/passwd",
    "-/etc/group",
    "-/etc/nsswitch.conf",
    "-/etc/hosts",
    "-/etc/host.conf",
    "-/etc/gai.conf",
    "-/etc/resolv.conf",
    "-/etc/services",
    "-/etc/protocols",
    "-/etc/localtime",
    "-/etc/ssl",
};

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The release: the deploy dir, and the current and working dirs where they lie outside it. */
static int bind_release(struct ctx *c)
{
    const char *dirs[][2] = {
        {"deploy_dir", c->n.deploy}, {"current_dir", c->n.current}, {"working_dir", c->n.working}};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        bool bound = false;
        for (size_t j = 0; j < i; j++)
            bound |= under(dirs[i][1], dirs[j][1]);
        if (bound)
            continue;
        struct buf v = {0};
        spec_escape(&v, dirs[i][1], false);
        struct buf q = {0};
        quote_word(&q, buf_str(&v), false);
        add(c, UF_SERVICE, SEC_SERVICE, "BindReadOnlyPaths", buf_str(&q),
            "chroot: the release, read-only");
        buf_free(&v);
        buf_free(&q);
    }
    return 0;
}

/* chroot: RootDirectory= on an empty directory of root's (created by tmpfiles.d), with the
 * API file systems mounted in it (/proc, /sys, /dev, an empty /run) and read-only binds of
 * the system and the release. systemd binds the service's dirs, the notification socket and
 * the credentials in itself. The read-only root is ProtectSystem=strict's, or in the off
 * profile the root dir's owner and mode; /tmp is a private one. */
static int build_chroot(struct ctx *c)
{
    struct buf root = {0};
    chroot_root(c, &root);
    add(c, UF_SERVICE, SEC_SERVICE, "RootDirectory", buf_str(&root),
        "chroot: an empty directory of root's, from tmpfiles.d");
    buf_free(&root);
    add(c, UF_SERVICE, SEC_SERVICE, "MountAPIVFS", "yes",
        "chroot: /proc, /sys, /dev (/dev/null) and /run inside the empty root");
    for (size_t i = 0; i < ARRAY_SIZE(CHROOT_SYSTEM); i++)
        add(c, UF_SERVICE, SEC_SERVICE, "BindReadOnlyPaths", CHROOT_SYSTEM[i],
            "chroot: programs, libraries and the files of /etc the BEAM and /bin/sh read");
    /* Before 257 (BindLogSockets=) systemd binds no log socket in; without it vigil_journal_h
     * has no journal, and a release that installs it from kernel's configuration does not boot.
     * A socket on a read-only bind still takes datagrams. */
    add(c, UF_SERVICE, SEC_SERVICE, "BindReadOnlyPaths", "-/run/systemd/journal/socket",
        "chroot: journald's native socket, for vigil_journal_h");
    return bind_release(c);
}

/* Refused where the root cannot hold what the service needs. */
static int check_chroot(struct ctx *c)
{
    if (has_feature(c, SD_CHROOT))
        return 0;
    struct buf why = {0};
    buf_printf(&why,
               "needs systemd %u: BindReadOnlyPaths= to bind the system and the release in, and "
               "dirs that systemd manages and binds in itself",
               feature_since(SD_CHROOT));
    int r = fail(c, "chroot", "yes", buf_str(&why));
    buf_free(&why);
    return r;
}

/* In the chroot a granted path must be bound in to exist: read_write_paths become
 * BindPaths=, read_only_paths BindReadOnlyPaths=. */
int build_paths(struct ctx *c)
{
    const struct gen_opts *o = c->o;
    int r = o->chroot ? check_chroot(c) : 0;
    if (r == 0)
        r = add_path_list(c, "read_write_paths", o->chroot ? "BindPaths" : "ReadWritePaths",
                          &o->read_write_paths);
    if (r == 0)
        r = add_path_list(c, "read_only_paths", o->chroot ? "BindReadOnlyPaths" : "ReadOnlyPaths",
                          &o->read_only_paths);
    if (r == 0)
        r = add_path_list(c, "inaccessible_paths", "InaccessiblePaths", &o->inaccessible_paths);
    if (r < 0 || !o->chroot)
        return r;
    return build_chroot(c);
}

/* Settings that give the unit a mount namespace of its own (systemd.exec(5), PrivateMounts=;
 * DynamicUser= implies PrivateTmp=). */
static const char *const MOUNT_NAMESPACE[] = {
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "PrivateDevices",
    "PrivateNetwork",
    "PrivateIPC",
    "ProtectKernelTunables",
    "ProtectKernelModules",
    "ProtectKernelLogs",
    "ProtectControlGroups",
    "ProtectProc",
    "ProcSubset",
    "ReadWritePaths",
    "ReadOnlyPaths",
    "InaccessiblePaths",
    "BindPaths",
    "BindReadOnlyPaths",
    "TemporaryFileSystem",
    "RootDirectory",
    "MountAPIVFS",
    "DynamicUser",
};

static const char *implies_mounts(const struct ctx *c, enum unit_file f, bool *has)
{
    const char *by = NULL;
    for (size_t i = 0; i < c->m->n; i++) {
        const struct directive *d = &c->m->d[i];
        if (d->file != f || d->status == DS_DROPPED)
            continue;
        if (strcmp(d->key, "PrivateMounts") == 0)
            *has = true;
        for (size_t j = 0; by == NULL && j < ARRAY_SIZE(MOUNT_NAMESPACE); j++)
            if (strcmp(d->key, MOUNT_NAMESPACE[j]) == 0)
                by = MOUNT_NAMESPACE[j];
    }
    return by;
}

/* The loaded unit reports PrivateMounts= on when other settings imply it, and the online
 * `systemd-analyze security` counts it; the offline analysis of the file only counts what is
 * written. Writing it where implied changes nothing and makes both agree. */
void imply_private_mounts(struct ctx *c, enum unit_file f)
{
    bool has = false;
    const char *by = implies_mounts(c, f, &has);
    if (by == NULL || has || !knows(c, "PrivateMounts", NULL))
        return;
    struct buf why = {0};
    buf_printf(&why, "implied by %s=; written so the file says what the loaded unit reports", by);
    add(c, f, SEC_SERVICE, "PrivateMounts", "yes", buf_str(&why));
    buf_free(&why);
}
