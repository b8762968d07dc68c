/* test_pressure.c: the memory pressure watch (vigil_pressure.h): base64 against known vectors and
 * systemd's own trigger, and the three kinds of watch path with real peers: an AF_UNIX stream
 * listener, a FIFO, and, as root where the kernel has PSI, /proc/pressure/memory itself. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "vigil_pressure.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* ---- base64 ---- */

static int decode(const char *in, unsigned char *out, size_t room, size_t *len)
{
    return vigil_base64_decode(in, strlen(in), out, room, len);
}

static void test_base64_vectors(void **state)
{
    /* RFC 4648 section 10, padded and not. */
    static const char *const vectors[][2] = {
        {"", ""},
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"},
        {"Zm9vYmFy", "foobar"},
        {"Zg", "f"},
        {"Zm8", "fo"},
        {"+/+/", "\xfb\xff\xbf"},
    };
    unsigned char out[16];
    size_t len = 99;
    (void)state;

    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        assert_int_equal(decode(vectors[i][0], out, sizeof(out), &len), 0);
        assert_int_equal(len, strlen(vectors[i][1]));
        assert_memory_equal(out, vectors[i][1], len);
    }
}

/* What systemd 257 sets for MemoryPressureThresholdSec=200ms: the trigger with its NUL. */
static void test_base64_systemd_trigger(void **state)
{
    unsigned char out[VIGIL_PRESSURE_WRITE_MAX];
    size_t len = 0;
    (void)state;

    assert_int_equal(decode("c29tZSAyMDAwMDAgMjAwMDAwMAA=", out, sizeof(out), &len), 0);
    assert_int_equal(len, sizeof("some 200000 2000000"));
    assert_memory_equal(out, "some 200000 2000000", len);
}

static void test_base64_refused(void **state)
{
    static const char *const bad[] = {
        "Z",        "Zg=",  "Z===", "Zh==",  "Zm9=",  "Zm9v\n", " Zm9v", "=Zg=",
        "Zg==Zg==", "Zm-v", "Zm_v", "Zm9v=", "Zg===", "Zm9vY",  "Zm.v",
    };
    unsigned char out[16];
    size_t len = 7;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(decode(bad[i], out, sizeof(out), &len), -EINVAL);
        assert_int_equal(len, 7);
    }
    /* A NUL inside is not base64 either. */
    assert_int_equal(vigil_base64_decode(LIT("Zm\0v"), out, sizeof(out), &len), -EINVAL);
}

static void test_base64_room(void **state)
{
    unsigned char out[3];
    size_t len = 0;
    (void)state;

    assert_int_equal(decode("Zm9vYg==", out, sizeof(out), &len), -ENOBUFS);
    assert_int_equal(decode("Zm9v", out, sizeof(out), &len), 0);
    assert_int_equal(len, 3);
    assert_int_equal(decode("Zm8", out, 2, &len), 0);
    assert_int_equal(len, 2);
}

/* ---- the watch ---- */

/* A 2 s window, as systemd writes: without CAP_SYS_RESOURCE the kernel takes no other. */
static const unsigned char trigger[] = "some 150000 2000000";

static void test_off_and_bad_paths(void **state)
{
    struct vigil_pressure w = {.fd = -1};
    (void)state;

    assert_int_equal(vigil_pressure_open("/dev/null", trigger, sizeof(trigger), &w), 0);
    assert_int_equal(w.fd, -1);
    assert_int_equal(vigil_pressure_open("memory.pressure", NULL, 0, &w), -EINVAL);
    assert_int_equal(vigil_pressure_open("/nonexistent/memory.pressure", NULL, 0, &w), -ENOENT);
    assert_int_equal(vigil_pressure_open("/", NULL, 0, &w), -EINVAL);
    assert_int_equal(w.fd, -1);
}

struct listener {
    char dir[64];
    char path[128];
    int fd;
};

static void listener_open(struct listener *l)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};

    strcpy(l->dir, "/tmp/vigil-pressure-XXXXXX");
    assert_non_null(mkdtemp(l->dir));
    snprintf(l->path, sizeof(l->path), "%s/watch", l->dir);
    strcpy(sa.sun_path, l->path);
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(l->fd >= 0);
    assert_int_equal(bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(l->fd, 4), 0);
}

static void listener_close(struct listener *l)
{
    close(l->fd);
    unlink(l->path);
    rmdir(l->dir);
}

/* The socket is connected, the trigger written to it; the listener's writes are the events. */
static void test_socket_watch(void **state)
{
    struct listener l;
    struct vigil_pressure w = {.fd = -1};
    char got[64];
    (void)state;

    listener_open(&l);
    assert_int_equal(vigil_pressure_open(l.path, trigger, sizeof(trigger), &w), 1);
    assert_int_equal(w.event, POLLIN);
    int peer = accept(l.fd, NULL, NULL);
    assert_true(peer >= 0);
    assert_int_equal(read(peer, got, sizeof(got)), sizeof(trigger));
    assert_memory_equal(got, trigger, sizeof(trigger));

    assert_int_equal(vigil_pressure_wait(&w, -1, 0), 0);
    assert_int_equal(write(peer, "pressure", 8), 8);
    assert_int_equal(vigil_pressure_wait(&w, -1, 1000), 1);
    /* What came was read and discarded: no second event for it. */
    assert_int_equal(vigil_pressure_wait(&w, -1, 0), 0);
    close(peer);
    assert_int_equal(vigil_pressure_wait(&w, -1, 1000), -ECONNRESET);
    vigil_pressure_close(&w);
    assert_int_equal(w.fd, -1);
    listener_close(&l);
}

/* Without MEMORY_PRESSURE_WRITE nothing is written; a socket nobody listens on is refused. */
static void test_socket_refused(void **state)
{
    struct listener l;
    struct vigil_pressure w = {.fd = -1};
    (void)state;

    listener_open(&l);
    close(l.fd);
    l.fd = -1;
    assert_int_equal(vigil_pressure_open(l.path, NULL, 0, &w), -ECONNREFUSED);
    unlink(l.path);
    rmdir(l.dir);
}

static void test_fifo_watch(void **state)
{
    char dir[] = "/tmp/vigil-pressure-XXXXXX", path[64];
    struct vigil_pressure w = {.fd = -1};
    char got[64];
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    int reader = open(path, O_RDWR | O_NONBLOCK);
    assert_true(reader >= 0);
    assert_int_equal(vigil_pressure_open(path, trigger, sizeof(trigger), &w), 1);
    /* The trigger went into the FIFO: read it back before waiting. */
    assert_int_equal(read(reader, got, sizeof(got)), sizeof(trigger));
    assert_int_equal(vigil_pressure_wait(&w, -1, 0), 0);
    assert_int_equal(write(reader, "x", 1), 1);
    assert_int_equal(vigil_pressure_wait(&w, -1, 1000), 1);
    assert_int_equal(vigil_pressure_wait(&w, -1, 0), 0);
    vigil_pressure_close(&w);
    close(reader);
    unlink(path);
    rmdir(dir);
}

/* A readable wake descriptor ends a wait that would last for ever. */
static void test_wake(void **state)
{
    struct listener l;
    struct vigil_pressure w = {.fd = -1};
    int pipefd[2];
    (void)state;

    listener_open(&l);
    assert_int_equal(vigil_pressure_open(l.path, NULL, 0, &w), 1);
    assert_int_equal(pipe(pipefd), 0);
    assert_int_equal(write(pipefd[1], "w", 1), 1);
    assert_int_equal(vigil_pressure_wait(&w, pipefd[0], -1), 0);
    close(pipefd[0]);
    close(pipefd[1]);
    vigil_pressure_close(&w);
    listener_close(&l);
}

/* The kernel's own PSI file, as root: a trigger it takes, and one it refuses with EINVAL. */
static void test_psi_file(void **state)
{
    static const unsigned char nonsense[] = "most 1 2";
    struct vigil_pressure w = {.fd = -1};
    (void)state;

    if (geteuid() != 0 || access("/proc/pressure/memory", W_OK) != 0)
        skip();
    assert_int_equal(vigil_pressure_open("/proc/pressure/memory", trigger, sizeof(trigger), &w), 1);
    assert_int_equal(w.event, POLLPRI);
    int r = vigil_pressure_wait(&w, -1, 0);
    assert_true(r == 0 || r == 1);
    vigil_pressure_close(&w);
    assert_int_equal(vigil_pressure_open("/proc/pressure/memory", nonsense, sizeof(nonsense), &w),
                     -EINVAL);
    /* Opened without a trigger, the file reports an error rather than never firing. */
    assert_int_equal(vigil_pressure_open("/proc/pressure/memory", NULL, 0, &w), 1);
    assert_int_equal(vigil_pressure_wait(&w, -1, 0), -EIO);
    vigil_pressure_close(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_vectors),
        cmocka_unit_test(test_base64_systemd_trigger),
        cmocka_unit_test(test_base64_refused),
        cmocka_unit_test(test_base64_room),
        cmocka_unit_test(test_off_and_bad_paths),
        cmocka_unit_test(test_socket_watch),
        cmocka_unit_test(test_socket_refused),
        cmocka_unit_test(test_fifo_watch),
        cmocka_unit_test(test_wake),
        cmocka_unit_test(test_psi_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
