/* vigil_platform_none.c: a system without systemd (macOS, the BSDs): no manager to reach.
 *
 * vigil_conn_configure() asks vigil_platform_has_manager() and keeps the connection
 * unconfigured, so the functions below that would reach a manager are never called. */
#include <errno.h>

#include "vigil_platform.h"

bool vigil_platform_has_manager(void)
{
    return false;
}

/* The signatures are the platform layer's; these stubs never write through their pointers. */
/* NOLINTBEGIN(readability-non-const-parameter) */
int vigil_platform_connect(const struct vigil_addr *addr, int *ret_type, bool *ret_connecting)
{
    (void)addr, (void)ret_type, (void)ret_connecting;
    return -EAFNOSUPPORT;
}

int vigil_platform_send(int fd, const char *data, size_t len, const int *fds, size_t n_fds)
{
    (void)fd, (void)data, (void)len, (void)fds, (void)n_fds;
    return -EAFNOSUPPORT;
}

int vigil_platform_pipe(int ret_fds[2])
{
    (void)ret_fds;
    return -EAFNOSUPPORT;
}

int vigil_platform_journal_socket(int sndbuf)
{
    (void)sndbuf;
    return -EAFNOSUPPORT;
}

int vigil_platform_journal_sendto(int fd, const struct sockaddr_un *addr, socklen_t addr_len,
                                  const char *data, size_t len, int pass_fd)
{
    (void)fd, (void)addr, (void)addr_len, (void)data, (void)len, (void)pass_fd;
    return -EAFNOSUPPORT;
}

int vigil_platform_journal_file(const char *data, size_t len)
{
    (void)data, (void)len;
    return -EAFNOSUPPORT;
}

/* Socket activation works here as on Linux (other tools than systemd set LISTEN_FDS), but there
 * are no pidfds to compare, and no portable way to read a socket's accept queue limit. */
int vigil_platform_pidfd_id(uint64_t *ret_id)
{
    (void)ret_id;
    return -EOPNOTSUPP;
}

int vigil_platform_listen_backlog(int fd, int family, int type)
{
    (void)fd, (void)family, (void)type;
    return -EOPNOTSUPP;
}
/* NOLINTEND(readability-non-const-parameter) */

int vigil_platform_unix_connect(const char *path)
{
    (void)path;
    return -EAFNOSUPPORT;
}
