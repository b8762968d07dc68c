/* notify_bench.c: the C side of `make bench`.
 *
 *   notify_bench receive PATH      a receiver that drains PATH until its stdin closes; each
 *                                  line "count" on stdin is answered with the datagrams
 *                                  received since the last one
 *   notify_bench floor PATH N      sendmsg() on one connected socket: the floor
 *   notify_bench core PATH N       the core: build STATUS text and send it, counting mallocs
 *   notify_bench sd_notify PATH N  libsystemd's sd_notify()
 *
 * Each sender prints "<ns per call> <EAGAIN retries> <malloc calls>". Senders are timed in
 * batches of BATCH sends into an empty queue; between batches, untimed, they wait until the
 * receiver has read everything (SIOCOUTQ), so the rows measure the sender, not the receiver. */
#include <errno.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "vigil_notify.h"

#define PAYLOAD_TEXT "serving 42 requests"
#define PAYLOAD "STATUS=" PAYLOAD_TEXT
#define BATCH 100

/* Counts the core's heap allocations: linked with -Wl,--wrap=malloc. */
static unsigned long malloc_calls;
void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_malloc(size_t size)
{
    malloc_calls++;
    return __real_malloc(size);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int bind_receiver(const char *path)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
        perror("bind");
        exit(1);
    }
    return fd;
}

/* Reads every queued datagram, 64 at a time. @return how many */
static long drain_batch(int fd)
{
    static char bufs[64][VIGIL_NOTIFY_MAX + 1];
    struct mmsghdr msgs[64];
    struct iovec iovs[64];
    long total = 0;
    int n;

    for (int i = 0; i < 64; i++) {
        iovs[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof(bufs[i])};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iovs[i], .msg_iovlen = 1}};
    }
    while ((n = recvmmsg(fd, msgs, 64, MSG_DONTWAIT, NULL)) > 0)
        total += n;
    return total;
}

static int run_receiver(const char *path)
{
    int fd = bind_receiver(path);
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    char line[64];
    long received = 0;

    printf("ready\n");
    fflush(stdout);
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            return 1;
        received += drain_batch(fd);
        if (fds[1].revents == 0)
            continue;
        if (!fgets(line, sizeof(line), stdin))
            break; /* stdin closed: the bench is over */
        received += drain_batch(fd);
        printf("%ld\n", received);
        fflush(stdout);
        received = 0;
    }
    unlink(path);
    return 0;
}

static int connected_socket(const char *path)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
    if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static void report(double elapsed_ns, long n, unsigned long retries, unsigned long mallocs)
{
    printf("%.1f %lu %lu\n", elapsed_ns / (double)n, retries, mallocs);
}

/* Until the receiver has read every datagram this socket sent. */
static void wait_drained(int fd)
{
    int queued = 1;

    while (ioctl(fd, SIOCOUTQ, &queued) == 0 && queued > 0)
        usleep(20);
}

static int run_floor(const char *path, long n)
{
    int fd = connected_socket(path);
    unsigned long retries = 0;
    double elapsed = 0;

    for (long done = 0; done < n; done += BATCH) {
        double start = now_ns();
        for (int i = 0; i < BATCH; i++)
            while (send(fd, PAYLOAD, sizeof(PAYLOAD) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                retries++;
        elapsed += now_ns() - start;
        wait_drained(fd);
    }
    report(elapsed, n, retries, 0);
    return 0;
}

static int run_core(const char *path, long n)
{
    struct vigil_conn conn;
    struct vigil_addr addr;
    struct vigil_msg msg;
    unsigned long retries = 0;
    double elapsed = 0;

    vigil_addr_parse(path, strlen(path), &addr);
    vigil_conn_init(&conn);
    vigil_conn_configure(&conn, &addr);
    malloc_calls = 0;
    for (long done = 0; done < n; done += BATCH) {
        double start = now_ns();
        for (int i = 0; i < BATCH; i++) {
            vigil_msg_init(&msg);
            vigil_msg_append_text(&msg, "STATUS", 6, PAYLOAD_TEXT, sizeof(PAYLOAD_TEXT) - 1);
            while (vigil_conn_send(&conn, msg.buf, msg.len, -1) == -EAGAIN)
                retries++;
        }
        elapsed += now_ns() - start;
        wait_drained(conn.fd);
    }
    report(elapsed, n, retries, malloc_calls);
    vigil_conn_reset(&conn);
    return 0;
}

static int run_sd_notify(const char *path, long n)
{
    unsigned long retries = 0;

    /* A socket per call: nothing queues against it, so no batching is needed. */
    setenv("NOTIFY_SOCKET", path, 1);
    double start = now_ns();
    for (long i = 0; i < n; i++)
        while (sd_notify(0, PAYLOAD) < 0)
            retries++;
    report(now_ns() - start, n, retries, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "receive") == 0)
        return run_receiver(argv[2]);
    if (argc != 4) {
        fprintf(stderr, "usage: %s receive PATH | floor|core|sd_notify PATH N\n", argv[0]);
        return 2;
    }
    long n = strtol(argv[3], NULL, 10);
    if (strcmp(argv[1], "floor") == 0)
        return run_floor(argv[2], n);
    if (strcmp(argv[1], "core") == 0)
        return run_core(argv[2], n);
    if (strcmp(argv[1], "sd_notify") == 0)
        return run_sd_notify(argv[2], n);
    return 2;
}
