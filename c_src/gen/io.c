#include "io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int read_file(const char *path, struct buf *out)
{
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return -errno;
    char chunk[4096];
    size_t n;
    buf_add(out, "");
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_addn(out, chunk, n);
    int r = ferror(f) ? -EIO : 0;
    if (fclose(f) != 0 && r == 0)
        r = -EIO;
    return r;
}

int mkdir_parents(const char *path)
{
    char *copy = xstrdup(path);
    int r = 0;
    for (char *p = copy + 1; r == 0; p++) {
        bool end = *p == '\0';
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(copy, 0755) < 0 && errno != EEXIST)
            r = -errno;
        if (end)
            break;
        *p = '/';
    }
    free(copy);
    return r;
}

/* Readers never see a half-written file: the content goes to a temporary name first. */
static int write_atomic(const char *path, const char *content)
{
    struct buf tmp = {0};
    buf_printf(&tmp, "%s.tmp%ld", path, (long)getpid());
    int fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int r = fd < 0 ? -errno : 0;
    size_t len = strlen(content);
    if (r == 0 && write(fd, content, len) != (ssize_t)len)
        r = -EIO;
    if (fd >= 0 && close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(buf_str(&tmp), path) < 0)
        r = -errno;
    if (r < 0)
        unlink(buf_str(&tmp));
    buf_free(&tmp);
    return r;
}

static int write_one(const char *dir, const char *name, const char *content, struct buf *err)
{
    struct buf path = {0};
    buf_printf(&path, "%s/%s", dir, name);
    char *slash = strrchr(path.data, '/');
    *slash = '\0';
    int r = mkdir_parents(buf_str(&path));
    *slash = '/';
    if (r == 0)
        r = write_atomic(buf_str(&path), content);
    if (r < 0)
        buf_printf(err, "output: cannot write %s: %s", buf_str(&path), strerror(-r));
    buf_free(&path);
    return r;
}

int write_files(const struct strlist *names, const struct strlist *contents, const char *dir,
                struct buf *err)
{
    for (size_t i = 0; i < names->n; i++) {
        int r = write_one(dir, names->v[i], contents->v[i], err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int copy_one(const char *src, const char *dst, const char *name, struct buf *err)
{
    struct buf from = {0};
    struct buf to = {0};
    struct buf text = {0};
    buf_printf(&from, "%s/%s", src, name);
    buf_printf(&to, "%s/%s", dst, name);
    int r = read_file(buf_str(&from), &text);
    if (r == 0 && access(buf_str(&to), F_OK) == 0)
        r = -EEXIST;
    if (r == 0)
        r = write_atomic(buf_str(&to), buf_str(&text));
    if (r < 0)
        buf_printf(err, "init_templates: %s: %s", buf_str(r == -EEXIST ? &to : &from),
                   strerror(-r));
    buf_free(&from);
    buf_free(&to);
    buf_free(&text);
    return r;
}

int copy_templates(const char *src, const char *dst, const char *const *names, struct buf *err)
{
    int r = mkdir_parents(dst);
    if (r < 0) {
        buf_printf(err, "init_templates: cannot create %s: %s", dst, strerror(-r));
        return r;
    }
    for (size_t i = 0; r == 0 && names[i] != NULL; i++)
        r = copy_one(src, dst, names[i], err);
    return r;
}
