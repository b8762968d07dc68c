/* receiver.h: a real AF_UNIX datagram receiver, as the manager binds it, for tests and benches. */
#ifndef VIGIL_TEST_RECEIVER_H
#define VIGIL_TEST_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct receiver {
    int fd;
    bool abstract;
    char dir[64];      /**< temp dir holding the socket (path form) */
    char address[128]; /**< the $NOTIFY_SOCKET value that reaches it */
};

struct received {
    size_t len;
    char data[8192];
    bool has_creds;
    struct ucred creds;
    int passed_fd; /**< a descriptor passed with SCM_RIGHTS, or -1 */
};

/**
 * Bind a datagram socket with SO_PASSCRED, in a fresh temp dir or under an abstract name.
 * @return 0 or -errno
 */
int receiver_open(struct receiver *rcv, bool abstract);

/** Bind again at the same address (the manager re-executed). @return 0 or -errno */
int receiver_reopen(struct receiver *rcv);

/** Close the socket, keeping the temp dir so the address can be reopened. */
void receiver_close_socket(struct receiver *rcv);

/** Close and remove everything. */
void receiver_close(struct receiver *rcv);

/**
 * Read one datagram without blocking longer than timeout_ms.
 * @return its length, -EAGAIN when none arrived, or -errno
 */
long receiver_read(struct receiver *rcv, struct received *ret_msg, int timeout_ms);

/** Drop every queued datagram. @return how many */
int receiver_drain(struct receiver *rcv);

#endif
