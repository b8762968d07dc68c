/* receiver.c: see receiver.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "receiver.h"

static socklen_t fill_addr(const struct receiver *rcv, struct sockaddr_un *un)
{
    size_t len = strlen(rcv->address);

    memset(un, 0, sizeof(*un));
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, rcv->address, len);
    if (rcv->abstract) {
        un->sun_path[0] = '\0';
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    }
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int receiver_reopen(struct receiver *rcv)
{
    struct sockaddr_un un;
    socklen_t len = fill_addr(rcv, &un);
    int one = 1;

    rcv->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (rcv->fd < 0)
        return -errno;
    if (!rcv->abstract)
        unlink(rcv->address);
    if (setsockopt(rcv->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
        bind(rcv->fd, (struct sockaddr *)&un, len) < 0) {
        int r = -errno;
        close(rcv->fd);
        rcv->fd = -1;
        return r;
    }
    return 0;
}

int receiver_open(struct receiver *rcv, bool abstract)
{
    memset(rcv, 0, sizeof(*rcv));
    rcv->abstract = abstract;
    if (abstract) {
        snprintf(rcv->address, sizeof(rcv->address), "@vigil-test-%d-%ld", (int)getpid(), random());
    } else {
        snprintf(rcv->dir, sizeof(rcv->dir), "/tmp/vigil-test-XXXXXX");
        if (!mkdtemp(rcv->dir))
            return -errno;
        snprintf(rcv->address, sizeof(rcv->address), "%s/notify", rcv->dir);
    }
    return receiver_reopen(rcv);
}

void receiver_close_socket(struct receiver *rcv)
{
    if (rcv->fd >= 0)
        close(rcv->fd);
    rcv->fd = -1;
    if (!rcv->abstract)
        unlink(rcv->address);
}

void receiver_close(struct receiver *rcv)
{
    receiver_close_socket(rcv);
    if (!rcv->abstract && rcv->dir[0])
        rmdir(rcv->dir);
}

static void read_control(struct msghdr *header, struct received *msg)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(header); c; c = CMSG_NXTHDR(header, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
            memcpy(&msg->creds, CMSG_DATA(c), sizeof(msg->creds));
            msg->has_creds = true;
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            memcpy(&msg->passed_fd, CMSG_DATA(c), sizeof(int));
        }
    }
}

long receiver_read(struct receiver *rcv, struct received *ret_msg, int timeout_ms)
{
    union {
        struct cmsghdr header;
        char bytes[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 4)];
    } control;
    struct pollfd pfd = {.fd = rcv->fd, .events = POLLIN};
    struct iovec iov = {.iov_base = ret_msg->data, .iov_len = sizeof(ret_msg->data)};
    struct msghdr header = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.bytes,
                            .msg_controllen = sizeof(control.bytes)};

    ret_msg->has_creds = false;
    ret_msg->passed_fd = -1;
    int ready = poll(&pfd, 1, timeout_ms);
    if (ready <= 0)
        return ready == 0 ? -EAGAIN : -errno;
    ssize_t n = recvmsg(rcv->fd, &header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return -errno;
    ret_msg->len = (size_t)n;
    read_control(&header, ret_msg);
    return n;
}

int receiver_drain(struct receiver *rcv)
{
    char buf[8192];
    int n = 0;

    while (recv(rcv->fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
        n++;
    return n;
}
