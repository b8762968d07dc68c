#include "manager.h"

#include "run.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* systemctl restart (without --no-block) waits for the restart job and exits non-zero unless
 * its result is "done": for Type=notify the start completes at READY=1 and fails on
 * TimeoutStartSec=, an exit before READY, or a failed dependency.
 * reset-failed first: it also zeroes the start rate limiter, which is there to stop crash
 * loops; a deploy is an operator's decision, and a few deploys (a failed one and its rollback
 * start twice) within StartLimitIntervalSec= would otherwise be refused. */
static int sc_restart(void *ctx, const char *unit, struct buf *err)
{
    (void)ctx;
    const char *const reset[] = {"systemctl", "reset-failed", unit, NULL};
    (void)run_cmd(reset, NULL, NULL);
    const char *const argv[] = {"systemctl", "restart", unit, NULL};
    int r = run_cmd(argv, NULL, err);
    if (r < 0)
        buf_printf(err, "cannot run systemctl: %s", strerror(-r));
    return r == 0 ? 1 : (r < 0 ? r : -EIO);
}

void unit_property(const char *unit, const char *property, struct buf *out)
{
    struct buf words = {0};
    const char *const argv[] = {"systemctl", "show", "--value", "--property", property, unit, NULL};
    size_t start = out->len;
    if (run_cmd(argv, out, &words) != 0)
        out->len = start;
    buf_add(out, "");
    while (out->len > start && out->data[out->len - 1] == '\n')
        out->data[--out->len] = '\0';
    buf_free(&words);
}

static long main_pid(const char *unit)
{
    struct buf out = {0};
    unit_property(unit, "MainPID", &out);
    long pid = strtol(buf_str(&out), NULL, 10);
    buf_free(&out);
    return pid;
}

/* The value after `-root` in the process's arguments: the release root that erlexec passes to
 * the BEAM, resolved by the start script (pwd -P) like the cwd. Unlike /proc/PID/cwd, a
 * process's cmdline is readable by other users, such as a deploy user without root. */
static int beam_root(long pid, struct buf *out)
{
    char path[64];
    (void)snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
    FILE *f = fopen(path, "re");
    if (f == NULL)
        return 0;
    char args[16384];
    size_t n = fread(args, 1, sizeof(args) - 1, f);
    (void)fclose(f);
    args[n] = '\0';
    for (size_t i = 0; i < n; i += strlen(args + i) + 1) {
        size_t next = i + strlen(args + i) + 1;
        if (strcmp(args + i, "-root") == 0 && next < n) {
            buf_add(out, args + next);
            return 1;
        }
    }
    return 0;
}

static int sc_running_dir(void *ctx, const char *unit, struct buf *out)
{
    (void)ctx;
    long pid = main_pid(unit);
    if (pid <= 0)
        return 0;
    char link[64];
    char dir[PATH_MAX];
    (void)snprintf(link, sizeof(link), "/proc/%ld/cwd", pid);
    ssize_t n = readlink(link, dir, sizeof(dir) - 1);
    if (n < 0)
        return beam_root(pid, out);
    dir[n] = '\0';
    buf_add(out, dir);
    return 1;
}

/* The failed start's own last lines: its invocation's (the unit keeps the failed invocation's
 * ID until the next start), systemd's about it and its processes' output, without debug
 * messages (a manager at debug level writes hundreds per start). --sync first, so
 * that what the dying VM wrote is in the journal before it is read (root only; without it the
 * last lines may be missing). */
static void sc_journal(void *ctx, const char *unit, int64_t since_us, struct buf *out)
{
    (void)ctx;
    const char *const sync[] = {"journalctl", "--sync", NULL};
    struct buf id = {0};
    unit_property(unit, "InvocationID", &id);
    char since[64];
    (void)snprintf(since, sizeof(since), "--since=@%lld.%06lld", (long long)(since_us / 1000000),
                   (long long)(since_us % 1000000));
    struct buf own = {0};
    struct buf sd = {0};
    buf_printf(&own, "_SYSTEMD_INVOCATION_ID=%s", buf_str(&id));
    buf_printf(&sd, "INVOCATION_ID=%s", buf_str(&id));
    const char *const by_invocation[] = {"journalctl",      "--no-pager",  "--lines=30",
                                         "--priority=info", buf_str(&own), "+",
                                         buf_str(&sd),      NULL};
    const char *const by_unit[] = {"journalctl", "--unit",     unit, since,
                                   "--lines=30", "--no-pager", NULL};
    /* A dying VM's stdout and stderr are two streams that journald reads on its own time:
     * read until two reads 250 ms apart agree (2 s at most). */
    const struct timespec pause = {0, 250000000L};
    struct buf lines = {0};
    for (int i = 0; i < 8; i++) {
        struct buf again = {0};
        (void)run_cmd(sync, NULL, NULL);
        (void)run_cmd(id.len == 32 ? by_invocation : by_unit, &again, &again);
        bool settled = i > 0 && again.len == lines.len;
        buf_free(&lines);
        lines = again;
        if (settled)
            break;
        nanosleep(&pause, NULL);
    }
    buf_add(out, buf_str(&lines));
    buf_free(&lines);
    buf_free(&id);
    buf_free(&own);
    buf_free(&sd);
}

static void sc_describe(void *ctx, const char *unit, struct buf *out)
{
    (void)ctx;
    const char *const argv[] = {"systemctl", "show", unit,
                                "--property=ActiveState,SubState,MainPID,StatusText", NULL};
    (void)run_cmd(argv, out, out);
}

const struct deploy_manager MANAGER_SYSTEMCTL = {
    .ctx = NULL,
    .restart = sc_restart,
    .running_dir = sc_running_dir,
    .journal = sc_journal,
    .describe = sc_describe,
};
