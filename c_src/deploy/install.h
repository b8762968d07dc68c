/* install: the files vigil-unit wrote, put where systemd reads them, then the users and dirs
 * created by systemd-sysusers and systemd-tmpfiles, the manager reloaded, the units enabled. */
#ifndef VIGIL_DEPLOY_INSTALL_H
#define VIGIL_DEPLOY_INSTALL_H

#include "buf.h"

/** What vigil-unit's manifest says: the service name and the files it wrote (relative to
 * the output dir). */
struct manifest {
    char *service;
    struct strlist files;
};

/** Reads the `"service"` string and the `"files"` list from manifest JSON text. Returns 0 or
 * -EBADMSG. */
int manifest_parse(const char *json, struct manifest *ret);

/** Frees `m`. */
void manifest_free(struct manifest *m);

/** Where a generated file goes under `root` ("" = this system): sysusers.d and tmpfiles.d
 * confs under /etc, units under /etc/systemd/system. Returns 1 with the path, 0 for a file
 * not installed (the manifest). */
int install_destination(const char *root, const char *file, struct buf *ret);

/** Finds the manifest in `units` (vigil-unit's output dir, either layout) for `service`
 * (NULL: the only one there) and reads it. Returns 0 or -errno with the reason in `err`. */
int manifest_load(const char *units, const char *service, struct manifest *ret, struct buf *err);

/** The deploy dir of an installed service file: the parent of its WorkingDirectory= when
 * that ends in /current. Returns 1, 0 when not found, -errno. */
int unit_deploy_dir(const char *service_file, struct buf *ret);

/** Installs from `units` into `root` ("" = this system, with the manager reloaded and the
 * units enabled). `deploy_dir` NULL: from the installed unit. Returns 0 or -errno (`err`). */
int deploy_install(const char *units, const char *root, const char *service, const char *deploy_dir,
                   struct buf *err);

#endif
