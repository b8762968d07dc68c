/* The manager for a deploy user without root: the restart goes through the flag file that
 * vigil-unit's `restart_method = systemd_flag` watches. Touching it makes systemd start
 * <service>-restart.service, a oneshot whose `systemctl restart <service>` runs as root and
 * waits for the restart job, so the oneshot's own result is the restart's verdict: the flag
 * manager waits for a new run of it to finish and reads its Result=. Reading unit properties
 * needs no privilege; everything but the restart is MANAGER_SYSTEMCTL's. */
#include "manager.h"

#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Polling interval and the time allowed beyond the service's own TimeoutStartSec= (stop,
 * the restart unit's own start). */
#define POLL_NS 100000000L
#define SLACK_USEC (60LL * 1000000)

static long long show_usec(const char *unit, const char *property)
{
    struct buf v = {0};
    unit_property(unit, property, &v);
    long long n = strtoll(buf_str(&v), NULL, 10);
    buf_free(&v);
    return n;
}

static int touch_flag(const char *path, struct buf *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0660);
    if (fd < 0) {
        buf_printf(err, "cannot write the restart flag %s: %s", path, strerror(errno));
        return -errno;
    }
    /* PathModified= fires on close after a write. */
    char stamp[32];
    int n = snprintf(stamp, sizeof(stamp), "%ld\n", (long)time(NULL));
    int r = write(fd, stamp, (size_t)n) == n ? 0 : -errno;
    close(fd);
    if (r < 0)
        buf_printf(err, "cannot write the restart flag %s: %s", path, strerror(-r));
    return r;
}

/* Waits for a run of `restart_unit` other than invocation `before` to finish; its Result=. */
static int wait_run(const char *restart_unit, const char *before, long long limit_usec,
                    struct buf *result)
{
    const struct timespec tick = {0, POLL_NS};
    for (long long waited = 0; waited <= limit_usec; waited += POLL_NS / 1000) {
        struct buf id = {0};
        struct buf state = {0};
        unit_property(restart_unit, "InvocationID", &id);
        unit_property(restart_unit, "ActiveState", &state);
        bool done =
            id.len && strcmp(buf_str(&id), before) != 0 &&
            (strcmp(buf_str(&state), "inactive") == 0 || strcmp(buf_str(&state), "failed") == 0);
        buf_free(&id);
        buf_free(&state);
        if (done) {
            unit_property(restart_unit, "Result", result);
            return 1;
        }
        nanosleep(&tick, NULL);
    }
    return -ETIMEDOUT;
}

static int flag_restart(void *ctx, const char *unit, struct buf *err)
{
    const struct flag_manager *f = ctx;
    struct buf before = {0};
    struct buf result = {0};
    unit_property(f->restart_unit, "InvocationID", &before);
    long long limit = show_usec(unit, "TimeoutStartUSec");
    limit = (limit > 0 && limit < 24LL * 3600 * 1000000 ? limit : 0) * 2 + SLACK_USEC;
    int r = touch_flag(f->flag, err);
    if (r == 0)
        r = wait_run(f->restart_unit, buf_str(&before), limit, &result);
    if (r == -ETIMEDOUT)
        buf_printf(err, "%s did not run within %lld s of touching %s (is its .path unit active?)",
                   f->restart_unit, limit / 1000000, f->flag);
    else if (r > 0 && strcmp(buf_str(&result), "success") != 0) {
        buf_printf(err, "%s (systemctl restart %s) ended with Result=%s", f->restart_unit, unit,
                   buf_str(&result));
        r = -EIO;
    }
    buf_free(&before);
    buf_free(&result);
    return r < 0 ? r : 1;
}

void flag_manager_init(struct flag_manager *f, struct deploy_manager *m, const char *flag,
                       const char *restart_unit)
{
    f->flag = flag;
    f->restart_unit = restart_unit;
    *m = MANAGER_SYSTEMCTL;
    m->ctx = f;
    m->restart = flag_restart;
}
