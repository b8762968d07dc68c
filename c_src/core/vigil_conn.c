/* vigil_conn.c: one connected socket to the manager, never blocking the caller. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vigil_listen.h"
#include "vigil_notify.h"
#include "vigil_platform.h"

static void close_socket(struct vigil_conn *conn)
{
    if (conn->fd >= 0) {
        close(conn->fd);
        conn->fd = -1;
    }
}

void vigil_conn_init(struct vigil_conn *conn)
{
    memset(conn, 0, sizeof(*conn));
    conn->fd = -1;
}

void vigil_conn_configure(struct vigil_conn *conn, const struct vigil_addr *addr)
{
    close_socket(conn);
    conn->addr = *addr;
    conn->configured = vigil_platform_has_manager();
}

void vigil_conn_reset(struct vigil_conn *conn)
{
    close_socket(conn);
    conn->configured = false;
}

static int connect_socket(struct vigil_conn *conn)
{
    int type = SOCK_DGRAM;
    bool connecting = false;
    int fd = vigil_platform_connect(&conn->addr, &type, &connecting);

    if (fd < 0)
        return fd;
    conn->fd = fd;
    conn->type = type;
    conn->connecting = connecting;
    return 0;
}

/* A stream connect started earlier: 0 once established, -EAGAIN while pending, else -errno. */
static int finish_connect(struct vigil_conn *conn)
{
    struct pollfd pfd = {.fd = conn->fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof(err);

    if (poll(&pfd, 1, 0) == 0)
        return -EAGAIN;
    if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err != 0)
        return -err;
    conn->connecting = false;
    return 0;
}

/* Errors after which the socket is useless but a new one may work. Measured: once the receiver
 * is gone a connected datagram socket reports ECONNREFUSED, then ENOTCONN forever. */
static bool socket_is_stale(int r)
{
    return r == -ECONNREFUSED || r == -ENOTCONN || r == -ECONNRESET || r == -EPIPE ||
           r == -EDESTADDRREQ || r == -EIO;
}

static int send_connected(struct vigil_conn *conn, const char *data, size_t len, const int *fds,
                          size_t n_fds)
{
    int r = conn->fd < 0 ? connect_socket(conn) : 0;
    if (r == 0 && conn->connecting)
        r = finish_connect(conn);
    if (r == -EAGAIN)
        return r;
    if (r < 0) {
        close_socket(conn);
        return r;
    }
    r = vigil_platform_send(conn->fd, data, len, fds, n_fds);
    if (socket_is_stale(r))
        close_socket(conn);
    return r;
}

int vigil_conn_send_fds(struct vigil_conn *conn, const char *data, size_t len, const int *fds,
                        size_t n_fds)
{
    if (!conn->configured)
        return 0;
    if (len > VIGIL_NOTIFY_MAX)
        return -EMSGSIZE;
    if (n_fds > VIGIL_SCM_MAX_FD)
        return -E2BIG;

    bool reused = conn->fd >= 0;
    int r = send_connected(conn, data, len, fds, n_fds);
    if (r > 0 || !reused || !socket_is_stale(r))
        return r;
    /* The manager re-executed: the old peer is gone, a new one may listen at the address. */
    return send_connected(conn, data, len, fds, n_fds);
}

int vigil_conn_send(struct vigil_conn *conn, const char *data, size_t len, int pass_fd)
{
    return vigil_conn_send_fds(conn, data, len, &pass_fd, pass_fd >= 0 ? 1 : 0);
}

int vigil_conn_send_barrier(struct vigil_conn *conn, int *ret_read_fd)
{
    static const char barrier[] = "BARRIER=1";
    int fds[2];

    if (!conn->configured)
        return 0;
    int r = vigil_platform_pipe(fds);
    if (r < 0)
        return r;
    r = vigil_conn_send(conn, barrier, sizeof(barrier) - 1, fds[1]);
    close(fds[1]);
    if (r > 0)
        *ret_read_fd = fds[0];
    else
        close(fds[0]);
    return r;
}
