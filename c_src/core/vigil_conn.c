/* vigil_conn.c: one connected socket to the manager, never blocking the caller. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vigil_notify.h"

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
    conn->configured = true;
}

void vigil_conn_reset(struct vigil_conn *conn)
{
    close_socket(conn);
    conn->configured = false;
}

static bool errno_is_not_supported(int err)
{
    return err == EOPNOTSUPP || err == ESOCKTNOSUPPORT || err == EPROTONOSUPPORT || err == ENODEV ||
           err == ENOSYS;
}

/* A plain "vsock:" address means datagram, then seqpacket, then stream, as sd_notify() tries:
 * hypervisors often lack vsock datagrams. */
static int open_socket(const struct vigil_addr *addr, int *ret_type)
{
    static const int vsock_fallbacks[] = {SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};
    int family = addr->u.sa.sa_family;

    if (addr->type != 0) {
        *ret_type = addr->type;
        int fd = socket(family, addr->type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        return fd < 0 ? -errno : fd;
    }
    for (size_t i = 0; i < sizeof(vsock_fallbacks) / sizeof(vsock_fallbacks[0]); i++) {
        int fd = socket(family, vsock_fallbacks[i] | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0) {
            *ret_type = vsock_fallbacks[i];
            return fd;
        }
        if (!errno_is_not_supported(errno))
            return -errno;
    }
    return -EAFNOSUPPORT;
}

/* A privileged source port tells the host that root in the guest sent this; without the
 * privilege the kernel picks a port, which is fine too. */
static int bind_privileged_vsock_port(int fd)
{
    struct sockaddr_vm vm = {.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = 1023};

    for (; vm.svm_port > 0; vm.svm_port--) {
        if (bind(fd, (const struct sockaddr *)&vm, sizeof(vm)) == 0)
            return 0;
        if (errno != EADDRINUSE)
            return errno == EPERM || errno == EACCES ? 0 : -errno;
    }
    return 0;
}

static int connect_socket(struct vigil_conn *conn)
{
    int type = SOCK_DGRAM;
    int fd = open_socket(&conn->addr, &type);
    if (fd < 0)
        return fd;

    int r = conn->addr.u.sa.sa_family == AF_VSOCK ? bind_privileged_vsock_port(fd) : 0;
    errno = 0;
    /* A non-blocking stream connect may still be in progress: sends then report EAGAIN. */
    if (r == 0 && connect(fd, &conn->addr.u.sa, conn->addr.len) < 0 && errno != EINPROGRESS)
        r = -errno;
    if (r < 0) {
        close(fd);
        return r;
    }
    conn->fd = fd;
    conn->type = type;
    conn->connecting = r == 0 && errno == EINPROGRESS;
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

static int send_datagram(int fd, const char *data, size_t len, int pass_fd)
{
    union {
        struct cmsghdr header;
        char bytes[CMSG_SPACE(sizeof(int))];
    } control;
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr header = {.msg_iov = &iov, .msg_iovlen = 1};

    if (pass_fd >= 0) {
        memset(&control, 0, sizeof(control));
        header.msg_control = control.bytes;
        header.msg_controllen = sizeof(control.bytes);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&header);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
    }
    ssize_t n = sendmsg(fd, &header, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return (size_t)n == len ? 1 : -EIO;
}

/* Errors after which the socket is useless but a new one may work. Measured: once the receiver
 * is gone a connected datagram socket reports ECONNREFUSED, then ENOTCONN forever. */
static bool socket_is_stale(int r)
{
    return r == -ECONNREFUSED || r == -ENOTCONN || r == -ECONNRESET || r == -EPIPE ||
           r == -EDESTADDRREQ || r == -EIO;
}

static int send_connected(struct vigil_conn *conn, const char *data, size_t len, int pass_fd)
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
    r = send_datagram(conn->fd, data, len, pass_fd);
    if (socket_is_stale(r))
        close_socket(conn);
    return r;
}

int vigil_conn_send(struct vigil_conn *conn, const char *data, size_t len, int pass_fd)
{
    if (!conn->configured)
        return 0;
    if (len > VIGIL_NOTIFY_MAX)
        return -EMSGSIZE;

    bool reused = conn->fd >= 0;
    int r = send_connected(conn, data, len, pass_fd);
    if (r > 0 || !reused || !socket_is_stale(r))
        return r;
    /* The manager re-executed: the old peer is gone, a new one may listen at the address. */
    return send_connected(conn, data, len, pass_fd);
}
