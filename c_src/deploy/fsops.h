/* The deploy dir on disk: its paths, the lock, the `current` link, the list of kept releases,
 * the intent file and small file helpers. Nothing here talks to systemd. */
#ifndef VIGIL_DEPLOY_FSOPS_H
#define VIGIL_DEPLOY_FSOPS_H

#include "buf.h"

#include <stdbool.h>
#include <stdint.h>

/** Length of the sort key ending every release name: `YYYYMMDDTHHMMSS.mmm` (UTC). */
#define RELEASE_KEY_LEN 19

/** The paths of one deploy dir, all owned. */
struct deploy_paths {
    char *dir;      /**< the deploy dir itself */
    char *releases; /**< dir/releases: one complete release per entry */
    char *current;  /**< dir/current: a relative symlink to releases/<name> */
    char *intent;   /**< dir/.deploy-intent: present while a switch is under way */
    char *lock;     /**< dir/.deploy-lock: flock()ed by the one running deploy */
    char *cookie;   /**< dir/COOKIE: the cookie every release gets */
};

/** Fills `p` for the deploy dir `dir` (no I/O). */
void deploy_paths_init(struct deploy_paths *p, const char *dir);

/** Frees the strings of `p`. */
void deploy_paths_free(struct deploy_paths *p);

/** Takes the deploy lock, waiting for it when `wait`. Returns the lock's fd (>0; close it to
 * release the lock) or -errno: -EWOULDBLOCK when busy and not waiting. */
int deploy_lock(const struct deploy_paths *p, bool wait);

/** Points `current` at releases/`name` atomically: a new symlink under a temporary name, then
 * rename(2) over `current`, so a reader sees the old or the new link, never none. Returns 1,
 * or -errno. */
int deploy_switch(const struct deploy_paths *p, const char *name);

/** The release `current` points at, into `ret_name`. Returns 1, 0 when there is no `current`,
 * -EINVAL when it points outside releases/, or -errno. */
int deploy_current(const struct deploy_paths *p, struct buf *ret_name);

/** Returns true when `name` is a release name: no dot first, no slash, ending in `-` and a
 * sort key (see RELEASE_KEY_LEN). */
bool release_name_valid(const char *name);

/** The kept releases, oldest first (by the key their name ends with). Returns the count (>=0)
 * or -errno; a missing releases/ is an empty list. */
int deploy_list(const struct deploy_paths *p, struct strlist *ret);

/** A release name for version `vsn` deployed at `now_ms` (ms since the epoch, UTC). */
void release_name(const char *vsn, int64_t now_ms, struct buf *out);

/** An interrupted switch: `current` was (or is being) moved from `from` ("" = no release
 * before) to `to`. */
struct deploy_intent {
    struct buf from, to;
};

/** Records the intent durably (temporary file, fsync, rename, fsync of the dir). Returns 1 or
 * -errno. */
int deploy_intent_write(const struct deploy_paths *p, const char *from, const char *to);

/** Reads the intent. Returns 1 when there is one, 0 when not, -EBADMSG when unreadable, or
 * -errno. */
int deploy_intent_read(const struct deploy_paths *p, struct deploy_intent *ret);

/** Removes the intent durably. Returns 1, 0 when there was none, or -errno. */
int deploy_intent_clear(const struct deploy_paths *p);

/** Frees the buffers of `i`. */
void deploy_intent_free(struct deploy_intent *i);

/** Removes a tree without following symlinks. Returns 1, 0 when absent, or -errno. */
int remove_tree(const char *path);

/** Writes `len` bytes to `path` durably through a temporary file and rename(2), with `mode`;
 * `gid` >= 0 also sets the group (EPERM ignored: an unprivileged test run). Returns 1 or -errno. */
int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode, long gid);

/** Returns true when `path` exists (lstat). */
bool path_exists(const char *path);

/** fsync()s the directory `path`. Returns 0 or -errno. */
int fsync_dir(const char *path);

#endif
