/* vigil_notify.h: systemd's service notification protocol (sd_notify(3)), with no Erlang in it.
 *
 * Return convention, as systemd's own library: 0 = nothing to do (no manager listening),
 * > 0 = done, -errno = failure. Output parameters are named ret_*.
 *
 * Portable C: what needs Linux lives in the platform layer (vigil_platform.h). Built for a
 * system without systemd (VIGIL_PLATFORM=none: macOS, the BSDs), addresses parse exactly as on
 * Linux, so a malformed $NOTIFY_SOCKET is reported the same way everywhere, but a connection
 * never becomes configured: every send returns 0 and nothing is sent.
 */
#ifndef VIGIL_NOTIFY_H
#define VIGIL_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "vigil_utf8.h"

/* The manager reads at most this many bytes of a datagram (NOTIFY_BUFFER_MAX = PIPE_BUF) and
 * ignores a longer one whole. */
#define VIGIL_NOTIFY_MAX 4096

/** Where a $NOTIFY_SOCKET points. */
enum vigil_addr_kind {
    VIGIL_ADDR_UNIX = 1, /**< a path or an abstract name: un, un_len */
    VIGIL_ADDR_VSOCK,    /**< a virtual machine socket: cid, port */
};

/** A parsed $NOTIFY_SOCKET, in no system's socket address format but AF_UNIX's. */
struct vigil_addr {
    enum vigil_addr_kind kind;
    int type;              /**< 0 = datagram with systemd's vsock fallbacks, else SOCK_* */
    struct sockaddr_un un; /**< VIGIL_ADDR_UNIX */
    socklen_t un_len;      /**< bytes of un that make up the address */
    uint32_t cid;          /**< VIGIL_ADDR_VSOCK: context id, never VMADDR_CID_ANY */
    uint32_t port;         /**< VIGIL_ADDR_VSOCK */
};

/** One connection to the manager; fd is -1 while not connected. */
struct vigil_conn {
    struct vigil_addr addr;
    bool configured; /**< false: not under a manager, every send is a no-op */
    int fd;
    int type;        /**< socket type of fd */
    bool connecting; /**< a stream connect is still in progress */
};

/** An assignment list being built: "KEY=value" lines joined by '\n', no trailing newline. */
struct vigil_msg {
    size_t len;
    char buf[VIGIL_NOTIFY_MAX];
};

/**
 * Parse a $NOTIFY_SOCKET value in any form current sd_notify() accepts: an absolute path, an
 * abstract name "@name", or "vsock:CID:PORT" (also "vsock-dgram:", "vsock-seqpacket:",
 * "vsock-stream:").
 * @param text the value, not NUL-terminated; may not contain NUL
 * @param len its length in bytes
 * @param ret_addr the address, written only on success
 * @return 0, -EINVAL (malformed, relative, empty, vsock without CID), -E2BIG (too long for
 *         sun_path: never truncated)
 */
int vigil_addr_parse(const char *text, size_t len, struct vigil_addr *ret_addr);

/** Start with no manager: every send returns 0. */
void vigil_conn_init(struct vigil_conn *conn);

/**
 * Point the connection at a manager; an open socket is closed, the next send connects. Where
 * no manager can exist (VIGIL_PLATFORM=none) the connection stays unconfigured.
 */
void vigil_conn_configure(struct vigil_conn *conn, const struct vigil_addr *addr);

/** Close the socket and forget the manager. */
void vigil_conn_reset(struct vigil_conn *conn);

/**
 * Send one datagram without ever blocking (MSG_DONTWAIT|MSG_NOSIGNAL). When the receiver went
 * away and came back (the manager re-executed), the socket is reconnected and the send retried
 * once.
 * @param conn the connection
 * @param data the message
 * @param len its length, at most VIGIL_NOTIFY_MAX
 * @param pass_fd a file descriptor to pass with SCM_RIGHTS, or -1
 * @return 0 not configured, 1 sent, -EAGAIN receiver queue full, -EMSGSIZE, or another -errno
 */
int vigil_conn_send(struct vigil_conn *conn, const char *data, size_t len, int pass_fd);

/**
 * vigil_conn_send() with any number of descriptors in one SCM_RIGHTS message, as the fd store
 * takes them (FDSTORE=1: FDNAME= names every descriptor of its message). The manager receives
 * duplicates; the caller's descriptors stay open and its own.
 * @param conn the connection
 * @param data the message
 * @param len its length, at most VIGIL_NOTIFY_MAX
 * @param fds the descriptors (NULL when n_fds is 0)
 * @param n_fds how many
 * @return as vigil_conn_send(), or -E2BIG for more than VIGIL_SCM_MAX_FD (vigil_listen.h)
 *         descriptors, -EBADF for one that is not open
 */
int vigil_conn_send_fds(struct vigil_conn *conn, const char *data, size_t len, const int *fds,
                        size_t n_fds);

/**
 * Send BARRIER=1 with the write end of a new pipe, which is closed here: once the manager has
 * read every earlier message it closes its copy, and the read end sees end of file.
 * @param conn the connection
 * @param ret_read_fd the read end (close-on-exec, non-blocking), set only when 1 is returned
 * @return 0 not configured (no pipe is made), 1 sent, or -errno as vigil_conn_send
 */
int vigil_conn_send_barrier(struct vigil_conn *conn, int *ret_read_fd);

/** Start an empty message. */
void vigil_msg_init(struct vigil_msg *msg);

/**
 * Whether key is a valid assignment name: [A-Z_][A-Z0-9_]*.
 * @return 0 or -EINVAL
 */
int vigil_key_check(const char *key, size_t len);

/**
 * Whether the manager reads value back exactly as given: no '\n', '\r', NUL or '\\' (the
 * manager splits on the first two and unescapes backslashes), and for STATUS valid UTF-8 by
 * systemd's rules (it ignores a STATUS that is not).
 * @return 0 or -EINVAL
 */
int vigil_value_check(const char *key, size_t key_len, const char *value, size_t value_len);

/**
 * Append KEY=value after checking both.
 * @return 0, -EINVAL (key or value), -EMSGSIZE (the message would not fit; msg unchanged)
 */
int vigil_msg_append(struct vigil_msg *msg, const char *key, size_t key_len, const char *value,
                     size_t value_len);

/** Append KEY=<decimal>. @return as vigil_msg_append */
int vigil_msg_append_int(struct vigil_msg *msg, const char *key, size_t key_len, int64_t value);

/** Append MONOTONIC_USEC=<CLOCK_MONOTONIC now, in µs>. @return as vigil_msg_append or -errno */
int vigil_msg_append_monotonic(struct vigil_msg *msg);

/**
 * Append KEY=text for people to read: controls become spaces, backslashes are doubled so the
 * manager shows them as typed, invalid UTF-8 becomes U+FFFD, and the text is cut at a character
 * boundary to fit what is left of the message.
 * @return 0, -EINVAL (key), -EMSGSIZE (not even "KEY=" fits)
 */
int vigil_msg_append_text(struct vigil_msg *msg, const char *key, size_t key_len, const char *text,
                          size_t text_len);

/** Read CLOCK_MONOTONIC in µs. @return 0 or -errno */
int vigil_monotonic_usec(uint64_t *ret_usec);

#endif
