/* vigil_listen.c: socket activation's variables, the fd store's names, and what a descriptor is.
 *
 * LISTEN_FDNAMES is split as libsystemd splits it: on ':', a backslash taking the next byte as it
 * is (so "a\:b" is the one name "a:b"), a lone trailing backslash making the variable malformed,
 * and the empty string being one empty name. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vigil_listen.h"
#include "vigil_platform.h"

static const char unknown_name[] = "unknown";

static bool text_has_nul(struct vigil_text text)
{
    return text.data && memchr(text.data, '\0', text.len) != NULL;
}

/* Decimal digits only, no leading zero, at most max. */
static int parse_u64(struct vigil_text text, uint64_t max, uint64_t *ret_value)
{
    uint64_t value = 0;

    if (text.len == 0 || (text.len > 1 && text.data[0] == '0'))
        return -EINVAL;
    for (size_t i = 0; i < text.len; i++) {
        char c = text.data[i];
        if (c < '0' || c > '9')
            return -EINVAL;
        unsigned digit = (unsigned)(c - '0');
        if (value > (max - digit) / 10)
            return -EINVAL;
        value = value * 10 + digit;
    }
    *ret_value = value;
    return 0;
}

/* 0 when the variables are for this process, 1 when they name another, or -EINVAL. */
static int check_receiver(const struct vigil_listen_env *env, const struct vigil_listen_self *self)
{
    uint64_t pid = 0;
    uint64_t pidfd_id = 0;

    if (parse_u64(env->pid, LONG_MAX, &pid) < 0 || pid == 0)
        return -EINVAL;
    if (pid != (uint64_t)self->pid)
        return 1;
    if (!env->pidfdid.data)
        return 0;
    if (parse_u64(env->pidfdid, UINT64_MAX, &pidfd_id) < 0)
        return -EINVAL;
    /* Without pidfs the kernel cannot tell, and sd_listen_fds() trusts LISTEN_PID alone. */
    return self->has_pidfd_id && pidfd_id != self->pidfd_id ? 1 : 0;
}

void vigil_listen_names_init(struct vigil_listen_names *names, const struct vigil_listen_env *env)
{
    names->rest = env->fdnames;
    names->done = false;
}

int vigil_listen_names_next(struct vigil_listen_names *names, struct vigil_text *ret_raw,
                            size_t *ret_len)
{
    const char *p = names->rest.data;
    size_t len = names->rest.len;
    size_t i = 0;
    size_t unescaped = 0;

    if (!p) {
        *ret_raw = (struct vigil_text){unknown_name, sizeof(unknown_name) - 1};
        *ret_len = sizeof(unknown_name) - 1;
        return 1;
    }
    if (names->done)
        return 0;
    for (; i < len && p[i] != ':'; i++, unescaped++)
        if (p[i] == '\\' && ++i == len)
            return -EINVAL;
    *ret_raw = (struct vigil_text){p, i};
    *ret_len = unescaped;
    names->done = i == len;
    names->rest =
        names->done ? (struct vigil_text){p + len, 0} : (struct vigil_text){p + i + 1, len - i - 1};
    return 1;
}

void vigil_listen_name_copy(struct vigil_text raw, char *out)
{
    for (size_t i = 0; i < raw.len; i++) {
        if (raw.data[i] == '\\')
            i++;
        *out++ = raw.data[i];
    }
}

/* The number of names in LISTEN_FDNAMES, which is set (an unset one never runs out), or
 * -EINVAL. */
static long count_names(const struct vigil_listen_env *env)
{
    struct vigil_listen_names names;
    struct vigil_text raw;
    size_t len = 0;
    long n = 0;
    int r;

    vigil_listen_names_init(&names, env);
    while ((r = vigil_listen_names_next(&names, &raw, &len)) > 0)
        n++;
    return r < 0 ? r : n;
}

int vigil_listen_parse(const struct vigil_listen_env *env, const struct vigil_listen_self *self)
{
    uint64_t n = 0;

    if (!env->pid.data)
        return 0;
    if (text_has_nul(env->pid) || text_has_nul(env->pidfdid) || text_has_nul(env->fds) ||
        text_has_nul(env->fdnames))
        return -EINVAL;
    int r = check_receiver(env, self);
    if (r != 0)
        return r < 0 ? r : 0;
    if (!env->fds.data)
        return 0;
    if (parse_u64(env->fds, (uint64_t)INT_MAX - VIGIL_LISTEN_FDS_START, &n) < 0 || n == 0)
        return -EINVAL;
    if (env->fdnames.data && count_names(env) != (long)n)
        return -EINVAL;
    return (int)n;
}

static int set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags < 0)
        return -errno;
    if ((flags & FD_CLOEXEC) == 0 && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        return -errno;
    return 0;
}

int vigil_listen_claim(const struct vigil_listen_env *env, const struct vigil_listen_self *self)
{
    int n = vigil_listen_parse(env, self);

    for (int i = 0; i < n; i++) {
        int r = set_cloexec(VIGIL_LISTEN_FDS_START + i);
        if (r < 0)
            return r;
    }
    return n;
}

void vigil_listen_self(struct vigil_listen_self *ret_self)
{
    uint64_t id = 0;

    ret_self->pid = (long)getpid();
    ret_self->has_pidfd_id = vigil_platform_pidfd_id(&id) == 0;
    ret_self->pidfd_id = id;
}

int vigil_fdname_check(const char *name, size_t len)
{
    if (len == 0 || len > VIGIL_FDNAME_MAX)
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        /* The backslash too: the manager unescapes the message FDNAME= comes in, and
         * sd_listen_fds_with_names() unescapes LISTEN_FDNAMES. */
        if (c < 0x20 || c >= 0x7F || c == ':' || c == '\\')
            return -EINVAL;
    }
    return 0;
}

static int get_int_option(int fd, int option, int *ret_value)
{
    int value = 0;
    socklen_t len = sizeof(value);

    if (getsockopt(fd, SOL_SOCKET, option, &value, &len) < 0)
        return -errno;
    *ret_value = value;
    return 0;
}

static void describe_inet(const struct sockaddr_storage *ss, struct vigil_fd_info *info)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        info->port = ntohs(in->sin_port);
        info->ip_len = 4;
        memcpy(info->ip, &in->sin_addr, 4);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        info->port = ntohs(in6->sin6_port);
        info->ip_len = 16;
        memcpy(info->ip, &in6->sin6_addr, 16);
    }
}

static void describe_unix(const struct sockaddr_storage *ss, socklen_t len,
                          struct vigil_fd_info *info)
{
    const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
    size_t offset = offsetof(struct sockaddr_un, sun_path);
    size_t n = len > offset ? len - offset : 0;

    if (n > sizeof(info->path))
        n = sizeof(info->path);
    memcpy(info->path, un->sun_path, n);
    /* A path comes with its NUL (and Linux may count more); an abstract name has none. */
    if (n > 0 && info->path[0] != '\0')
        n = strnlen(info->path, n);
    info->path_len = n;
}

/* Family, address, type and SO_ACCEPTCONN of a socket. */
static int describe_socket(int fd, struct vigil_fd_info *info)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int accepting = 0;

    memset(&ss, 0, sizeof(ss));
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return -errno;
    int r = get_int_option(fd, SO_TYPE, &info->type);
    if (r == 0)
        r = get_int_option(fd, SO_ACCEPTCONN, &accepting);
    if (r < 0)
        return r;
    info->family = ss.ss_family;
    info->listening = accepting != 0;
    if (info->family == AF_INET || info->family == AF_INET6)
        describe_inet(&ss, info);
    else if (info->family == AF_UNIX)
        describe_unix(&ss, len, info);
    return 0;
}

int vigil_fd_describe(int fd, struct vigil_fd_info *ret_info)
{
    struct vigil_fd_info info = {.family = AF_UNSPEC, .backlog = -1};
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -errno;
    info.socket = S_ISSOCK(st.st_mode);
    if (info.socket) {
        int r = describe_socket(fd, &info);
        if (r < 0)
            return r;
    }
    if (info.listening) {
        int backlog = vigil_platform_listen_backlog(fd, info.family, info.type);
        info.backlog = backlog >= 0 ? backlog : -1;
    }
    *ret_info = info;
    return 0;
}

int vigil_fd_dup(int fd)
{
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return copy < 0 ? -errno : copy;
}
