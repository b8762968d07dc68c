/* listen_exec.c: start a program as systemd starts a socket-activated service, for the tests.
 *
 *   listen_exec [-s SOCKET]... [-n NAMES] [-c COUNT] [-p PID] [-i PIDFDID] -- PROGRAM [ARG]...
 *
 * Opens each SOCKET, places them at descriptors 3, 4, ... without FD_CLOEXEC, sets LISTEN_FDS
 * (COUNT, default the number of sockets), LISTEN_PID (PID, default this process, which exec keeps),
 * LISTEN_FDNAMES (NAMES, unset by default) and LISTEN_PIDFDID (PIDFDID: a number, or "self" for
 * the inode of a pidfd of this process; unset by default), then execs PROGRAM.
 *
 * SOCKET is tcp4:BACKLOG (127.0.0.1, a port the kernel picks), tcp6:BACKLOG ([::], a port the
 * kernel picks, as a bare ListenStream=PORT), unix:BACKLOG (an abstract AF_UNIX stream socket),
 * udp4 (127.0.0.1) or file (/dev/null, as a descriptor from the fd store that is no socket). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_SOCKETS 16
/* Where the descriptors wait before they move to 3, 4, ...: above anything open by then. */
#define PARK 100

static int die(const char *what)
{
    fprintf(stderr, "listen_exec: %s: %s\n", what, strerror(errno));
    exit(2);
}

static int open_tcp(int family, int backlog)
{
    struct sockaddr_storage ss;
    socklen_t len;

    memset(&ss, 0, sizeof(ss));
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof(*in);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_any;
        len = sizeof(*in6);
    }
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0)
        die("tcp socket");
    return fd;
}

static int open_unix(int backlog)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int n =
        snprintf(un.sun_path + 1, sizeof(un.sun_path) - 1, "vigil-listen-exec-%d", (int)getpid());
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&un, len) < 0 || listen(fd, backlog) < 0)
        die("unix socket");
    return fd;
}

static int open_udp(void)
{
    struct sockaddr_in in = {.sin_family = AF_INET};
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&in, sizeof(in)) < 0)
        die("udp socket");
    return fd;
}

static int open_spec(const char *spec)
{
    const char *colon = strchr(spec, ':');
    int backlog = colon ? atoi(colon + 1) : 0;
    size_t kind = colon ? (size_t)(colon - spec) : strlen(spec);

    if (kind == 4 && strncmp(spec, "tcp4", 4) == 0)
        return open_tcp(AF_INET, backlog);
    if (kind == 4 && strncmp(spec, "tcp6", 4) == 0)
        return open_tcp(AF_INET6, backlog);
    if (kind == 4 && strncmp(spec, "unix", 4) == 0)
        return open_unix(backlog);
    if (kind == 4 && strncmp(spec, "udp4", 4) == 0)
        return open_udp();
    if (kind == 4 && strncmp(spec, "file", 4) == 0) {
        int fd = open("/dev/null", O_RDONLY);
        return fd < 0 ? die("/dev/null") : fd;
    }
    fprintf(stderr, "listen_exec: unknown socket %s\n", spec);
    exit(2);
}

/* Move the n descriptors to 3, 4, ... (dup2() leaves FD_CLOEXEC off, as systemd passes them). */
static void place(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        if (dup2(fds[i], PARK + i) < 0 || close(fds[i]) < 0)
            die("dup2");
    for (int i = 0; i < n; i++)
        if (dup2(PARK + i, 3 + i) < 0 || close(PARK + i) < 0)
            die("dup2");
}

static void set_pidfd_id(const char *value)
{
    char text[32];
    struct stat st;

    if (strcmp(value, "self") != 0) {
        setenv("LISTEN_PIDFDID", value, 1);
        return;
    }
    long pidfd = syscall(SYS_pidfd_open, (long)getpid(), 0L);
    if (pidfd < 0 || fstat((int)pidfd, &st) < 0)
        die("pidfd");
    close((int)pidfd);
    snprintf(text, sizeof(text), "%llu", (unsigned long long)st.st_ino);
    setenv("LISTEN_PIDFDID", text, 1);
}

int main(int argc, char **argv)
{
    int fds[MAX_SOCKETS];
    int n = 0;
    const char *count = NULL;
    char text[32];
    int opt;

    snprintf(text, sizeof(text), "%d", (int)getpid());
    setenv("LISTEN_PID", text, 1);
    while ((opt = getopt(argc, argv, "s:n:c:p:i:")) != -1) {
        if (opt == 's' && n < MAX_SOCKETS)
            fds[n++] = open_spec(optarg);
        else if (opt == 'n')
            setenv("LISTEN_FDNAMES", optarg, 1);
        else if (opt == 'c')
            count = optarg;
        else if (opt == 'p')
            setenv("LISTEN_PID", optarg, 1);
        else if (opt == 'i')
            set_pidfd_id(optarg);
        else
            return 2;
    }
    if (optind >= argc)
        return 2;
    place(fds, n);
    snprintf(text, sizeof(text), "%d", n);
    setenv("LISTEN_FDS", count ? count : text, 1);
    execvp(argv[optind], argv + optind);
    return die(argv[optind]);
}
