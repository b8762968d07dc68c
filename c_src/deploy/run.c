#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child: standard output and error go to the pipes given (-1: inherited). It dies with
 * vigil-deploy: a tar left running after a kill -9 would still be writing into a staging dir
 * that the next run removes. */
static void child(const char *const *argv, pid_t parent, int out_fd, int err_fd)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
        _exit(127);
    if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
        _exit(127);
    if (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0)
        _exit(127);
    /* execvp's prototype predates const: the strings are not modified. */
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

/* Reads both pipes to their end, whichever has data, so that neither can fill and stall. */
static void drain(int fds[2], struct buf *outs[2])
{
    char chunk[4096];
    for (;;) {
        struct pollfd pf[2] = {{fds[0], POLLIN, 0}, {fds[1], POLLIN, 0}};
        if (pf[0].fd < 0 && pf[1].fd < 0)
            return;
        if (poll(pf, 2, -1) < 0 && errno != EINTR)
            return;
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || pf[i].revents == 0)
                continue;
            ssize_t n = read(fds[i], chunk, sizeof(chunk));
            if (n > 0) {
                buf_addn(outs[i], chunk, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                close(fds[i]);
                fds[i] = -1;
            }
        }
    }
}

static int open_pipe(struct buf *b, int p[2])
{
    p[0] = p[1] = -1;
    if (b == NULL)
        return 0;
    buf_add(b, "");
    return pipe2(p, O_CLOEXEC) < 0 ? -errno : 0;
}

static void close_pair(int p[2])
{
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0)
            close(p[i]);
}

static int wait_child(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_cmd(const char *const *argv, struct buf *out, struct buf *errout)
{
    int po[2];
    int pe[2] = {-1, -1};
    int r = open_pipe(out, po);
    if (r == 0)
        r = open_pipe(errout, pe);
    pid_t parent = getpid();
    pid_t pid = r == 0 ? fork() : -1;
    if (r == 0 && pid < 0)
        r = -errno;
    if (r < 0) {
        close_pair(po);
        close_pair(pe);
        return r;
    }
    if (pid == 0)
        child(argv, parent, po[1], pe[1]);
    int fds[2] = {po[0], pe[0]};
    struct buf *outs[2] = {out, errout};
    if (po[1] >= 0)
        close(po[1]);
    if (pe[1] >= 0)
        close(pe[1]);
    drain(fds, outs);
    return wait_child(pid);
}
