/* The deploy flows: release, rollback, recovery of an interrupted deploy, prune and status,
 * over fsops (the deploy dir) and a deploy_manager (systemd). */
#ifndef VIGIL_DEPLOY_DEPLOY_H
#define VIGIL_DEPLOY_DEPLOY_H

#include "buf.h"
#include "fsops.h"
#include "manager.h"

#include <stdint.h>
#include <stdio.h>

/** The outcome of a flow, which is also the exit status of vigil-deploy. */
enum deploy_outcome {
    DEPLOY_DONE = 0,        /**< done, or nothing to do; the service runs what `current` says */
    DEPLOY_REFUSED = 1,     /**< refused or failed before `current` changed; nothing changed */
    DEPLOY_ROLLED_BACK = 2, /**< the new release failed to start; the previous one runs again */
    DEPLOY_DOWN = 3,        /**< the new release failed and so did the previous one: down */
};

/** One deploy dir and the unit that runs its `current`. */
struct deploy {
    struct deploy_paths p;
    const char *unit;               /**< e.g. "shop.service" */
    const struct deploy_manager *m; /**< the service manager */
    int64_t (*now_us)(void);        /**< CLOCK_REALTIME in µs; tests give their own */
    FILE *log;                      /**< progress and reports, or NULL */
    int lock_fd;                    /**< > 0 while the lock is held */
    struct buf err;                 /**< why a flow was refused or failed */
};

/** Sets up `d` for the deploy dir `dir`; no I/O. */
void deploy_init(struct deploy *d, const char *dir, const char *unit,
                 const struct deploy_manager *m);

/** Releases the lock if held and frees `d`. */
void deploy_free(struct deploy *d);

/** Takes the lock (waiting for a running deploy when `wait`), creates releases/ and recovers
 * an interrupted deploy. Returns 0, or -errno with the reason in d->err. */
int deploy_begin(struct deploy *d, bool wait);

/** Finishes or undoes what a killed deploy left: staging dirs are removed; an unfinished
 * switch goes back to the release it came from (which is restarted when the unit runs
 * another one), or with no release before it, forward to the new one. Returns 1 when
 * something was recovered, 0 when there was nothing, -errno. */
int deploy_recover(struct deploy *d);

/** Unpacks `src` (tarball or directory) as a new complete release under releases/ and gives it
 * the kept cookie; `current` is not touched. Returns 1 with its name, or -errno (d->err). */
int deploy_stage(struct deploy *d, const char *src, struct buf *ret_name);

/** Switches `current` from `from` ("" = none) to `to` under an intent, restarts, and on a
 * failed start switches back and restarts `from`. Returns a deploy_outcome. */
enum deploy_outcome deploy_activate(struct deploy *d, const char *from, const char *to);

/** stage + activate. Returns a deploy_outcome. */
enum deploy_outcome deploy_release(struct deploy *d, const char *src);

/** Picks the rollback target among `kept` (oldest first): `want` (a release name, or a
 * version: its newest release) or, when NULL, the release just before `current`. Returns 1
 * with the name, 0 when there is nothing to roll back to (or `want` is current), -ENOENT
 * when `want` is not kept. */
int rollback_target(const struct strlist *kept, const char *current, const char *want,
                    struct buf *ret);

/** Rolls back (or forward) to `want` or the previous release. Returns a deploy_outcome; a
 * refused rollback leaves `current` as it was. */
enum deploy_outcome deploy_rollback(struct deploy *d, const char *want);

/** Which releases prune removes: all but the `keep` newest, `current` and `running` (either
 * may be NULL). Appends them to `ret`. */
void prune_select(const struct strlist *kept, const char *current, const char *running,
                  unsigned keep, struct strlist *ret);

/** Removes old releases (see prune_select). Returns a deploy_outcome. */
enum deploy_outcome deploy_prune(struct deploy *d, unsigned keep);

/** Appends `current`, the kept releases (which is current, which is running) and the unit's
 * state to `out`. */
void deploy_status(struct deploy *d, struct buf *out);

/** Keeps the cookie stable: when the deploy dir has a COOKIE, it replaces the release's
 * releases/COOKIE under `root`; else the release's becomes the kept one. Returns 1 when a
 * cookie was written, 0 when neither has one, -errno. */
int deploy_cookie_keep(const struct deploy_paths *p, const char *root);

/** Creates the deploy dir's COOKIE (mode 0600) from 32 random bytes in base32, as mix
 * release does, when there is none. Returns 1 created, 0 already there, -errno. */
int deploy_cookie_create(const struct deploy_paths *p);

#endif
