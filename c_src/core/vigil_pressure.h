/* vigil_pressure.h: the memory pressure protocol of systemd 254 and later (systemd's
 * docs/PRESSURE.md), with no Erlang in it.
 *
 * The manager hands the service MEMORY_PRESSURE_WATCH, a path, and MEMORY_PRESSURE_WRITE, base64
 * text. The path is a kernel PSI file (a cgroup's memory.pressure, or /proc/pressure/memory: a
 * regular file, watched for POLLPRI and never read), a FIFO or an AF_UNIX stream socket (watched
 * for POLLIN, whatever arrives read and discarded); "/dev/null" turns the feature off. The decoded
 * MEMORY_PRESSURE_WRITE is written right after opening: for a PSI file it is the trigger
 * ("some 200000 2000000", NUL included), which the kernel then fires at most once per window.
 *
 * Return convention as vigil_notify.h: 0 = nothing to do, > 0 = done, -errno = failure. As in the
 * rest of the core, nothing here calls getenv(): the caller passes the values.
 */
#ifndef VIGIL_PRESSURE_H
#define VIGIL_PRESSURE_H

#include <stdbool.h>
#include <stddef.h>

/** The most bytes MEMORY_PRESSURE_WRITE may decode to (a PSI trigger is some 30 bytes). */
#define VIGIL_PRESSURE_WRITE_MAX 256

/** An open watch. */
struct vigil_pressure {
    int fd;      /**< the PSI file, FIFO or connected socket; -1 when closed */
    short event; /**< what poll() waits for: POLLPRI (a PSI file) or POLLIN */
    bool drain;  /**< whether what arrives is read and discarded (FIFO, socket) */
};

/**
 * Decode standard base64 (RFC 4648 section 4): the alphabet A-Z a-z 0-9 + /, padding '=' to a
 * multiple of 4 characters or left out, no other character (no whitespace), and bits left over
 * at the end all zero, so that every input has one reading.
 * @param in the text
 * @param len its length
 * @param out where the bytes go
 * @param out_size room in out
 * @param ret_len the number of bytes decoded, set on success
 * @return 0 or -EINVAL (not base64), -ENOBUFS (more than out_size bytes)
 */
int vigil_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_size,
                        size_t *ret_len);

/**
 * Open the watch at path as the protocol says for what the path is, and write data to it.
 * Descriptors are close-on-exec and non-blocking.
 * @param path MEMORY_PRESSURE_WATCH, NUL-terminated
 * @param data the decoded MEMORY_PRESSURE_WRITE (NULL when unset: nothing is written)
 * @param len its length
 * @param ret_watch set on success (> 0)
 * @return 0 path is "/dev/null" (watching is turned off), 1 open, -EINVAL a relative path, or
 *         one that is not a regular file, FIFO or socket, -EIO the write was cut short, or the
 *         -errno of stat(), open(), connect() or write() (EACCES, ENOENT, ...; a PSI file answers
 *         a trigger it refuses with EINVAL, a kernel without PSI with EOPNOTSUPP)
 */
int vigil_pressure_open(const char *path, const unsigned char *data, size_t len,
                        struct vigil_pressure *ret_watch);

/**
 * Wait for the next pressure event, or for wake_fd to become readable.
 * @param watch an open watch
 * @param wake_fd a descriptor whose readability ends the wait (-1: none)
 * @param timeout_ms as poll()'s (-1 waits for ever)
 * @return 1 pressure (for a FIFO or socket, what had arrived is read and discarded), 0 woken by
 *         wake_fd or timed out, -ECONNRESET the peer of a socket or FIFO closed its end, -EIO
 *         the kernel reports an error on the file (POLLERR: no trigger in place), or another
 *         -errno of poll() or read()
 */
int vigil_pressure_wait(const struct vigil_pressure *watch, int wake_fd, int timeout_ms);

/** Close the watch's descriptor, if open. */
void vigil_pressure_close(struct vigil_pressure *watch);

#endif
