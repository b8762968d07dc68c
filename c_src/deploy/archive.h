/* Unpacking a release safely: a tarball through GNU tar after its listing was checked, or a
 * directory through cp; then the tree is checked for symlinks leading out of it. */
#ifndef VIGIL_DEPLOY_ARCHIVE_H
#define VIGIL_DEPLOY_ARCHIVE_H

#include "buf.h"

/** Checks a `tar --list` output (one member a line): an absolute name or a `..` component is
 * refused. Returns 0, or -EPERM with the member in `err`. */
int archive_check_names(const char *listing, struct buf *err);

/** Checks every symlink under `root`: its target must be relative and stay inside `root`
 * (lexically). Returns 0, or -EPERM with the link in `err`, or -errno. */
int archive_check_tree(const char *root, struct buf *err);

/** Unpacks `src` (a tarball, compressed or not, or a release directory) into the empty
 * directory `dest`, which it creates. Returns 0, -EPERM when refused, or -errno; the reason is
 * in `err`. `dest` may hold a partial tree on failure: the caller removes it. */
int archive_unpack(const char *src, const char *dest, struct buf *err);

/** Finds the release root under `top`: the one directory at depth 0 to 3 that holds
 * `releases/start_erl.data`. Returns 1 with the path in `ret_root`, -ENOENT when there is none,
 * -ENOTUNIQ when more than one. */
int release_find_root(const char *top, struct buf *ret_root);

/** Reads the release version (the second word of releases/start_erl.data) under `root`.
 * Returns 1, -EBADMSG when it is not a plain version ([A-Za-z0-9._+-]), or -errno. */
int release_version(const char *root, struct buf *ret_vsn);

#endif
