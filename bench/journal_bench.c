/* journal_bench.c: the C side of `make bench-journal` (bench/journal_bench.erl drives it).
 *
 *   journal_bench receive PATH              a receiver standing in for journald: binds PATH
 *                                           (AF_UNIX, SOCK_DGRAM, an 8 MiB receive buffer as
 *                                           journald's socket unit asks) and drains it until its
 *                                           stdin closes. Commands on stdin, one per line:
 *                                           "mark" zeroes the counts and starts the clock
 *                                           (answer "ok"); "count" answers "<entries> <bytes>
 *                                           <ns from the mark to the last entry received>"
 *   journal_bench sendv BYTES THREADS N     N entries in all, split over THREADS threads, each a
 *                                           loop of libsystemd's sd_journal_sendv() with a
 *                                           MESSAGE of BYTES bytes; prints "<ns per call>
 *                                           <failed calls>". sd_journal_sendv() always sends to
 *                                           /run/systemd/journal/socket: the bench runs it in a
 *                                           mount namespace where that is the receiver's socket
 *
 * The ns per call is the time the threads spent in their loops, summed, over N: time in the
 * logging call, as the Erlang rows measure it. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
/* Without it, sd_journal_sendv() is a macro adding CODE_FILE, CODE_LINE and CODE_FUNC: the
 * Erlang rows log with logger:info/2, which has no location either. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#define RCVBUF (8 * 1024 * 1024)
#define BATCH 64
/* Larger than any entry of the bench; a longer one is still counted whole (MSG_TRUNC). */
#define DGRAM_MAX 16384
#define MAX_THREADS 64

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the receiver ---- */

struct counts {
    long entries;
    long long bytes;
    long long mark_ns;
    long long last_ns;
};

static int bind_receiver(const char *path)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int size = RCVBUF;

    if (fd < 0 || strlen(path) >= sizeof(un.sun_path)) {
        (void)fprintf(stderr, "journal_bench: cannot bind %s\n", path);
        exit(1);
    }
    memcpy(un.sun_path, path, strlen(path));
    unlink(path);
    /* SO_RCVBUFFORCE passes net.core.rmem_max, as systemd does for journald; as a user, the
     * capped SO_RCVBUF is what there is. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (bind(fd, (struct sockaddr *)&un, sizeof(un)) < 0) {
        perror("journal_bench: bind");
        exit(1);
    }
    return fd;
}

/* Reads every queued datagram, BATCH at a time, into the counts. */
static void drain(int fd, struct counts *c)
{
    static char bufs[BATCH][DGRAM_MAX];
    struct mmsghdr msgs[BATCH];
    struct iovec iovs[BATCH];
    int n;

    for (int i = 0; i < BATCH; i++) {
        iovs[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof(bufs[i])};
        msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iovs[i], .msg_iovlen = 1}};
    }
    while ((n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL)) > 0) {
        c->last_ns = now_ns();
        c->entries += n;
        for (int i = 0; i < n; i++)
            c->bytes += msgs[i].msg_len;
    }
}

/* One command from stdin. @return 0 when stdin is closed */
static int command(int fd, struct counts *c)
{
    char line[64];

    if (!fgets(line, sizeof(line), stdin))
        return 0;
    drain(fd, c);
    if (strcmp(line, "mark\n") == 0) {
        *c = (struct counts){.mark_ns = now_ns()};
        c->last_ns = c->mark_ns;
        printf("ok\n");
    } else {
        printf("%ld %lld %lld\n", c->entries, c->bytes, c->last_ns - c->mark_ns);
    }
    (void)fflush(stdout);
    return 1;
}

static int run_receiver(const char *path)
{
    int fd = bind_receiver(path);
    struct pollfd fds[2] = {{.fd = fd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
    struct counts c = {.mark_ns = now_ns()};

    printf("ready\n");
    (void)fflush(stdout);
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        drain(fd, &c);
        if (fds[1].revents != 0 && !command(fd, &c))
            break;
    }
    unlink(path);
    close(fd);
    return 0;
}

/* ---- the libsystemd row ---- */

struct sender {
    pthread_t thread;
    pthread_barrier_t *start;
    const char *message;
    int index;
    long n;
    long failed;
    long long elapsed_ns;
};

/* The fields vigil_journal_h sends for logger:info/2 (the last one a pid's length). */
static void *send_loop(void *arg)
{
    struct sender *s = arg;
    char pid[32];
    struct iovec iov[4];

    (void)snprintf(pid, sizeof(pid), "ERL_PID=<0.%d.0>", 100 + s->index);
    iov[0] = (struct iovec){.iov_base = (void *)s->message, .iov_len = strlen(s->message)};
    iov[1] = (struct iovec){.iov_base = "PRIORITY=6", .iov_len = 10};
    iov[2] = (struct iovec){.iov_base = "SYSLOG_IDENTIFIER=journal_bench", .iov_len = 31};
    iov[3] = (struct iovec){.iov_base = pid, .iov_len = strlen(pid)};
    pthread_barrier_wait(s->start);
    long long start = now_ns();
    for (long i = 0; i < s->n; i++)
        if (sd_journal_sendv(iov, 4) < 0)
            s->failed++;
    s->elapsed_ns = now_ns() - start;
    return NULL;
}

static char *make_message(long bytes)
{
    static const char prefix[] = "MESSAGE=";
    char *m = malloc(sizeof(prefix) + (size_t)bytes);

    if (!m)
        exit(1);
    memcpy(m, prefix, sizeof(prefix) - 1);
    memset(m + sizeof(prefix) - 1, 'x', (size_t)bytes);
    m[sizeof(prefix) - 1 + (size_t)bytes] = '\0';
    return m;
}

static int run_sendv(long bytes, int threads, long n)
{
    struct sender senders[MAX_THREADS];
    pthread_barrier_t start;
    char *message = make_message(bytes);
    long failed = 0;
    long long elapsed = 0;

    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (int i = 0; i < threads; i++) {
        senders[i] = (struct sender){
            .start = &start, .message = message, .index = i, .n = n / threads + (i < n % threads)};
        pthread_create(&senders[i].thread, NULL, send_loop, &senders[i]);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(senders[i].thread, NULL);
        failed += senders[i].failed;
        elapsed += senders[i].elapsed_ns;
    }
    pthread_barrier_destroy(&start);
    free(message);
    printf("%.1f %ld\n", (double)elapsed / (double)n, failed);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "receive") == 0)
        return run_receiver(argv[2]);
    if (argc == 5 && strcmp(argv[1], "sendv") == 0) {
        long bytes = strtol(argv[2], NULL, 10);
        long threads = strtol(argv[3], NULL, 10);
        long n = strtol(argv[4], NULL, 10);
        if (bytes >= 0 && bytes < DGRAM_MAX && threads > 0 && threads <= MAX_THREADS && n > 0)
            return run_sendv(bytes, (int)threads, n);
    }
    (void)fprintf(stderr, "usage: %s receive PATH | sendv BYTES THREADS N\n", argv[0]);
    return 2;
}
