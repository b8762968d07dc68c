#include "archive.h"

#include "fsops.h"
#include "io.h"
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Counts how far `path` climbs above its start: <0 when some prefix leaves it. `depth0` is the
 * depth of the directory the path is relative to. */
static int climbs_out(const char *path, int depth0)
{
    int depth = depth0;
    const char *s = path;
    while (*s) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            depth--;
        else if (n > 0 && !(n == 1 && s[0] == '.'))
            depth++;
        if (depth < 0)
            return 1;
        s += n;
        s += *s == '/';
    }
    return 0;
}

/* True when some component of `path` is `..`. */
static bool has_dotdot(const char *path)
{
    for (const char *s = path; *s;) {
        size_t n = strcspn(s, "/");
        if (n == 2 && s[0] == '.' && s[1] == '.')
            return true;
        s += n;
        s += *s == '/';
    }
    return false;
}

int archive_check_names(const char *listing, struct buf *err)
{
    for (const char *line = listing; *line;) {
        size_t n = strcspn(line, "\n");
        char *name = xstrndup(line, n);
        bool bad = name[0] == '/' || has_dotdot(name);
        if (bad)
            buf_printf(err, "refused: member \"%s\" would land outside the release", name);
        free(name);
        if (bad)
            return -EPERM;
        line += n;
        line += *line == '\n';
    }
    return 0;
}

/* The depth of `path` below `root` (both clean, `path` inside `root`). */
static int depth_below(const char *root, const char *path)
{
    int d = 0;
    for (const char *s = path + strlen(root); *s; s++)
        d += *s == '/';
    return d - 1;
}

static int check_link(const char *root, const char *path, struct buf *err)
{
    char target[PATH_MAX];
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return -errno;
    target[n] = '\0';
    if (target[0] != '/' && !climbs_out(target, depth_below(root, path)))
        return 0;
    buf_printf(err, "refused: symlink %s -> %s leads outside the release", path + strlen(root) + 1,
               target);
    return -EPERM;
}

/* Depth-first walk of `dir` (no symlinks followed); each symlink checked. */
static int walk(const char *root, const char *dir, struct buf *err)
{
    struct buf listing = {0};
    const char *const argv[] = {"find", dir, "-type", "l", "-print0", NULL};
    int r = run_cmd(argv, &listing, NULL);
    if (r != 0) {
        buf_printf(err, "cannot list %s", dir);
        buf_free(&listing);
        return r < 0 ? r : -EIO;
    }
    for (size_t off = 0; r == 0 && off < listing.len; off += strlen(listing.data + off) + 1)
        r = check_link(root, listing.data + off, err);
    buf_free(&listing);
    return r;
}

int archive_check_tree(const char *root, struct buf *err)
{
    return walk(root, root, err);
}

static int unpack_tar(const char *src, const char *dest, struct buf *err)
{
    struct buf listing = {0};
    struct buf msg = {0};
    const char *const list[] = {"tar", "--list", "--file", src, NULL};
    int r = run_cmd(list, &listing, &msg);
    if (r != 0)
        buf_printf(err, "cannot read %s as a tarball: %s", src, buf_str(&msg));
    else
        r = archive_check_names(buf_str(&listing), err);
    buf_free(&listing);
    /* GNU tar's own guards stay on (no --absolute-names): a `..` member is skipped and a
     * symlink to an absolute or climbing target becomes a placeholder until the end, so a
     * later member cannot be written through it. Any complaint fails the release. */
    const char *const extract[] = {
        "tar",         "--extract", "--file",          src,
        "--directory", dest,        "--no-same-owner", "--delay-directory-restore",
        NULL};
    msg.len = 0;
    if (r == 0 && (r = run_cmd(extract, NULL, &msg)) != 0) {
        buf_printf(err, "tar failed to unpack %s: %s", src, buf_str(&msg));
        r = r < 0 ? r : -EIO;
    }
    buf_free(&msg);
    return r < 0 ? r : (r > 0 ? -EIO : 0);
}

static int copy_dir(const char *src, const char *dest, struct buf *err)
{
    struct buf from = {0};
    struct buf msg = {0};
    buf_printf(&from, "%s/.", src);
    const char *const argv[] = {"cp", "-a", "--no-preserve=ownership", buf_str(&from), dest, NULL};
    int r = run_cmd(argv, NULL, &msg);
    if (r != 0)
        buf_printf(err, "cannot copy %s: %s", src, buf_str(&msg));
    buf_free(&from);
    buf_free(&msg);
    return r < 0 ? r : (r > 0 ? -EIO : 0);
}

int archive_unpack(const char *src, const char *dest, struct buf *err)
{
    struct stat st;
    if (stat(src, &st) < 0) {
        buf_printf(err, "cannot read %s: %s", src, strerror(errno));
        return -errno;
    }
    if (mkdir(dest, 0755) < 0) {
        buf_printf(err, "cannot create %s: %s", dest, strerror(errno));
        return -errno;
    }
    int r = S_ISDIR(st.st_mode) ? copy_dir(src, dest, err) : unpack_tar(src, dest, err);
    if (r == 0)
        r = archive_check_tree(dest, err);
    return r;
}

int release_find_root(const char *top, struct buf *ret_root)
{
    struct buf found = {0};
    const char *const argv[] = {"find",      top, "-mindepth", "2",
                                "-maxdepth", "5", "-path",     "*/releases/start_erl.data",
                                "-type",     "f", "-print0",   NULL};
    int r = run_cmd(argv, &found, NULL);
    size_t count = 0;
    for (size_t off = 0; r == 0 && off < found.len; off += strlen(found.data + off) + 1)
        count++;
    if (r == 0 && count == 1) {
        size_t n = strlen(found.data) - strlen("/releases/start_erl.data");
        buf_addn(ret_root, found.data, n);
        buf_add(ret_root, "");
    }
    buf_free(&found);
    if (r != 0)
        return r < 0 ? r : -EIO;
    return count == 1 ? 1 : (count == 0 ? -ENOENT : -ENOTUNIQ);
}

int release_version(const char *root, struct buf *ret_vsn)
{
    struct buf path = {0};
    struct buf text = {0};
    buf_printf(&path, "%s/releases/start_erl.data", root);
    int r = read_file(buf_str(&path), &text);
    buf_free(&path);
    if (r < 0)
        return r;
    const char *s = buf_str(&text);
    s += strspn(s, " \t");
    s += strcspn(s, " \t\n");
    s += strspn(s, " \t");
    size_t n = strcspn(s, " \t\n");
    bool ok = n > 0 && n <= 64 && s[0] != '.' && s[0] != '-';
    for (size_t i = 0; ok && i < n; i++)
        ok = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-", s[i]) !=
             NULL;
    if (ok) {
        buf_addn(ret_vsn, s, n);
        buf_add(ret_vsn, "");
    }
    buf_free(&text);
    return ok ? 1 : -EBADMSG;
}
