/* What the deploy flows need from the service manager, behind one small interface so that the
 * filesystem logic is tested without one. manager_systemctl.c implements it with systemctl and
 * journalctl. */
#ifndef VIGIL_DEPLOY_MANAGER_H
#define VIGIL_DEPLOY_MANAGER_H

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

/** The service manager, as the deploy flows see it. */
struct deploy_manager {
    void *ctx;
    /** Restarts `unit` and waits for the job's result: 1 when the job is done (for
     * Type=notify: the new main process sent READY=1), -errno when it failed (timeout, exit,
     * dependency), with systemctl's words in `err`. */
    int (*restart)(void *ctx, const char *unit, struct buf *err);
    /** The physical working directory of the unit's main process into `out` (the release it
     * runs, since WorkingDirectory= is `current`, resolved at exec). 1 found, 0 not running. */
    int (*running_dir)(void *ctx, const char *unit, struct buf *out);
    /** Appends the unit's last journal lines since `since_us` (CLOCK_REALTIME, µs) to `out`. */
    void (*journal)(void *ctx, const char *unit, int64_t since_us, struct buf *out);
    /** Appends the unit's state and status line to `out`. */
    void (*describe)(void *ctx, const char *unit, struct buf *out);
};

/** One property of `unit` (`systemctl show --value`) into `out`, without its newline; empty
 * when systemctl fails (its words are dropped). */
void unit_property(const char *unit, const char *property, struct buf *out);

/** The manager of the running system, through systemctl and journalctl. */
extern const struct deploy_manager MANAGER_SYSTEMCTL;

/** What the flag manager needs: the flag file and the oneshot unit its .path unit starts. */
struct flag_manager {
    const char *flag;         /**< e.g. /srv/shop/flags/restart.flag */
    const char *restart_unit; /**< e.g. shop-restart.service */
};

/** Sets `m` to MANAGER_SYSTEMCTL with the restart going through the flag file (for a deploy
 * user without root: see manager_flag.c); `f` holds the strings and must outlive `m`. */
void flag_manager_init(struct flag_manager *f, struct deploy_manager *m, const char *flag,
                       const char *restart_unit);

#endif
