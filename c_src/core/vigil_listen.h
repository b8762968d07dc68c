/* vigil_listen.h: socket activation (sd_listen_fds_with_names(3)) and the names of the file
 * descriptor store (sd_notify(3): FDSTORE=1, FDNAME=), with no Erlang in it.
 *
 * Return convention as vigil_notify.h: 0 = nothing to do, > 0 = done, -errno = failure.
 *
 * The environment is given by the caller, as text: the BEAM reads LISTEN_PID, LISTEN_PIDFDID,
 * LISTEN_FDS and LISTEN_FDNAMES once and removes them from its own environment (which is what
 * its children inherit), so nothing here calls getenv(). Numbers are decimal digits only, as
 * systemd writes them: a sign, a space or a leading zero makes the environment malformed.
 *
 * Portable C: what Linux alone can tell (the pidfd's inode, a listening socket's accept queue
 * limit) is the platform layer's (vigil_platform.h), which on other systems says it cannot.
 */
#ifndef VIGIL_LISTEN_H
#define VIGIL_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/** The first descriptor passed (SD_LISTEN_FDS_START). */
#define VIGIL_LISTEN_FDS_START 3
/** The longest name systemd accepts in FDNAME= (FDNAME_MAX). */
#define VIGIL_FDNAME_MAX 255
/** The most descriptors the kernel passes in one message (SCM_MAX_FD). */
#define VIGIL_SCM_MAX_FD 253
/** Longest AF_UNIX address kept by vigil_fd_describe() (sun_path's size on Linux). */
#define VIGIL_UNIX_PATH_MAX 108

/** A variable's value, not NUL-terminated; data is NULL when the variable is unset. */
struct vigil_text {
    const char *data;
    size_t len;
};

/** The socket activation variables, as the service's environment held them. */
struct vigil_listen_env {
    struct vigil_text pid;     /**< LISTEN_PID */
    struct vigil_text pidfdid; /**< LISTEN_PIDFDID (newer systemd; not set by 252) */
    struct vigil_text fds;     /**< LISTEN_FDS */
    struct vigil_text fdnames; /**< LISTEN_FDNAMES */
};

/** Who this process is, for the LISTEN_PID and LISTEN_PIDFDID checks. */
struct vigil_listen_self {
    long pid;
    bool has_pidfd_id; /**< false where the kernel has no pidfs (the check is then skipped) */
    uint64_t pidfd_id; /**< the inode of a pidfd for this process */
};

/** Names being taken off LISTEN_FDNAMES, one per descriptor. */
struct vigil_listen_names {
    struct vigil_text rest; /**< what is left; data NULL: the variable was unset */
    bool done;              /**< the last name was taken */
};

/** What a descriptor is, as far as the system tells. */
struct vigil_fd_info {
    bool socket;    /**< false: a file, a pipe, a memfd... (the fd store keeps any) */
    int family;     /**< AF_* of its local address; AF_UNSPEC when not a socket */
    int type;       /**< SOCK_*; 0 when not a socket */
    bool listening; /**< SO_ACCEPTCONN */
    uint16_t port;  /**< AF_INET, AF_INET6: the local port */
    unsigned char ip[16];
    size_t ip_len; /**< AF_INET: 4, AF_INET6: 16, else 0 */
    char path[VIGIL_UNIX_PATH_MAX];
    size_t path_len; /**< AF_UNIX: bytes of path (0 unnamed; path[0] == '\0' abstract) */
    int backlog;     /**< a listening socket's accept queue limit, -1 where unknown */
};

/** Fill in this process's pid and, where the kernel tells, its pidfd inode. */
void vigil_listen_self(struct vigil_listen_self *ret_self);

/**
 * How many descriptors the manager passed to this process, by the rules of
 * sd_listen_fds_with_names(), without touching any descriptor.
 * @param env the variables
 * @param self this process
 * @return 0 none for this process (LISTEN_PID or LISTEN_FDS unset; LISTEN_PID, or LISTEN_PIDFDID
 *         where the kernel tells, naming another process), n > 0 the count (descriptors
 *         VIGIL_LISTEN_FDS_START to VIGIL_LISTEN_FDS_START + n - 1), -EINVAL malformed (a number
 *         that is not one, LISTEN_FDS of 0 or past the largest descriptor, a count that differs
 *         from the number of names)
 */
int vigil_listen_parse(const struct vigil_listen_env *env, const struct vigil_listen_self *self);

/**
 * vigil_listen_parse(), then set FD_CLOEXEC on each descriptor passed, as sd_listen_fds() does.
 * @return as vigil_listen_parse(), or -EBADF (a descriptor counted is not open) or another
 *         -errno from fcntl()
 */
int vigil_listen_claim(const struct vigil_listen_env *env, const struct vigil_listen_self *self);

/** Start taking names off env's LISTEN_FDNAMES. */
void vigil_listen_names_init(struct vigil_listen_names *names, const struct vigil_listen_env *env);

/**
 * The next descriptor's name: the next field of LISTEN_FDNAMES (possibly empty), or "unknown"
 * when the variable was unset, as sd_listen_fds_with_names() names them.
 * @param names the cursor
 * @param ret_raw the name as written in the variable, backslash escapes and all
 * @param ret_len its length once unescaped (vigil_listen_name_copy() writes that many bytes)
 * @return 1 a name, 0 none left (an unset variable never runs out), -EINVAL a lone trailing
 *         backslash
 */
int vigil_listen_names_next(struct vigil_listen_names *names, struct vigil_text *ret_raw,
                            size_t *ret_len);

/** Write the name raw (from vigil_listen_names_next()) unescaped to out. */
void vigil_listen_name_copy(struct vigil_text raw, char *out);

/**
 * Whether name is one systemd stores under FDNAME=: ASCII without control characters, no ':'
 * (the separator of LISTEN_FDNAMES), 1 to VIGIL_FDNAME_MAX bytes. systemd also takes the empty
 * name, which it reads as no name (the fd comes back as "stored"): it is refused here.
 * @return 0 or -EINVAL
 */
int vigil_fdname_check(const char *name, size_t len);

/**
 * Describe a descriptor: whether it is a socket, its family, type, local address, whether it
 * listens and, where the platform tells, its accept queue limit.
 * @param fd the descriptor
 * @param ret_info written on success
 * @return 0 or -errno (-EBADF: not open)
 */
int vigil_fd_describe(int fd, struct vigil_fd_info *ret_info);

/**
 * A duplicate of fd, close-on-exec: a descriptor the caller owns, on the same open socket.
 * @return the new descriptor, or -errno
 */
int vigil_fd_dup(int fd);

#endif
