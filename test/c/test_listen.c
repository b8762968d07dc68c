/* test_listen.c: socket activation and the fd store (vigil_listen.h, vigil_conn_send_fds()), with
 * real sockets, real descriptors at 3 and up, a real AF_UNIX receiver, and libsystemd's
 * sd_listen_fds_with_names() as the oracle for how the variables are read. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-daemon.h>

#include "receiver.h"
#include "vigil_listen.h"
#include "vigil_notify.h"

#define LIT(s) (s), (sizeof(s) - 1)
/* Descriptors 3 to 3 + PASSED - 1 stand for what systemd passes. */
#define PASSED 5

static struct vigil_text text(const char *s)
{
    return (struct vigil_text){s, s ? strlen(s) : 0};
}

static struct vigil_listen_env env_of(const char *pid, const char *fds, const char *names)
{
    return (struct vigil_listen_env){.pid = text(pid), .fds = text(fds), .fdnames = text(names)};
}

static const struct vigil_listen_self self42 = {.pid = 42};

/* ---- the variables ---- */

static void test_unset_is_nothing(void **state)
{
    struct vigil_listen_env env = env_of(NULL, NULL, NULL);
    (void)state;
    assert_int_equal(vigil_listen_parse(&env, &self42), 0);
    env = env_of(NULL, "2", "a:b");
    assert_int_equal(vigil_listen_parse(&env, &self42), 0);
    env = env_of("42", NULL, "a");
    assert_int_equal(vigil_listen_parse(&env, &self42), 0);
}

static void test_counts(void **state)
{
    struct vigil_listen_env env = env_of("42", "1", NULL);
    (void)state;
    assert_int_equal(vigil_listen_parse(&env, &self42), 1);
    env = env_of("42", "3", "a:b:c");
    assert_int_equal(vigil_listen_parse(&env, &self42), 3);
    env = env_of("42", "2147483644", NULL);
    assert_int_equal(vigil_listen_parse(&env, &self42), 2147483644);
}

static void test_other_pid_is_nothing(void **state)
{
    struct vigil_listen_env env = env_of("43", "2", "a:b");
    (void)state;
    assert_int_equal(vigil_listen_parse(&env, &self42), 0);
    /* Not ours: a count that does not match the names is not our business either. */
    env = env_of("1", "2", "a");
    assert_int_equal(vigil_listen_parse(&env, &self42), 0);
}

static void test_malformed(void **state)
{
    static const char *const bad_numbers[] = {
        "", "0", " 42", "+42", "042", "42 ", "-1", "4x2", "0x2a", "99999999999999999999999"};
    (void)state;

    for (size_t i = 0; i < sizeof(bad_numbers) / sizeof(bad_numbers[0]); i++) {
        struct vigil_listen_env env = env_of(bad_numbers[i], "1", NULL);
        if (vigil_listen_parse(&env, &self42) != -EINVAL)
            fail_msg("LISTEN_PID=\"%s\" accepted", bad_numbers[i]);
        env = env_of("42", bad_numbers[i], NULL);
        if (vigil_listen_parse(&env, &self42) != -EINVAL)
            fail_msg("LISTEN_FDS=\"%s\" accepted", bad_numbers[i]);
    }
    /* Past the largest descriptor, as sd_listen_fds() (INT_MAX - SD_LISTEN_FDS_START). */
    struct vigil_listen_env env = env_of("42", "2147483645", NULL);
    assert_int_equal(vigil_listen_parse(&env, &self42), -EINVAL);
    /* A NUL cannot come from an environment: refused, not cut short. */
    env = env_of("42", "1", NULL);
    env.fds = (struct vigil_text){"1\0", 2};
    assert_int_equal(vigil_listen_parse(&env, &self42), -EINVAL);
}

static void test_names_must_match_count(void **state)
{
    static const struct {
        const char *fds, *names;
        int want;
    } cases[] = {
        {"2", "a:b", 2},   {"2", "a", -EINVAL}, {"2", "a:b:c", -EINVAL},
        {"1", "", 1},      {"2", ":", 2},       {"1", ":", -EINVAL},
        {"1", "a\\:b", 1}, {"2", "a\\\\:b", 2}, {"1", "a\\", -EINVAL},
    };
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vigil_listen_env env = env_of("42", cases[i].fds, cases[i].names);
        int r = vigil_listen_parse(&env, &self42);
        if (r != cases[i].want)
            fail_msg("LISTEN_FDS=%s LISTEN_FDNAMES=\"%s\": %d, not %d", cases[i].fds,
                     cases[i].names, r, cases[i].want);
    }
}

static void test_pidfd_id(void **state)
{
    struct vigil_listen_self self = {.pid = 42, .has_pidfd_id = true, .pidfd_id = 7};
    struct vigil_listen_env env = env_of("42", "1", NULL);
    (void)state;

    env.pidfdid = text("7");
    assert_int_equal(vigil_listen_parse(&env, &self), 1);
    env.pidfdid = text("8");
    assert_int_equal(vigil_listen_parse(&env, &self), 0);
    env.pidfdid = text("x");
    assert_int_equal(vigil_listen_parse(&env, &self), -EINVAL);
    /* A kernel that cannot tell: LISTEN_PID alone decides, as sd_listen_fds(). */
    self.has_pidfd_id = false;
    env.pidfdid = text("8");
    assert_int_equal(vigil_listen_parse(&env, &self), 1);
}

/* pidfs's statfs() magic (linux/magic.h from 6.9). */
#define PIDFS_MAGIC 0x50494446

/* What the kernel tells, asked here apart: a pidfd's inode where pidfds live in pidfs (this
 * kernel), nothing where pidfd_open() is missing (valgrind does not know it) or pidfs is not. */
static void test_own_pidfd_id(void **state)
{
    struct vigil_listen_self self;
    struct statfs sfs;
    struct stat st;
    (void)state;

    vigil_listen_self(&self);
    assert_int_equal(self.pid, getpid());
    long pidfd = syscall(SYS_pidfd_open, (long)getpid(), 0L);
    if (pidfd < 0) {
        assert_int_equal(errno, ENOSYS);
        assert_false(self.has_pidfd_id);
        return;
    }
    assert_int_equal(fstatfs((int)pidfd, &sfs), 0);
    assert_int_equal(fstat((int)pidfd, &st), 0);
    close((int)pidfd);
    assert_int_equal(self.has_pidfd_id, (unsigned long)sfs.f_type == PIDFS_MAGIC);
    if (self.has_pidfd_id)
        assert_true(self.pidfd_id == (uint64_t)st.st_ino);
}

/* Every name of LISTEN_FDNAMES, unescaped, joined with '|' for comparison. */
static int collect_names(const char *names, char *out, size_t size)
{
    struct vigil_listen_env env = env_of("42", "1", names);
    struct vigil_listen_names it;
    struct vigil_text raw;
    size_t len, used = 0;
    int r, n = 0;

    vigil_listen_names_init(&it, &env);
    while ((r = vigil_listen_names_next(&it, &raw, &len)) > 0 && n < 100) {
        assert_true(used + len + 2 <= size);
        if (n++ > 0)
            out[used++] = '|';
        vigil_listen_name_copy(raw, out + used);
        used += len;
    }
    out[used] = '\0';
    return r < 0 ? r : n;
}

static void test_names(void **state)
{
    static const struct {
        const char *names, *want;
        int count;
    } cases[] = {
        {"http", "http", 1},
        {"http:https:ctl", "http|https|ctl", 3},
        {"", "", 1},
        {"::", "||", 3},
        {"a:", "a|", 2},
        {"a\\:b:c", "a:b|c", 2},
        {"a\\\\:b", "a\\|b", 2},
        {"\\a\\b", "ab", 1},
        {"a b:'c:d'", "a b|'c|d'", 3},
    };
    char got[256];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int n = collect_names(cases[i].names, got, sizeof(got));
        if (n != cases[i].count || strcmp(got, cases[i].want) != 0)
            fail_msg("\"%s\": %d names \"%s\", not %d \"%s\"", cases[i].names, n, got,
                     cases[i].count, cases[i].want);
    }
    assert_int_equal(collect_names("a\\", got, sizeof(got)), -EINVAL);
}

static void test_unset_names_are_unknown(void **state)
{
    struct vigil_listen_env env = env_of("42", "3", NULL);
    struct vigil_listen_names it;
    struct vigil_text raw;
    size_t len = 0;
    (void)state;

    vigil_listen_names_init(&it, &env);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(vigil_listen_names_next(&it, &raw, &len), 1);
        assert_int_equal(len, 7);
        assert_memory_equal(raw.data, "unknown", 7);
    }
}

/* ---- descriptors 3 and up ---- */

/* Descriptors 3.. must be free in this process, then hold /dev/null without FD_CLOEXEC, as a
 * service's passed descriptors do. */
static int setup_passed(void **state)
{
    (void)state;
    for (int fd = 3; fd < 3 + PASSED; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) {
            fprintf(stderr, "descriptor %d is in use: cannot stand for a passed one\n", fd);
            return -1;
        }
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || (null != fd && (dup2(null, fd) < 0 || close(null) < 0)))
            return -1;
    }
    return 0;
}

static int teardown_passed(void **state)
{
    (void)state;
    for (int fd = 3; fd < 3 + PASSED; fd++)
        close(fd);
    return 0;
}

static void test_claim_sets_cloexec(void **state)
{
    struct vigil_listen_env env = env_of("42", "3", "a:b:c");
    (void)state;

    for (int fd = 3; fd < 3 + PASSED; fd++)
        assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    assert_int_equal(vigil_listen_claim(&env, &self42), 3);
    for (int fd = 3; fd < 6; fd++)
        assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    /* Only those counted. */
    assert_int_equal(fcntl(6, F_GETFD) & FD_CLOEXEC, 0);
}

static void test_claim_not_ours_touches_nothing(void **state)
{
    struct vigil_listen_env env = env_of("43", "3", NULL);
    (void)state;

    assert_int_equal(vigil_listen_claim(&env, &self42), 0);
    assert_int_equal(fcntl(3, F_GETFD) & FD_CLOEXEC, 0);
}

static void test_claim_closed_descriptor(void **state)
{
    char count[16];
    struct vigil_listen_env env;
    (void)state;

    snprintf(count, sizeof(count), "%d", PASSED + 1);
    env = env_of("42", count, NULL);
    assert_int_equal(vigil_listen_claim(&env, &self42), -EBADF);
}

/* libsystemd reads the same environment the same way: count (or error) and every name. Numbers
 * are decimal here; libsystemd also reads " 1", "+1", "01" and "0x1" (strtol, base 0), which
 * systemd never writes. */
static void test_oracle_sd_listen_fds_with_names(void **state)
{
    static const struct {
        const char *fds, *names;
    } cases[] = {
        {"1", NULL},        {"3", NULL},      {"2", "a:b"},     {"1", "a:b"}, {"3", "a:b"},
        {"1", ""},          {"2", ":"},       {"3", "::"},      {"2", "a:"},  {"2", ":a"},
        {"1", "a\\:b"},     {"2", "a\\\\:b"}, {"1", "a\\"},     {"1", "\\"},  {"1", "\\a\\b"},
        {"2", "a b:c"},     {"2", "'a:b'"},   {"2", "\"a:b\""}, {"1", "é"},   {"0", NULL},
        {"5", "a:b:c:d:e"}, {"6", NULL},      {"-1", NULL},
    };
    char pid[16], ours[512], theirs[512];
    (void)state;

    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vigil_listen_self self = {.pid = getpid()};
        struct vigil_listen_env env = env_of(pid, cases[i].fds, cases[i].names);
        char **names = NULL;

        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDS", cases[i].fds, 1);
        if (cases[i].names)
            setenv("LISTEN_FDNAMES", cases[i].names, 1);
        else
            unsetenv("LISTEN_FDNAMES");
        int want = sd_listen_fds_with_names(1, &names);
        int got = vigil_listen_claim(&env, &self);
        theirs[0] = ours[0] = '\0';
        for (char **p = names; p && *p; p++) {
            strcat(theirs, *p);
            strcat(theirs, p[1] ? "|" : "");
            free(*p);
        }
        free(names);
        if (got > 0 && cases[i].names)
            collect_names(cases[i].names, ours, sizeof(ours));
        else if (got > 0)
            for (int k = 0; k < got; k++)
                strcat(ours, k ? "|unknown" : "unknown");
        if (got != want || strcmp(ours, theirs) != 0)
            fail_msg("LISTEN_FDS=%s LISTEN_FDNAMES=%s: ours %d \"%s\", libsystemd %d \"%s\"",
                     cases[i].fds, cases[i].names ? cases[i].names : "(unset)", got, ours, want,
                     theirs);
    }
    assert_null(getenv("LISTEN_FDS"));
}

/* ---- fd store names ---- */

static void test_fdname_check(void **state)
{
    static const char *const good[] = {"a", "http", "web socket", "~!@#$%^&*()[]{}<>?/.,;'\"="};
    static const char *const bad[] = {"", "a:b", "a\\b", "a\nb", "a\tb", "\x7f", "caf\xc3\xa9"};
    char longest[VIGIL_FDNAME_MAX + 1];
    (void)state;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (vigil_fdname_check(good[i], strlen(good[i])) != 0)
            fail_msg("\"%s\" refused", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (vigil_fdname_check(bad[i], strlen(bad[i])) != -EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
    assert_int_equal(vigil_fdname_check("a\0b", 3), -EINVAL);
    memset(longest, 'x', sizeof(longest));
    assert_int_equal(vigil_fdname_check(longest, VIGIL_FDNAME_MAX), 0);
    assert_int_equal(vigil_fdname_check(longest, VIGIL_FDNAME_MAX + 1), -EINVAL);
}

/* ---- describing descriptors ---- */

static int tcp_listener(int family, int backlog, uint16_t *ret_port)
{
    struct sockaddr_storage ss;
    socklen_t len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&ss, 0, sizeof(ss));
    ss.ss_family = (sa_family_t)family;
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
    assert_int_equal(listen(fd, backlog), 0);
    len = sizeof(ss);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
    *ret_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                        : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

static void test_describe_tcp(void **state)
{
    static const unsigned char any6[16] = {0};
    struct vigil_fd_info info;
    uint16_t port = 0;
    (void)state;

    int fd = tcp_listener(AF_INET, 77, &port);
    assert_int_equal(vigil_fd_describe(fd, &info), 0);
    assert_true(info.socket && info.listening);
    assert_int_equal(info.family, AF_INET);
    assert_int_equal(info.type, SOCK_STREAM);
    assert_int_equal(info.port, port);
    assert_int_equal(info.ip_len, 4);
    assert_int_equal(info.backlog, 77);
    /* listen() again changes it, as gen_tcp's listen on an inherited socket does. */
    assert_int_equal(listen(fd, 5), 0);
    assert_int_equal(vigil_fd_describe(fd, &info), 0);
    assert_int_equal(info.backlog, 5);
    close(fd);

    fd = tcp_listener(AF_INET6, 300, &port);
    assert_int_equal(vigil_fd_describe(fd, &info), 0);
    assert_int_equal(info.family, AF_INET6);
    assert_int_equal(info.port, port);
    assert_int_equal(info.ip_len, 16);
    assert_memory_equal(info.ip, any6, 16);
    assert_int_equal(info.backlog, 300);
    close(fd);
}

static void test_describe_unix(void **state)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    char name[64];
    struct vigil_fd_info info;
    (void)state;

    int n = snprintf(name, sizeof(name), "vigil-test-listen-%d", (int)getpid());
    memcpy(un.sun_path + 1, name, (size_t)n);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&un,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)),
                     0);
    assert_int_equal(listen(fd, 42), 0);
    assert_int_equal(vigil_fd_describe(fd, &info), 0);
    assert_int_equal(info.family, AF_UNIX);
    assert_true(info.listening);
    assert_int_equal(info.path_len, 1 + (size_t)n);
    assert_int_equal(info.path[0], '\0');
    assert_memory_equal(info.path + 1, name, (size_t)n);
    /* Read through NETLINK_SOCK_DIAG, which this system allows. */
    assert_int_equal(info.backlog, 42);
    close(fd);
}

static void test_describe_others(void **state)
{
    struct vigil_fd_info info;
    int pair[2];
    (void)state;

    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_int_equal(vigil_fd_describe(udp, &info), 0);
    assert_int_equal(info.type, SOCK_DGRAM);
    assert_false(info.listening);
    assert_int_equal(info.backlog, -1);
    close(udp);

    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    assert_int_equal(vigil_fd_describe(pair[0], &info), 0);
    assert_int_equal(info.type, SOCK_SEQPACKET);
    assert_int_equal(info.path_len, 0);
    close(pair[0]);
    close(pair[1]);

    int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_int_equal(vigil_fd_describe(file, &info), 0);
    assert_false(info.socket);
    assert_int_equal(info.family, AF_UNSPEC);
    assert_int_equal(info.type, 0);
    close(file);
    assert_int_equal(vigil_fd_describe(file, &info), -EBADF);
}

static void test_dup_is_cloexec_and_same_socket(void **state)
{
    struct stat a, b;
    uint16_t port = 0;
    (void)state;

    int fd = tcp_listener(AF_INET, 10, &port);
    assert_int_equal(fcntl(fd, F_SETFD, 0), 0);
    int copy = vigil_fd_dup(fd);
    assert_true(copy >= 0 && copy != fd);
    assert_int_equal(fcntl(copy, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    assert_int_equal(fstat(fd, &a), 0);
    assert_int_equal(fstat(copy, &b), 0);
    assert_true(a.st_ino == b.st_ino);
    close(copy);
    close(fd);
    assert_int_equal(vigil_fd_dup(fd), -EBADF);
}

/* ---- sending descriptors ---- */

struct fixture {
    struct receiver rcv;
    struct vigil_conn conn;
};

static int setup_receiver(void **state)
{
    static struct fixture f;
    struct vigil_addr addr;

    if (receiver_open(&f.rcv, false) < 0 ||
        vigil_addr_parse(f.rcv.address, strlen(f.rcv.address), &addr) < 0)
        return -1;
    vigil_conn_init(&f.conn);
    vigil_conn_configure(&f.conn, &addr);
    *state = &f;
    return 0;
}

static int teardown_receiver(void **state)
{
    struct fixture *f = *state;
    vigil_conn_reset(&f->conn);
    receiver_close(&f->rcv);
    return 0;
}

/* One datagram and every descriptor it carries (receiver.c keeps only one). */
static long read_with_fds(struct receiver *rcv, char *data, size_t size, int *fds, size_t *n_fds)
{
    union {
        struct cmsghdr header;
        char bytes[CMSG_SPACE(sizeof(int) * VIGIL_SCM_MAX_FD) + CMSG_SPACE(sizeof(struct ucred))];
    } control;
    struct iovec iov = {.iov_base = data, .iov_len = size};
    struct msghdr header = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.bytes,
                            .msg_controllen = sizeof(control.bytes)};
    struct pollfd pfd = {.fd = rcv->fd, .events = POLLIN};

    *n_fds = 0;
    if (poll(&pfd, 1, 1000) <= 0)
        return -EAGAIN;
    ssize_t n = recvmsg(rcv->fd, &header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return -errno;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        *n_fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        memcpy(fds, CMSG_DATA(c), *n_fds * sizeof(int));
    }
    return n;
}

static bool same_file(int a, int b)
{
    struct stat sa, sb;
    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static void test_send_fds_one_message(void **state)
{
    static const char msg[] = "FDSTORE=1\nFDNAME=web\nFDPOLL=0";
    struct fixture *f = *state;
    uint16_t port4 = 0, port6 = 0;
    int got[VIGIL_SCM_MAX_FD];
    size_t n_got = 0;
    char data[512];

    int sent[3] = {tcp_listener(AF_INET, 8, &port4), tcp_listener(AF_INET6, 8, &port6),
                   open("/dev/null", O_RDONLY | O_CLOEXEC)};
    assert_int_equal(vigil_conn_send_fds(&f->conn, LIT(msg), sent, 3), 1);
    assert_int_equal(read_with_fds(&f->rcv, data, sizeof(data), got, &n_got), sizeof(msg) - 1);
    assert_memory_equal(data, msg, sizeof(msg) - 1);
    assert_int_equal(n_got, 3);
    for (int i = 0; i < 3; i++) {
        /* The manager's copy is the very socket, not a socket like it. */
        assert_true(got[i] != sent[i]);
        assert_true(same_file(got[i], sent[i]));
        close(got[i]);
        /* The sender's descriptor stays open and its own. */
        assert_true(fcntl(sent[i], F_GETFD) >= 0);
        close(sent[i]);
    }
}

static void test_send_fds_limits(void **state)
{
    struct fixture *f = *state;
    int many[VIGIL_SCM_MAX_FD + 1];
    int got[VIGIL_SCM_MAX_FD];
    size_t n_got = 0;
    char data[64];

    for (size_t i = 0; i < sizeof(many) / sizeof(many[0]); i++)
        many[i] = 0;
    assert_int_equal(vigil_conn_send_fds(&f->conn, LIT("FDSTORE=1"), many, VIGIL_SCM_MAX_FD + 1),
                     -E2BIG);
    assert_int_equal(vigil_conn_send_fds(&f->conn, LIT("FDSTORE=1"), many, VIGIL_SCM_MAX_FD), 1);
    assert_int_equal(read_with_fds(&f->rcv, data, sizeof(data), got, &n_got), 9);
    assert_int_equal(n_got, VIGIL_SCM_MAX_FD);
    for (size_t i = 0; i < n_got; i++)
        close(got[i]);
    int closed = open("/dev/null", O_RDONLY);
    close(closed);
    assert_int_equal(vigil_conn_send_fds(&f->conn, LIT("FDSTORE=1"), &closed, 1), -EBADF);
    assert_int_equal(receiver_drain(&f->rcv), 0);
}

static void test_send_fds_not_configured(void **state)
{
    struct vigil_conn conn;
    int fd = 0;
    (void)state;

    vigil_conn_init(&conn);
    assert_int_equal(vigil_conn_send_fds(&conn, LIT("FDSTORE=1"), &fd, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unset_is_nothing),
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_other_pid_is_nothing),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_names_must_match_count),
        cmocka_unit_test(test_pidfd_id),
        cmocka_unit_test(test_own_pidfd_id),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_unset_names_are_unknown),
        cmocka_unit_test_setup_teardown(test_claim_sets_cloexec, setup_passed, teardown_passed),
        cmocka_unit_test_setup_teardown(test_claim_not_ours_touches_nothing, setup_passed,
                                        teardown_passed),
        cmocka_unit_test_setup_teardown(test_claim_closed_descriptor, setup_passed,
                                        teardown_passed),
        cmocka_unit_test_setup_teardown(test_oracle_sd_listen_fds_with_names, setup_passed,
                                        teardown_passed),
        cmocka_unit_test(test_fdname_check),
        cmocka_unit_test(test_describe_tcp),
        cmocka_unit_test(test_describe_unix),
        cmocka_unit_test(test_describe_others),
        cmocka_unit_test(test_dup_is_cloexec_and_same_socket),
        cmocka_unit_test_setup_teardown(test_send_fds_one_message, setup_receiver,
                                        teardown_receiver),
        cmocka_unit_test_setup_teardown(test_send_fds_limits, setup_receiver, teardown_receiver),
        cmocka_unit_test(test_send_fds_not_configured),
    };
    return cmocka_run_group_tests_name("vigil socket activation", tests, NULL, NULL);
}
