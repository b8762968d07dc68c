#include "fsops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *joined(const char *dir, const char *name)
{
    struct buf b = {0};
    buf_printf(&b, "%s/%s", dir, name);
    return buf_steal(&b);
}

void deploy_paths_init(struct deploy_paths *p, const char *dir)
{
    p->dir = xstrdup(dir);
    p->releases = joined(dir, "releases");
    p->current = joined(dir, "current");
    p->intent = joined(dir, ".deploy-intent");
    p->lock = joined(dir, ".deploy-lock");
    p->cookie = joined(dir, "COOKIE");
}

void deploy_paths_free(struct deploy_paths *p)
{
    free(p->dir);
    free(p->releases);
    free(p->current);
    free(p->intent);
    free(p->lock);
    free(p->cookie);
    *p = (struct deploy_paths){0};
}

int deploy_lock(const struct deploy_paths *p, bool wait)
{
    int fd = open(p->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return -errno;
    int r;
    do
        r = flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB));
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        r = -errno;
        close(fd);
        return r;
    }
    /* 0 is a valid fd only when stdin was closed: keep "> 0 = locked" true. */
    if (fd == 0) {
        fd = fcntl(0, F_DUPFD_CLOEXEC, 1);
        close(0);
    }
    return fd < 0 ? -errno : fd;
}

int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    return r;
}

int deploy_switch(const struct deploy_paths *p, const char *name)
{
    struct buf target = {0};
    struct buf tmp = {0};
    buf_printf(&target, "releases/%s", name);
    buf_printf(&tmp, "%s/.current.%ld", p->dir, (long)getpid());
    (void)unlink(buf_str(&tmp));
    int r = symlink(buf_str(&target), buf_str(&tmp)) < 0 ? -errno : 0;
    if (r == 0 && rename(buf_str(&tmp), p->current) < 0) {
        r = -errno;
        (void)unlink(buf_str(&tmp));
    }
    if (r == 0)
        r = fsync_dir(p->dir);
    buf_free(&target);
    buf_free(&tmp);
    return r < 0 ? r : 1;
}

int deploy_current(const struct deploy_paths *p, struct buf *ret_name)
{
    char target[4096];
    ssize_t n = readlink(p->current, target, sizeof(target) - 1);
    if (n < 0)
        return errno == ENOENT ? 0 : -errno;
    target[n] = '\0';
    const char *prefix = "releases/";
    if (strncmp(target, prefix, strlen(prefix)) != 0 ||
        !release_name_valid(target + strlen(prefix)))
        return -EINVAL;
    buf_add(ret_name, target + strlen(prefix));
    return 1;
}

bool release_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len < RELEASE_KEY_LEN + 2 || name[0] == '.' || strchr(name, '/') != NULL)
        return false;
    const char *key = name + len - RELEASE_KEY_LEN;
    if (key[-1] != '-')
        return false;
    for (size_t i = 0; i < RELEASE_KEY_LEN; i++) {
        bool digit = key[i] >= '0' && key[i] <= '9';
        if ((i == 8 && key[i] != 'T') || (i == 15 && key[i] != '.') ||
            (i != 8 && i != 15 && !digit))
            return false;
    }
    return true;
}

static int by_key(const void *a, const void *b)
{
    const char *x = *(const char *const *)a;
    const char *y = *(const char *const *)b;
    int c = strcmp(x + strlen(x) - RELEASE_KEY_LEN, y + strlen(y) - RELEASE_KEY_LEN);
    return c != 0 ? c : strcmp(x, y);
}

int deploy_list(const struct deploy_paths *p, struct strlist *ret)
{
    DIR *d = opendir(p->releases);
    if (d == NULL)
        return errno == ENOENT ? 0 : -errno;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (release_name_valid(e->d_name))
            strlist_push(ret, e->d_name);
    closedir(d);
    if (ret->n > 1)
        qsort(ret->v, ret->n, sizeof(*ret->v), by_key);
    return (int)ret->n;
}

void release_name(const char *vsn, int64_t now_ms, struct buf *out)
{
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    char stamp[32];
    gmtime_r(&secs, &tm);
    (void)strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    buf_printf(out, "%s-%s.%03d", vsn, stamp, (int)(now_ms % 1000));
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash == NULL ? xstrdup(".")
                         : xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
}

int write_file_atomic(const char *path, const char *data, size_t len, unsigned mode, long gid)
{
    struct buf tmp = {0};
    buf_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
    int fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    int r = fd < 0 ? -errno : write_all(fd, data, len);
    if (r == 0 && gid >= 0 && fchown(fd, (uid_t)-1, (gid_t)gid) < 0 && errno != EPERM)
        r = -errno;
    if (r == 0 && fchmod(fd, (mode_t)mode) < 0)
        r = -errno;
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (fd >= 0 && close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(buf_str(&tmp), path) < 0)
        r = -errno;
    if (r < 0 && fd >= 0)
        (void)unlink(buf_str(&tmp));
    if (r == 0) {
        char *dir = dir_of(path);
        r = fsync_dir(dir);
        free(dir);
    }
    buf_free(&tmp);
    return r < 0 ? r : 1;
}

int deploy_intent_write(const struct deploy_paths *p, const char *from, const char *to)
{
    struct buf text = {0};
    buf_printf(&text, "from=%s\nto=%s\n", from, to);
    int r = write_file_atomic(p->intent, text.data, text.len, 0600, -1);
    buf_free(&text);
    return r;
}

/* One `key=value` line of the intent into `out`; the value ends at the line break. */
static int intent_field(const char *text, const char *key, struct buf *out)
{
    const char *s = strstr(text, key);
    if (s == NULL || (s != text && s[-1] != '\n'))
        return -EBADMSG;
    s += strlen(key);
    const char *nl = strchr(s, '\n');
    if (nl == NULL)
        return -EBADMSG;
    buf_addn(out, s, (size_t)(nl - s));
    buf_add(out, "");
    return 0;
}

int deploy_intent_read(const struct deploy_paths *p, struct deploy_intent *ret)
{
    struct buf text = {0};
    int fd = open(p->intent, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    char chunk[1024];
    ssize_t n;
    buf_add(&text, "");
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        buf_addn(&text, chunk, (size_t)n);
    int r = n < 0 ? -errno : 0;
    close(fd);
    if (r == 0)
        r = intent_field(buf_str(&text), "from=", &ret->from);
    if (r == 0)
        r = intent_field(buf_str(&text), "to=", &ret->to);
    if (r == 0 && (!release_name_valid(buf_str(&ret->to)) ||
                   (ret->from.len > 0 && !release_name_valid(buf_str(&ret->from)))))
        r = -EBADMSG;
    buf_free(&text);
    return r < 0 ? r : 1;
}

int deploy_intent_clear(const struct deploy_paths *p)
{
    if (unlink(p->intent) < 0)
        return errno == ENOENT ? 0 : -errno;
    int r = fsync_dir(p->dir);
    return r < 0 ? r : 1;
}

void deploy_intent_free(struct deploy_intent *i)
{
    buf_free(&i->from);
    buf_free(&i->to);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    int r = flag == FTW_DP ? rmdir(path) : unlink(path);
    return r < 0 && errno != ENOENT ? -errno : 0;
}

int remove_tree(const char *path)
{
    if (!path_exists(path))
        return 0;
    int r = nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS);
    if (r < 0)
        return r == -1 ? -errno : r;
    return 1;
}

bool path_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}
