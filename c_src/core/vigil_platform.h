/* vigil_platform.h: what the connection needs from the operating system; internal to the core.
 *
 * The Makefile links exactly one implementation, by VIGIL_PLATFORM (chosen from uname -s):
 * - vigil_platform_linux.c: sd_notify's transports, AF_UNIX datagrams and AF_VSOCK.
 * - vigil_platform_none.c: systems without systemd (macOS, the BSDs). No manager can listen
 *   there, so vigil_conn_configure() leaves the connection unconfigured and every send returns
 *   0; the functions that open and use sockets are never reached and fail with -EAFNOSUPPORT.
 *
 * Everything else in the core is portable C11 with POSIX sockets.
 *
 * The journal (vigil_journal.h) needs a socket, a send with a name and a sealed memfd: on the
 * none platform vigil_platform_has_manager() is false, vigil_journal_open() opens nothing, and
 * the journal functions below are never reached (they fail with -EAFNOSUPPORT).
 *
 * Socket activation (vigil_listen.h) reads the variables and describes descriptors in portable
 * C; only the pidfd's inode and a socket's accept queue limit are asked here, and the none
 * platform answers -EOPNOTSUPP (the pidfd check is skipped, the limit unknown).
 */
#ifndef VIGIL_PLATFORM_H
#define VIGIL_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vigil_notify.h"

/** Whether a service manager can be reached from this system at all. */
bool vigil_platform_has_manager(void);

/**
 * Open a close-on-exec, non-blocking socket to addr and start connecting it.
 * @param addr the manager's address
 * @param ret_type the socket type used (a plain "vsock:" address tries several)
 * @param ret_connecting true when a stream connect is still in progress
 * @return the socket, or -errno
 */
int vigil_platform_connect(const struct vigil_addr *addr, int *ret_type, bool *ret_connecting);

/**
 * Send one datagram on a connected socket, never blocking and never raising SIGPIPE.
 * @param fd the socket
 * @param data the message
 * @param len its length
 * @param fds descriptors to pass with SCM_RIGHTS (NULL when n_fds is 0)
 * @param n_fds how many, at most VIGIL_SCM_MAX_FD
 * @return 1 sent whole, -EAGAIN receiver queue full, -EIO sent in part, or another -errno
 */
int vigil_platform_send(int fd, const char *data, size_t len, const int *fds, size_t n_fds);

/**
 * Make a pipe whose ends are both close-on-exec and non-blocking, atomically where the system
 * allows it (no other thread's fork may inherit an end).
 * @param ret_fds read end, write end; set only on success
 * @return 0 or -errno
 */
int vigil_platform_pipe(int ret_fds[2]);

/**
 * Open an unconnected AF_UNIX datagram socket (close-on-exec) for the journal, and raise its
 * send buffer to sndbuf bytes as journald's client does: SO_SNDBUF, then SO_SNDBUFFORCE when the
 * kernel capped it (net.core.wmem_max) and the process may (CAP_NET_ADMIN). The buffer is best
 * effort: a refusal leaves the kernel's value.
 * @param sndbuf the send buffer to ask for, in bytes
 * @return the socket, or -errno
 */
int vigil_platform_journal_socket(int sndbuf);

/**
 * Send one datagram to addr, never blocking (MSG_DONTWAIT) and never raising SIGPIPE.
 * @param fd the socket
 * @param addr the receiver
 * @param addr_len bytes of addr that make up the address
 * @param data the datagram
 * @param len its length (0 with pass_fd: an entry passed as a file)
 * @param pass_fd a descriptor to pass with SCM_RIGHTS, or -1
 * @return 1 sent, -EAGAIN full, -EMSGSIZE too large for a datagram, or another -errno
 */
int vigil_platform_journal_sendto(int fd, const struct sockaddr_un *addr, socklen_t addr_len,
                                  const char *data, size_t len, int pass_fd);

/**
 * Write data to a new memfd sealed with exactly F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|
 * F_SEAL_WRITE, the set journald 252 compares for equality: created with MFD_EXEC where the
 * kernel knows it, since kernels from 6.3 may add F_SEAL_EXEC otherwise. Where memfds fail or
 * end up with other seals (vm.memfd_noexec=2 forbids MFD_EXEC), an unlinked, unsealed file
 * directly in /dev/shm, which journald accepts up to half its limit for files.
 * @param data the entry
 * @param len its length
 * @return the descriptor (close-on-exec, at offset 0 or sealed), or -errno
 */
int vigil_platform_journal_file(const char *data, size_t len);

/**
 * The inode of a pidfd for this process, which newer systemd passes in LISTEN_PIDFDID: only where
 * the kernel's pidfds live in pidfs (Linux 6.9 and later), which makes the inode unique, and on
 * 64-bit systems, as sd_listen_fds() requires.
 * @param ret_id the inode, set only on success
 * @return 0, -EOPNOTSUPP (no pidfs, or no pidfds on this system), or another -errno
 */
int vigil_platform_pidfd_id(uint64_t *ret_id);

/**
 * The accept queue limit of a listening socket: what listen() set, capped by the kernel
 * (net.core.somaxconn). Linux tells it for TCP (TCP_INFO's tcpi_sacked) and for AF_UNIX
 * (NETLINK_SOCK_DIAG's UNIX_DIAG_RQLEN, where netlink sockets are allowed).
 * @param fd a listening socket
 * @param family its AF_*
 * @param type its SOCK_*
 * @return the limit, -EOPNOTSUPP where the system does not tell, or another -errno
 */
int vigil_platform_listen_backlog(int fd, int family, int type);

/**
 * Connect a close-on-exec, non-blocking AF_UNIX stream socket to path, without waiting: a
 * listener whose queue is full is -EAGAIN, not a reason to block (the memory pressure watch's
 * socket kind, vigil_pressure.h).
 * @param path a NUL-terminated file system path
 * @return the socket, -ENAMETOOLONG for a path sun_path cannot hold, or another -errno
 */
int vigil_platform_unix_connect(const char *path);

#endif
