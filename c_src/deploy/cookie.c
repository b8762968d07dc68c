/* The Erlang cookie, kept in the deploy dir so that every release gets the same one: a
 * release built on a fresh machine brings a new random releases/COOKIE, and `bin/app
 * remote|rpc|stop` through a switched `current` would then no longer reach the running node. */
#include "deploy.h"

#include "io.h"

#include <errno.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

static long mode_of(const char *path, unsigned *mode)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    *mode = st.st_mode & 07777;
    return (long)st.st_gid;
}

int deploy_cookie_keep(const struct deploy_paths *p, const char *root)
{
    struct buf in_rel = {0};
    struct buf text = {0};
    buf_printf(&in_rel, "%s/releases/COOKIE", root);
    unsigned mode = 0644;
    int r = 0;
    if (path_exists(p->cookie)) {
        /* The release's file keeps the mode and group it came with: its bin script reads
         * it as the service's user. */
        long gid = mode_of(buf_str(&in_rel), &mode);
        r = read_file(p->cookie, &text);
        if (r == 0)
            r = write_file_atomic(buf_str(&in_rel), text.data, text.len, mode, gid);
    } else if (path_exists(buf_str(&in_rel))) {
        r = read_file(buf_str(&in_rel), &text);
        if (r == 0)
            r = write_file_atomic(p->cookie, text.data, text.len, 0600, -1);
    }
    buf_free(&in_rel);
    buf_free(&text);
    return r;
}

int deploy_cookie_create(const struct deploy_paths *p)
{
    if (path_exists(p->cookie))
        return 0;
    unsigned char raw[32];
    size_t got = 0;
    while (got < sizeof(raw)) {
        ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
        if (n < 0 && errno != EINTR)
            return -errno;
        got += n > 0 ? (size_t)n : 0;
    }
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    char text[64];
    size_t len = 0;
    unsigned bits = 0;
    unsigned acc = 0;
    for (size_t i = 0; i < sizeof(raw); i++) {
        acc = (acc << 8) | raw[i];
        for (bits += 8; bits >= 5; bits -= 5)
            text[len++] = alphabet[(acc >> (bits - 5)) & 31];
    }
    if (bits > 0)
        text[len++] = alphabet[(acc << (5 - bits)) & 31];
    int r = write_file_atomic(p->cookie, text, len, 0600, -1);
    /* Owned like the deploy dir: a deploy user without root gives each release this cookie. */
    struct stat st;
    if (r > 0 && stat(p->dir, &st) == 0 && chown(p->cookie, st.st_uid, st.st_gid) < 0 &&
        errno != EPERM)
        r = -errno;
    return r;
}
