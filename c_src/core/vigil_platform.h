/* vigil_platform.h: what the connection needs from the operating system; internal to the core.
 *
 * The Makefile links exactly one implementation, by VIGIL_PLATFORM (chosen from uname -s):
 * - vigil_platform_linux.c: sd_notify's transports, AF_UNIX datagrams and AF_VSOCK.
 * - vigil_platform_none.c: systems without systemd (macOS, the BSDs). No manager can listen
 *   there, so vigil_conn_configure() leaves the connection unconfigured and every send returns
 *   0; the functions that open and use sockets are never reached and fail with -EAFNOSUPPORT.
 *
 * Everything else in the core is portable C11 with POSIX sockets.
 */
#ifndef VIGIL_PLATFORM_H
#define VIGIL_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>

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
 * @param pass_fd a descriptor to pass with SCM_RIGHTS, or -1
 * @return 1 sent whole, -EAGAIN receiver queue full, -EIO sent in part, or another -errno
 */
int vigil_platform_send(int fd, const char *data, size_t len, int pass_fd);

/**
 * Make a pipe whose ends are both close-on-exec and non-blocking, atomically where the system
 * allows it (no other thread's fork may inherit an end).
 * @param ret_fds read end, write end; set only on success
 * @return 0 or -errno
 */
int vigil_platform_pipe(int ret_fds[2]);

#endif
