/* vigil_platform_linux.c: sd_notify's transports on Linux: AF_UNIX datagrams and AF_VSOCK. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vigil_platform.h"

bool vigil_platform_has_manager(void)
{
    return true;
}

static bool errno_is_not_supported(int err)
{
    return err == EOPNOTSUPP || err == ESOCKTNOSUPPORT || err == EPROTONOSUPPORT || err == ENODEV ||
           err == ENOSYS;
}

static int open_socket(int family, int type)
{
    int fd = socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    return fd < 0 ? -errno : fd;
}

/* A plain "vsock:" address means datagram, then seqpacket, then stream, as sd_notify() tries:
 * hypervisors often lack vsock datagrams. */
static int open_vsock(int type, int *ret_type)
{
    static const int fallbacks[] = {SOCK_DGRAM, SOCK_SEQPACKET, SOCK_STREAM};

    if (type != 0) {
        *ret_type = type;
        return open_socket(AF_VSOCK, type);
    }
    for (size_t i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]); i++) {
        int fd = open_socket(AF_VSOCK, fallbacks[i]);
        if (fd >= 0) {
            *ret_type = fallbacks[i];
            return fd;
        }
        if (!errno_is_not_supported(-fd))
            return fd;
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

/* Connect fd, a new socket that is closed on failure. A non-blocking stream connect may still
 * be in progress: sends then report EAGAIN until it completes. */
static int connect_socket(int fd, const struct sockaddr *sa, socklen_t len, bool *ret_connecting)
{
    bool in_progress = false;
    int r = 0;

    if (connect(fd, sa, len) < 0) {
        in_progress = errno == EINPROGRESS;
        r = in_progress ? 0 : -errno;
    }
    if (r < 0) {
        close(fd);
        return r;
    }
    *ret_connecting = in_progress;
    return fd;
}

static int connect_vsock(const struct vigil_addr *addr, int *ret_type, bool *ret_connecting)
{
    struct sockaddr_vm vm = {.svm_family = AF_VSOCK, .svm_cid = addr->cid, .svm_port = addr->port};
    int fd = open_vsock(addr->type, ret_type);
    if (fd < 0)
        return fd;

    int r = bind_privileged_vsock_port(fd);
    if (r < 0) {
        close(fd);
        return r;
    }
    return connect_socket(fd, (const struct sockaddr *)&vm, sizeof(vm), ret_connecting);
}

int vigil_platform_connect(const struct vigil_addr *addr, int *ret_type, bool *ret_connecting)
{
    if (addr->kind == VIGIL_ADDR_VSOCK)
        return connect_vsock(addr, ret_type, ret_connecting);

    int fd = open_socket(AF_UNIX, addr->type);
    if (fd < 0)
        return fd;
    *ret_type = addr->type;
    return connect_socket(fd, (const struct sockaddr *)&addr->un, addr->un_len, ret_connecting);
}

int vigil_platform_send(int fd, const char *data, size_t len, int pass_fd)
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

int vigil_platform_pipe(int ret_fds[2])
{
    return pipe2(ret_fds, O_CLOEXEC | O_NONBLOCK) < 0 ? -errno : 0;
}
