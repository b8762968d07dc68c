#include "deploy.h"

#include "archive.h"
#include "io.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t realtime_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void deploy_init(struct deploy *d, const char *dir, const char *unit,
                 const struct deploy_manager *m)
{
    *d = (struct deploy){.unit = unit, .m = m, .now_us = realtime_us, .lock_fd = -1};
    deploy_paths_init(&d->p, dir);
}

void deploy_free(struct deploy *d)
{
    if (d->lock_fd > 0)
        close(d->lock_fd);
    deploy_paths_free(&d->p);
    buf_free(&d->err);
}

static void say(const struct deploy *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const struct deploy *d, const char *fmt, ...)
{
    if (d->log == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    (void)fputs("vigil-deploy: ", d->log);
    (void)vfprintf(d->log, fmt, ap);
    (void)fputc('\n', d->log);
    (void)fflush(d->log);
    va_end(ap);
}

static int fail(struct deploy *d, int r, const char *what)
{
    buf_printf(&d->err, "%s%s: %s", d->err.len ? "; " : "", what, strerror(-r));
    return r;
}

int deploy_begin(struct deploy *d, bool wait)
{
    int fd = deploy_lock(&d->p, false);
    if (fd == -EWOULDBLOCK && wait) {
        say(d, "waiting for the deploy that holds %s", d->p.lock);
        fd = deploy_lock(&d->p, true);
    }
    if (fd < 0)
        return fail(d, fd, fd == -EWOULDBLOCK ? "another deploy holds the lock" : d->p.lock);
    d->lock_fd = fd;
    int r = mkdir_parents(d->p.releases);
    if (r < 0)
        return fail(d, r, d->p.releases);
    r = deploy_recover(d);
    return r < 0 ? r : 0;
}

/* Staging dirs (`.staging-*`) a killed deploy left in releases/. */
static int remove_staging(struct deploy *d)
{
    DIR *dir = opendir(d->p.releases);
    if (dir == NULL)
        return errno == ENOENT ? 0 : -errno;
    struct strlist gone = {0};
    const struct dirent *e;
    while ((e = readdir(dir)) != NULL)
        if (strncmp(e->d_name, ".staging-", 9) == 0)
            strlist_push(&gone, e->d_name);
    closedir(dir);
    int r = 0;
    for (size_t i = 0; i < gone.n && r >= 0; i++) {
        struct buf path = {0};
        buf_printf(&path, "%s/%s", d->p.releases, gone.v[i]);
        r = remove_tree(buf_str(&path));
        say(d, "removed %s, left by an interrupted deploy", buf_str(&path));
        buf_free(&path);
    }
    int n = (int)gone.n;
    strlist_free(&gone);
    return r < 0 ? r : n;
}

static void release_path(const struct deploy *d, const char *name, struct buf *out)
{
    buf_printf(out, "%s/%s", d->p.releases, name);
}

/* True when the unit's main process runs release `name` (its cwd resolved at exec). */
static bool runs(const struct deploy *d, const char *running, const char *name)
{
    struct buf path = {0};
    char real[PATH_MAX];
    release_path(d, name, &path);
    bool same = realpath(buf_str(&path), real) != NULL && strcmp(real, running) == 0;
    buf_free(&path);
    return same;
}

/* After an interrupted switch back to `from`: restart only when the unit runs another one. */
static int restart_unless_running(struct deploy *d, const char *from)
{
    struct buf running = {0};
    struct buf err = {0};
    int r = d->m->running_dir(d->m->ctx, d->unit, &running);
    if (r > 0 && !runs(d, buf_str(&running), from)) {
        say(d, "%s runs %s: restarting it on %s", d->unit, buf_str(&running), from);
        r = d->m->restart(d->m->ctx, d->unit, &err);
        if (r < 0)
            buf_printf(&d->err, "restarting %s on %s failed: %s", d->unit, from, buf_str(&err));
    }
    buf_free(&running);
    buf_free(&err);
    return r < 0 ? r : 0;
}

static int recover_intent(struct deploy *d, const struct deploy_intent *in)
{
    const char *from = buf_str(&in->from);
    const char *to = buf_str(&in->to);
    struct buf path = {0};
    release_path(d, from[0] ? from : to, &path);
    bool back = from[0] != '\0' && path_exists(buf_str(&path));
    buf_free(&path);
    int r = 1;
    if (back || from[0] == '\0')
        r = deploy_switch(&d->p, back ? from : to);
    if (r < 0)
        return fail(d, r, "switching current");
    say(d, "an interrupted deploy from %s to %s was %s", from[0] ? from : "(none)", to,
        back ? "undone" : "finished");
    if (back)
        r = restart_unless_running(d, from);
    int c = deploy_intent_clear(&d->p);
    return r < 0 ? r : (c < 0 ? fail(d, c, "clearing the intent") : 1);
}

int deploy_recover(struct deploy *d)
{
    int staged = remove_staging(d);
    if (staged < 0)
        return fail(d, staged, "removing staging dirs");
    struct deploy_intent in = {0};
    int r = deploy_intent_read(&d->p, &in);
    if (r < 0)
        fail(d, r, d->p.intent);
    else if (r > 0)
        r = recover_intent(d, &in);
    deploy_intent_free(&in);
    return r < 0 ? r : (r > 0 || staged > 0);
}

/* Moves the unpacked release root to releases/<vsn>-<key>; a taken key is retried 1 ms on. */
static int commit_release(struct deploy *d, const char *root, const char *vsn, struct buf *ret_name)
{
    int64_t ms = d->now_us() / 1000;
    for (int i = 0; i < 1000; i++, ms++) {
        struct buf name = {0};
        struct buf path = {0};
        release_name(vsn, ms, &name);
        release_path(d, buf_str(&name), &path);
        int r = path_exists(buf_str(&path)) ? -EEXIST : 0;
        if (r == 0 && rename(root, buf_str(&path)) < 0)
            r = -errno;
        if (r == 0) {
            buf_add(ret_name, buf_str(&name));
            r = fsync_dir(d->p.releases);
        }
        buf_free(&name);
        buf_free(&path);
        if (r != -EEXIST && r != -ENOTEMPTY)
            return r < 0 ? r : 1;
    }
    return -EEXIST;
}

static int stage_into(struct deploy *d, const char *src, const char *staging, struct buf *ret_name)
{
    struct buf root = {0};
    struct buf vsn = {0};
    int r = archive_unpack(src, staging, &d->err);
    if (r == 0 && (r = release_find_root(staging, &root)) < 0)
        buf_printf(&d->err, "%s holds %s release (releases/start_erl.data)", src,
                   r == -ENOENT ? "no" : "more than one");
    if (r > 0 && (r = release_version(buf_str(&root), &vsn)) < 0)
        buf_printf(&d->err, "%s: no plain version in releases/start_erl.data", src);
    if (r > 0 && (r = deploy_cookie_keep(&d->p, buf_str(&root))) < 0)
        fail(d, r, "keeping the cookie");
    if (r >= 0 && (r = commit_release(d, buf_str(&root), buf_str(&vsn), ret_name)) < 0)
        fail(d, r, "moving the release into releases/");
    buf_free(&root);
    buf_free(&vsn);
    return r;
}

int deploy_stage(struct deploy *d, const char *src, struct buf *ret_name)
{
    struct buf staging = {0};
    buf_printf(&staging, "%s/.staging-%ld", d->p.releases, (long)getpid());
    (void)remove_tree(buf_str(&staging));
    int r = stage_into(d, src, buf_str(&staging), ret_name);
    int c = remove_tree(buf_str(&staging));
    buf_free(&staging);
    if (r >= 0 && c < 0)
        return fail(d, c, "removing the staging dir");
    return r < 0 ? r : 1;
}

/* Restarts the unit; on failure the journal lines since `since` go to the log. */
static int restart_reporting(struct deploy *d, const char *name, int64_t since)
{
    struct buf err = {0};
    struct buf journal = {0};
    say(d, "restarting %s on %s", d->unit, name);
    int r = d->m->restart(d->m->ctx, d->unit, &err);
    if (r < 0) {
        d->m->journal(d->m->ctx, d->unit, since, &journal);
        say(d, "%s failed to start on %s: %s\n--- journal ---\n%s---", d->unit, name, buf_str(&err),
            buf_str(&journal));
    }
    buf_free(&err);
    buf_free(&journal);
    return r;
}

static enum deploy_outcome switch_back(struct deploy *d, const char *from, const char *to)
{
    int r = deploy_switch(&d->p, from);
    if (r < 0) {
        fail(d, r, "switching current back");
        return DEPLOY_DOWN;
    }
    say(d, "current is %s again", from);
    r = restart_reporting(d, from, d->now_us());
    if (r < 0)
        buf_printf(&d->err, "%s failed, and %s too: the service is down", to, from);
    else
        buf_printf(&d->err, "%s failed to start; %s runs again", to, from);
    return r < 0 ? DEPLOY_DOWN : DEPLOY_ROLLED_BACK;
}

enum deploy_outcome deploy_activate(struct deploy *d, const char *from, const char *to)
{
    int r = deploy_intent_write(&d->p, from, to);
    if (r < 0) {
        fail(d, r, "writing the intent");
        return DEPLOY_REFUSED;
    }
    r = deploy_switch(&d->p, to);
    if (r < 0) {
        fail(d, r, "switching current");
        (void)deploy_intent_clear(&d->p);
        return DEPLOY_REFUSED;
    }
    say(d, "current is %s", to);
    enum deploy_outcome o = DEPLOY_DONE;
    if (restart_reporting(d, to, d->now_us()) < 0) {
        o = from[0] ? switch_back(d, from, to) : DEPLOY_DOWN;
        if (!from[0])
            buf_printf(&d->err, "%s failed to start and there is no release before it", to);
    } else {
        say(d, "%s is ready on %s", d->unit, to);
    }
    r = deploy_intent_clear(&d->p);
    if (r < 0)
        fail(d, r, "clearing the intent (the next run finishes it)");
    return o;
}

enum deploy_outcome deploy_release(struct deploy *d, const char *src)
{
    struct buf name = {0};
    struct buf cur = {0};
    int r = deploy_current(&d->p, &cur);
    if (r < 0)
        fail(d, r, d->p.current);
    if (r >= 0)
        r = deploy_stage(d, src, &name);
    enum deploy_outcome o = DEPLOY_REFUSED;
    if (r > 0) {
        say(d, "unpacked %s as releases/%s", src, buf_str(&name));
        o = deploy_activate(d, buf_str(&cur), buf_str(&name));
    }
    buf_free(&name);
    buf_free(&cur);
    return o;
}

static const char *newest_of_version(const struct strlist *kept, const char *vsn)
{
    size_t len = strlen(vsn);
    for (size_t i = kept->n; i-- > 0;)
        if (strlen(kept->v[i]) == len + 1 + RELEASE_KEY_LEN && strncmp(kept->v[i], vsn, len) == 0)
            return kept->v[i];
    return NULL;
}

int rollback_target(const struct strlist *kept, const char *current, const char *want,
                    struct buf *ret)
{
    const char *to = NULL;
    if (want != NULL) {
        to = strlist_contains(kept, want) ? want : newest_of_version(kept, want);
        if (to == NULL)
            return -ENOENT;
    } else {
        for (size_t i = 1; i < kept->n && to == NULL; i++)
            if (strcmp(kept->v[i], current) == 0)
                to = kept->v[i - 1];
    }
    if (to == NULL || strcmp(to, current) == 0)
        return 0;
    buf_add(ret, to);
    return 1;
}

static void refuse_rollback(struct deploy *d, int r, const char *want, const char *cur)
{
    if (r < 0)
        buf_printf(&d->err, "no kept release %s", want);
    else if (want == NULL)
        buf_printf(&d->err, "nothing to roll back to: %s is the oldest kept release", cur);
    else
        buf_printf(&d->err, "%s is already current", want);
}

enum deploy_outcome deploy_rollback(struct deploy *d, const char *want)
{
    struct strlist kept = {0};
    struct buf cur = {0};
    struct buf to = {0};
    int r = deploy_current(&d->p, &cur);
    if (r == 0)
        buf_add(&d->err, "there is no current release");
    else if (r < 0)
        fail(d, r, d->p.current);
    if (r > 0 && (r = deploy_list(&d->p, &kept)) < 0)
        fail(d, r, d->p.releases);
    if (r > 0)
        r = rollback_target(&kept, buf_str(&cur), want, &to);
    if (r <= 0 && kept.n > 0)
        refuse_rollback(d, r, want, buf_str(&cur));
    enum deploy_outcome o =
        r > 0 ? deploy_activate(d, buf_str(&cur), buf_str(&to)) : DEPLOY_REFUSED;
    strlist_free(&kept);
    buf_free(&cur);
    buf_free(&to);
    return o;
}

void prune_select(const struct strlist *kept, const char *current, const char *running,
                  unsigned keep, struct strlist *ret)
{
    for (size_t i = 0; i + keep < kept->n; i++) {
        const char *n = kept->v[i];
        if ((current == NULL || strcmp(n, current) != 0) &&
            (running == NULL || strcmp(n, running) != 0))
            strlist_push(ret, n);
    }
}

/* The release the unit runs, as a name under releases/, into `out`. */
static void running_release(struct deploy *d, struct buf *out)
{
    struct buf dir = {0};
    char real[PATH_MAX];
    if (d->m->running_dir(d->m->ctx, d->unit, &dir) > 0 && realpath(d->p.releases, real) != NULL) {
        size_t n = strlen(real);
        const char *s = buf_str(&dir);
        if (strncmp(s, real, n) == 0 && s[n] == '/' && strchr(s + n + 1, '/') == NULL)
            buf_add(out, s + n + 1);
    }
    buf_free(&dir);
}

enum deploy_outcome deploy_prune(struct deploy *d, unsigned keep)
{
    struct strlist kept = {0};
    struct strlist gone = {0};
    struct buf cur = {0};
    struct buf running = {0};
    int r = deploy_current(&d->p, &cur);
    if (r >= 0)
        r = deploy_list(&d->p, &kept);
    running_release(d, &running);
    if (r >= 0)
        prune_select(&kept, cur.len ? buf_str(&cur) : NULL, running.len ? buf_str(&running) : NULL,
                     keep, &gone);
    for (size_t i = 0; r >= 0 && i < gone.n; i++) {
        struct buf path = {0};
        release_path(d, gone.v[i], &path);
        r = remove_tree(buf_str(&path));
        say(d, "removed releases/%s", gone.v[i]);
        buf_free(&path);
    }
    if (r < 0)
        fail(d, r, "pruning");
    strlist_free(&kept);
    strlist_free(&gone);
    buf_free(&cur);
    buf_free(&running);
    return r < 0 ? DEPLOY_REFUSED : DEPLOY_DONE;
}

void deploy_status(struct deploy *d, struct buf *out)
{
    struct strlist kept = {0};
    struct buf cur = {0};
    struct buf running = {0};
    (void)deploy_current(&d->p, &cur);
    (void)deploy_list(&d->p, &kept);
    running_release(d, &running);
    buf_printf(out, "deploy dir: %s\ncurrent: %s\nreleases (oldest first):\n", d->p.dir,
               cur.len ? buf_str(&cur) : "(none)");
    for (size_t i = 0; i < kept.n; i++)
        buf_printf(out, "  %s%s%s\n", kept.v[i],
                   strcmp(kept.v[i], buf_str(&cur)) ? "" : "  current",
                   strcmp(kept.v[i], buf_str(&running)) ? "" : "  running");
    buf_printf(out, "unit %s:\n", d->unit);
    d->m->describe(d->m->ctx, d->unit, out);
    strlist_free(&kept);
    buf_free(&cur);
    buf_free(&running);
}
