/* vigil_pressure.c: the memory pressure watch (vigil_pressure.h). Portable POSIX: poll(), stat();
 * the AF_UNIX socket kind is the platform layer's. */
#include "vigil_pressure.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vigil_platform.h"

/* The 6-bit value of a base64 character, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* The length of in without its padding, or -EINVAL for padding that is not base64's: at most
 * two '=', only at the end, and then only to complete a group of 4. */
static long b64_unpadded(const char *in, size_t len)
{
    size_t n = len;

    while (n > 0 && in[n - 1] == '=')
        n--;
    size_t pad = len - n;
    if (pad > 2 || (pad > 0 && len % 4 != 0))
        return -EINVAL;
    return (long)n;
}

int vigil_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_size,
                        size_t *ret_len)
{
    long n = b64_unpadded(in, len);
    if (n < 0 || n % 4 == 1)
        return -EINVAL;
    size_t need = (size_t)n / 4 * 3 + ((size_t)n % 4 ? (size_t)n % 4 - 1 : 0);
    if (need > out_size)
        return -ENOBUFS;

    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (long i = 0; i < n; i++) {
        int v = b64_value((unsigned char)in[i]);
        if (v < 0)
            return -EINVAL;
        acc = (acc << 6 | (uint32_t)v) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    /* The bits that make no byte must be zero: "QQ==" is "A", "QR==" is not base64. */
    if (bits > 0 && (acc & ((1U << bits) - 1)) != 0)
        return -EINVAL;
    *ret_len = o;
    return 0;
}

static int open_file(const char *path, bool writing)
{
    int fd = open(path, (writing ? O_RDWR : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

/* Open path by its kind; sets how it is watched. */
static int open_kind(const char *path, bool writing, struct vigil_pressure *w)
{
    struct stat st;

    if (stat(path, &st) < 0)
        return -errno;
    if (S_ISREG(st.st_mode)) {
        *w = (struct vigil_pressure){.event = POLLPRI, .drain = false};
        return open_file(path, writing);
    }
    *w = (struct vigil_pressure){.event = POLLIN, .drain = true};
    if (S_ISFIFO(st.st_mode)) /* read-write: the FIFO never reads as closed while we hold it */
        return open_file(path, true);
    if (S_ISSOCK(st.st_mode))
        return vigil_platform_unix_connect(path);
    return -EINVAL;
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
    ssize_t n = write(fd, data, len);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : -EIO;
}

int vigil_pressure_open(const char *path, const unsigned char *data, size_t len,
                        struct vigil_pressure *ret_watch)
{
    struct vigil_pressure w;

    if (strcmp(path, "/dev/null") == 0)
        return 0;
    if (path[0] != '/')
        return -EINVAL;
    int fd = open_kind(path, data != NULL, &w);
    if (fd < 0)
        return fd;
    if (data) {
        int r = write_all(fd, data, len);
        if (r < 0) {
            close(fd);
            return r;
        }
    }
    w.fd = fd;
    *ret_watch = w;
    return 1;
}

/* Read and discard what has arrived on a FIFO or socket. */
static int drain(int fd)
{
    char buf[256];

    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n > 0)
            continue;
        if (n == 0)
            return -ECONNRESET;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
    }
}

int vigil_pressure_wait(const struct vigil_pressure *watch, int wake_fd, int timeout_ms)
{
    struct pollfd p[2] = {{.fd = watch->fd, .events = watch->event},
                          {.fd = wake_fd, .events = POLLIN}};

    int n = poll(p, wake_fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    if (n == 0 || (wake_fd >= 0 && p[1].revents))
        return 0;
    if (p[0].revents & POLLNVAL)
        return -EBADF;
    if (!watch->drain)
        return (p[0].revents & POLLERR) ? -EIO : 1;
    if ((p[0].revents & (POLLERR | POLLHUP)) && !(p[0].revents & POLLIN))
        return -ECONNRESET;
    int r = drain(watch->fd);
    return r < 0 ? r : 1;
}

void vigil_pressure_close(struct vigil_pressure *watch)
{
    if (watch->fd >= 0)
        close(watch->fd);
    watch->fd = -1;
}
