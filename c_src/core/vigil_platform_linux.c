/* vigil_platform_linux.c: sd_notify's transports on Linux (AF_UNIX datagrams and AF_VSOCK), the
 * journal's socket and sealed memfds, and what socket activation asks of Linux alone. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "vigil_listen.h"
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

/* One datagram, to name (NULL on a connected socket), with n_fds descriptors. */
static int send_message(int fd, const struct sockaddr_un *name, socklen_t name_len,
                        const char *data, size_t len, const int *fds, size_t n_fds)
{
    union {
        struct cmsghdr header;
        char bytes[CMSG_SPACE(sizeof(int) * VIGIL_SCM_MAX_FD)];
    } control;
    struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
    struct msghdr header = {.msg_iov = &iov, .msg_iovlen = 1};

    if (n_fds > VIGIL_SCM_MAX_FD)
        return -E2BIG;
    if (name) {
        header.msg_name = (void *)name;
        header.msg_namelen = name_len;
    }
    if (n_fds > 0) {
        memset(&control, 0, sizeof(control));
        header.msg_control = control.bytes;
        header.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&header);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
    }
    ssize_t n = sendmsg(fd, &header, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    return (size_t)n == len ? 1 : -EIO;
}

int vigil_platform_send(int fd, const char *data, size_t len, const int *fds, size_t n_fds)
{
    return send_message(fd, NULL, 0, data, len, fds, n_fds);
}

int vigil_platform_pipe(int ret_fds[2])
{
    return pipe2(ret_fds, O_CLOEXEC | O_NONBLOCK) < 0 ? -errno : 0;
}

/* ---- the journal ---- */

/* Kernels from 6.3 know MFD_EXEC; older headers may not. */
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

#define JOURNAL_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static int send_buffer(int fd)
{
    int value = 0;
    socklen_t len = sizeof(value);
    return getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, &len) < 0 ? 0 : value;
}

/* The kernel keeps twice what was asked (its bookkeeping), capped by net.core.wmem_max unless
 * forced: less than twice the request means the cap applied. */
static void raise_send_buffer(int fd, int sndbuf)
{
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) == 0 &&
        (long)send_buffer(fd) >= 2L * sndbuf)
        return;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
}

int vigil_platform_journal_socket(int sndbuf)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (sndbuf > 0)
        raise_send_buffer(fd, sndbuf);
    return fd;
}

int vigil_platform_journal_sendto(int fd, const struct sockaddr_un *addr, socklen_t addr_len,
                                  const char *data, size_t len, int pass_fd)
{
    return send_message(fd, addr, addr_len, data, len, &pass_fd, pass_fd >= 0 ? 1 : 0);
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* MFD_EXEC keeps F_SEAL_EXEC off (journald 252 refuses it). A kernel before 6.3 rejects the flag
 * (EINVAL) and never adds F_SEAL_EXEC: then without. vm.memfd_noexec=2 forbids it (EACCES): the
 * caller falls back to /dev/shm, which every journald accepts. */
static int create_memfd(void)
{
    int fd = memfd_create("vigil-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
    if (fd < 0 && errno == EINVAL)
        fd = memfd_create("vigil-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    return fd < 0 ? -errno : fd;
}

/* Seals exactly as journald 252 compares them, or -EPERM (a kernel that added others). */
static int seal(int fd)
{
    if (fcntl(fd, F_ADD_SEALS, JOURNAL_SEALS) < 0)
        return -errno;
    return fcntl(fd, F_GET_SEALS) == JOURNAL_SEALS ? 0 : -EPERM;
}

static int sealed_memfd(const char *data, size_t len)
{
    int fd = create_memfd();
    if (fd < 0)
        return fd;
    int r = write_all(fd, data, len);
    if (r == 0)
        r = seal(fd);
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

/* An unlinked file directly in /dev/shm, as libsystemd's fallback: O_TMPFILE, else a named file
 * removed at once. journald reads it from offset 0 through its own descriptor. */
static int open_shm_file(void)
{
    int fd = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    char path[] = "/dev/shm/vigil-journal-XXXXXX";
    fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return -errno;
    (void)unlink(path);
    return fd;
}

static int shm_file(const char *data, size_t len)
{
    int fd = open_shm_file();
    if (fd < 0)
        return fd;
    int r = write_all(fd, data, len);
    if (r < 0) {
        close(fd);
        return r;
    }
    return fd;
}

int vigil_platform_journal_file(const char *data, size_t len)
{
    int fd = sealed_memfd(data, len);
    return fd >= 0 ? fd : shm_file(data, len);
}

/* ---- socket activation ---- */

/* pidfs's statfs() magic (PID_FS_MAGIC in linux/magic.h from 6.9). */
#define PIDFS_MAGIC 0x50494446

/* glibc declares pidfd_open() from 2.36 and musl not at all: the system call it wraps. */
static int open_own_pidfd(void)
{
#ifdef SYS_pidfd_open
    long fd = syscall(SYS_pidfd_open, (long)getpid(), 0L);
    return fd < 0 ? -errno : (int)fd;
#else
    return -EOPNOTSUPP;
#endif
}

/* A pidfd's inode identifies the process only on pidfs, and only whole on 64-bit systems. */
static int pidfs_inode(int pidfd, uint64_t *ret_id)
{
    struct statfs sfs;
    struct stat st;

    if (sizeof(long) < 8)
        return -EOPNOTSUPP;
    if (fstatfs(pidfd, &sfs) < 0)
        return -errno;
    if ((unsigned long)sfs.f_type != PIDFS_MAGIC)
        return -EOPNOTSUPP;
    if (fstat(pidfd, &st) < 0)
        return -errno;
    *ret_id = (uint64_t)st.st_ino;
    return 0;
}

int vigil_platform_pidfd_id(uint64_t *ret_id)
{
    int pidfd = open_own_pidfd();

    if (pidfd < 0)
        return errno_is_not_supported(-pidfd) ? -EOPNOTSUPP : pidfd;
    int r = pidfs_inode(pidfd, ret_id);
    close(pidfd);
    return r;
}

static int tcp_backlog(int fd)
{
    struct tcp_info info;
    socklen_t len = sizeof(info);
    int protocol = 0;
    socklen_t protocol_len = sizeof(protocol);

    /* An SCTP stream socket is a stream socket too, and has no TCP_INFO. */
    if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &protocol_len) < 0)
        return -errno;
    if (protocol != IPPROTO_TCP)
        return -EOPNOTSUPP;
    memset(&info, 0, sizeof(info));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) < 0)
        return -errno;
    /* For a listening socket, tcp_get_info() reports sk_max_ack_backlog in tcpi_sacked. */
    if (info.tcpi_state != TCP_LISTEN || len < offsetof(struct tcp_info, tcpi_sacked) + 4)
        return -EOPNOTSUPP;
    return info.tcpi_sacked > INT_MAX ? INT_MAX : (int)info.tcpi_sacked;
}

struct unix_diag_request {
    struct nlmsghdr header;
    struct unix_diag_req req;
};

/* Ask NETLINK_SOCK_DIAG about the AF_UNIX socket with this inode, for its queue lengths. */
static int unix_diag_query(int nl, uint32_t ino)
{
    struct unix_diag_request request = {
        .header = {.nlmsg_len = sizeof(request),
                   .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                   .nlmsg_flags = NLM_F_REQUEST},
        .req = {.sdiag_family = AF_UNIX,
                .udiag_states = UINT32_MAX,
                .udiag_ino = ino,
                .udiag_show = UDIAG_SHOW_RQLEN,
                .udiag_cookie = {UINT32_MAX, UINT32_MAX}},
    };
    return send(nl, &request, sizeof(request), 0) < 0 ? -errno : 0;
}

/* The UNIX_DIAG_RQLEN attribute of the answer: for a listening socket, udiag_wqueue is the
 * limit. Read with memcpy(): attributes are only 4-byte aligned in the buffer. */
static int unix_diag_backlog(const char *buf, size_t len)
{
    struct nlmsghdr header;
    struct rtattr attr;
    struct unix_diag_rqlen rqlen;

    if (len < sizeof(header))
        return -EIO;
    memcpy(&header, buf, sizeof(header));
    if (header.nlmsg_len > len || header.nlmsg_len < sizeof(header))
        return -EIO;
    if (header.nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr err;
        if (header.nlmsg_len < NLMSG_LENGTH(sizeof(err)))
            return -EIO;
        memcpy(&err, buf + NLMSG_LENGTH(0), sizeof(err));
        return err.error < 0 ? err.error : -EIO;
    }
    if (header.nlmsg_type != SOCK_DIAG_BY_FAMILY)
        return -EIO;
    size_t offset = NLMSG_LENGTH(sizeof(struct unix_diag_msg));
    while (offset + sizeof(attr) <= header.nlmsg_len) {
        memcpy(&attr, buf + offset, sizeof(attr));
        if (attr.rta_len < sizeof(attr) || offset + attr.rta_len > header.nlmsg_len)
            return -EIO;
        if (attr.rta_type == UNIX_DIAG_RQLEN && attr.rta_len >= RTA_LENGTH(sizeof(rqlen))) {
            memcpy(&rqlen, buf + offset + RTA_LENGTH(0), sizeof(rqlen));
            return rqlen.udiag_wqueue > INT_MAX ? INT_MAX : (int)rqlen.udiag_wqueue;
        }
        offset += RTA_ALIGN(attr.rta_len);
    }
    return -EOPNOTSUPP;
}

static int unix_backlog(int fd)
{
    union {
        struct nlmsghdr header;
        char bytes[8192];
    } answer;
    struct stat st;

    if (fstat(fd, &st) < 0)
        return -errno;
    /* A hardened unit may forbid netlink sockets (RestrictAddressFamilies=): unknown, then. */
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return -EOPNOTSUPP;
    int r = unix_diag_query(nl, (uint32_t)st.st_ino);
    if (r == 0) {
        ssize_t n = recv(nl, answer.bytes, sizeof(answer.bytes), 0);
        r = n < 0 ? -errno : unix_diag_backlog(answer.bytes, (size_t)n);
    }
    close(nl);
    return r;
}

int vigil_platform_listen_backlog(int fd, int family, int type)
{
    if ((family == AF_INET || family == AF_INET6) && type == SOCK_STREAM)
        return tcp_backlog(fd);
    if (family == AF_UNIX && (type == SOCK_STREAM || type == SOCK_SEQPACKET))
        return unix_backlog(fd);
    return -EOPNOTSUPP;
}

int vigil_platform_unix_connect(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);

    if (len >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    memcpy(sa.sun_path, path, len);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1)) < 0) {
        int r = -errno;
        close(fd);
        return r == -EINPROGRESS ? -EAGAIN : r;
    }
    return fd;
}
