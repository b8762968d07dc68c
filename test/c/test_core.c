/* test_core.c: the notification core, against real AF_UNIX datagram receivers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "receiver.h"
#include "vigil_notify.h"

#define LIT(s) (s), (sizeof(s) - 1)

static int parse(const char *text, struct vigil_addr *addr)
{
    return vigil_addr_parse(text, strlen(text), addr);
}

/* ---- addresses ---- */

static void test_addr_absolute_path(void **state)
{
    struct vigil_addr addr;
    (void)state;
    assert_int_equal(parse("/run/systemd/notify", &addr), 0);
    assert_int_equal(addr.kind, VIGIL_ADDR_UNIX);
    assert_string_equal(addr.un.sun_path, "/run/systemd/notify");
    /* The path is passed with its NUL, as sd_notify() does. */
    assert_int_equal(addr.un_len, offsetof(struct sockaddr_un, sun_path) + 19 + 1);
}

static void test_addr_abstract_name(void **state)
{
    struct vigil_addr addr;
    (void)state;
    assert_int_equal(parse("@vigil/notify", &addr), 0);
    assert_int_equal(addr.un.sun_path[0], '\0');
    assert_memory_equal(addr.un.sun_path + 1, "vigil/notify", 12);
    /* No trailing NUL counted: the name is exactly these 13 bytes. */
    assert_int_equal(addr.un_len, offsetof(struct sockaddr_un, sun_path) + 13);
}

static void test_addr_longest_fit_and_too_long(void **state)
{
    char text[200];
    struct vigil_addr addr;
    size_t room = sizeof(addr.un.sun_path);
    (void)state;

    memset(text, 'a', sizeof(text));
    text[0] = '/';
    assert_int_equal(vigil_addr_parse(text, room - 1, &addr), 0);
    assert_int_equal(vigil_addr_parse(text, room, &addr), -E2BIG);
    text[0] = '@';
    assert_int_equal(vigil_addr_parse(text, room, &addr), 0);
    assert_int_equal(addr.un_len, offsetof(struct sockaddr_un, sun_path) + room);
    assert_int_equal(vigil_addr_parse(text, room + 1, &addr), -E2BIG);
}

static void test_addr_malformed(void **state)
{
    static const char *const bad[] = {
        "",           "run/notify",         "notify",        "/",          "@",
        "vsock:",     "vsock::9",           "vsock:2",       "vsock:2:",   "vsock:x:1",
        "vsock:2:y",  "vsock:02:1",         "vsock:-1:1",    "vsock:+2:1", "vsock: 2:1",
        "vsocks:2:1", "vsock:4294967296:1", "vsock-raw:2:1",
    };
    struct vigil_addr addr = {.un_len = 77};
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = parse(bad[i], &addr);
        if (r != -EINVAL)
            fail_msg("\"%s\" gave %d, not -EINVAL", bad[i], r);
    }
    assert_int_equal(vigil_addr_parse("/run\0x", 6, &addr), -EINVAL);
    assert_int_equal(addr.un_len, 77); /* untouched on failure */
}

static void test_addr_vsock_forms(void **state)
{
    static const struct {
        const char *text;
        int type;
    } forms[] = {{"vsock:2:1234", 0},
                 {"vsock-dgram:3:1", SOCK_DGRAM},
                 {"vsock-seqpacket:4294967294:7", SOCK_SEQPACKET},
                 {"vsock-stream:1:4294967295", SOCK_STREAM}};
    struct vigil_addr addr;
    (void)state;

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        assert_int_equal(parse(forms[i].text, &addr), 0);
        assert_int_equal(addr.kind, VIGIL_ADDR_VSOCK);
        assert_int_equal(addr.type, forms[i].type);
    }
    assert_int_equal(parse("vsock:2:1234", &addr), 0);
    assert_int_equal(addr.cid, 2);
    assert_int_equal(addr.port, 1234);
}

/* ---- validation ---- */

static void test_keys(void **state)
{
    (void)state;
    assert_int_equal(vigil_key_check(LIT("READY")), 0);
    assert_int_equal(vigil_key_check(LIT("_X9")), 0);
    assert_int_equal(vigil_key_check(LIT("X_1")), 0);
    assert_int_equal(vigil_key_check(LIT("")), -EINVAL);
    assert_int_equal(vigil_key_check(LIT("1X")), -EINVAL);
    assert_int_equal(vigil_key_check(LIT("ready")), -EINVAL);
    assert_int_equal(vigil_key_check(LIT("A-B")), -EINVAL);
    assert_int_equal(vigil_key_check(LIT("A=B")), -EINVAL);
    assert_int_equal(vigil_key_check(LIT("A B")), -EINVAL);
}

static int check_value(const char *key, const char *value, size_t len)
{
    return vigil_value_check(key, strlen(key), value, len);
}

static void test_values(void **state)
{
    (void)state;
    assert_int_equal(check_value("READY", LIT("1")), 0);
    assert_int_equal(check_value("STATUS", LIT("")), 0);
    assert_int_equal(check_value("STATUS", LIT("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80")), 0);
    assert_int_equal(check_value("STATUS", LIT("a\nREADY=1")), -EINVAL);
    assert_int_equal(check_value("STATUS", LIT("a\rb")), -EINVAL);
    assert_int_equal(check_value("STATUS", LIT("a\\b")), -EINVAL);
    assert_int_equal(check_value("STATUS", LIT("ends with \\")), -EINVAL);
    assert_int_equal(check_value("STATUS", "a\0b", 3), -EINVAL);
}

static void test_status_utf8_by_systemd_rules(void **state)
{
    static const char *const bad[] = {
        "\xFF",             /* never valid */
        "\xC3",             /* cut short */
        "\xC0\x80",         /* overlong NUL */
        "\xE0\x80\xAF",     /* overlong '/' */
        "\xED\xA0\x80",     /* surrogate */
        "\xEF\xBF\xBF",     /* U+FFFF */
        "\xEF\xB7\x90",     /* U+FDD0 */
        "\xF0\x9F\xBF\xBE", /* U+1FFFE */
        "\xF4\x90\x80\x80", /* past U+10FFFF */
    };
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(check_value("STATUS", bad[i], strlen(bad[i])), -EINVAL);
        /* Other keys are not read as text by the manager. */
        assert_int_equal(check_value("X_DATA", bad[i], strlen(bad[i])), 0);
    }
}

/* ---- messages ---- */

static void test_msg_joins_lines(void **state)
{
    struct vigil_msg msg;
    (void)state;

    vigil_msg_init(&msg);
    assert_int_equal(vigil_msg_append(&msg, LIT("READY"), LIT("1")), 0);
    assert_int_equal(vigil_msg_append(&msg, LIT("STATUS"), LIT("up")), 0);
    assert_int_equal(vigil_msg_append_int(&msg, LIT("MAINPID"), 4711), 0);
    assert_int_equal(vigil_msg_append_int(&msg, LIT("ERRNO"), INT64_MIN), 0);
    const char want[] = "READY=1\nSTATUS=up\nMAINPID=4711\nERRNO=-9223372036854775808";
    assert_int_equal(msg.len, sizeof(want) - 1);
    assert_memory_equal(msg.buf, want, msg.len);
}

static void test_msg_refuses_invalid_and_keeps_message(void **state)
{
    struct vigil_msg msg;
    (void)state;

    vigil_msg_init(&msg);
    assert_int_equal(vigil_msg_append(&msg, LIT("READY"), LIT("1")), 0);
    assert_int_equal(vigil_msg_append(&msg, LIT("bad"), LIT("1")), -EINVAL);
    assert_int_equal(vigil_msg_append(&msg, LIT("STATUS"), LIT("x\nREADY=1")), -EINVAL);
    assert_int_equal(msg.len, 7);
}

static void test_msg_size_limit(void **state)
{
    static char value[VIGIL_NOTIFY_MAX];
    struct vigil_msg msg;
    (void)state;

    memset(value, 'v', sizeof(value));
    vigil_msg_init(&msg);
    assert_int_equal(vigil_msg_append(&msg, LIT("STATUS"), value, VIGIL_NOTIFY_MAX - 6), -EMSGSIZE);
    assert_int_equal(msg.len, 0);
    assert_int_equal(vigil_msg_append(&msg, LIT("STATUS"), value, VIGIL_NOTIFY_MAX - 7), 0);
    assert_int_equal(msg.len, VIGIL_NOTIFY_MAX);
    assert_int_equal(vigil_msg_append(&msg, LIT("READY"), LIT("")), -EMSGSIZE);
}

static void test_msg_monotonic_is_clock_monotonic(void **state)
{
    struct vigil_msg msg;
    uint64_t before, after;
    unsigned long long sent;
    (void)state;

    vigil_msg_init(&msg);
    assert_int_equal(vigil_monotonic_usec(&before), 0);
    assert_int_equal(vigil_msg_append_monotonic(&msg), 0);
    assert_int_equal(vigil_monotonic_usec(&after), 0);
    msg.buf[msg.len] = '\0';
    assert_int_equal(sscanf(msg.buf, "MONOTONIC_USEC=%llu", &sent), 1);
    assert_true(sent >= before && sent <= after);
}

/* ---- text for people ---- */

static void append_text(struct vigil_msg *msg, const char *text, size_t len)
{
    vigil_msg_init(msg);
    assert_int_equal(vigil_msg_append_text(msg, LIT("STATUS"), text, len), 0);
}

#define assert_msg(msg, want)                                                                      \
    do {                                                                                           \
        assert_int_equal((msg).len, sizeof(want) - 1);                                             \
        assert_memory_equal((msg).buf, (want), (msg).len);                                         \
    } while (0)

static void test_text_controls_become_spaces(void **state)
{
    struct vigil_msg msg;
    (void)state;
    append_text(&msg, "a\nb\rc\td\0e\x7f", 10);
    assert_msg(msg, "STATUS=a b c d e ");
}

static void test_text_cannot_inject(void **state)
{
    struct vigil_msg msg;
    (void)state;
    append_text(&msg, LIT("boom\nREADY=1"));
    assert_msg(msg, "STATUS=boom READY=1");
}

static void test_text_backslashes_shown_as_typed(void **state)
{
    struct vigil_msg msg;
    (void)state;
    append_text(&msg, LIT("C:\\dir\\"));
    assert_msg(msg, "STATUS=C:\\\\dir\\\\");
}

static void test_text_invalid_utf8_replaced(void **state)
{
    struct vigil_msg msg;
    (void)state;
    append_text(&msg, LIT("a\xFF"
                          "b\xEF\xBF\xBF"
                          "c\xC3"));
    assert_msg(msg, "STATUS=a\xEF\xBF\xBD"
                    "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                    "c\xEF\xBF\xBD");
    append_text(&msg, LIT("d\xC3\xA9j\xC3\xA0 vu \xE2\x82\xAC"));
    assert_msg(msg, "STATUS=d\xC3\xA9j\xC3\xA0 vu \xE2\x82\xAC");
}

static void test_text_cut_to_fit(void **state)
{
    static char text[3 * VIGIL_NOTIFY_MAX];
    struct vigil_msg msg;
    (void)state;

    memset(text, 'a', sizeof(text));
    append_text(&msg, text, sizeof(text));
    assert_int_equal(msg.len, VIGIL_NOTIFY_MAX);

    /* Two-byte characters: 4089 bytes of room hold 2044 of them, never half of one. */
    for (size_t i = 0; i + 1 < sizeof(text); i += 2)
        memcpy(text + i, "\xC3\xA9", 2);
    append_text(&msg, text, sizeof(text) - 1);
    assert_int_equal(msg.len, 7 + 2044 * 2);

    /* An escaped backslash is written whole or not at all. */
    memset(text, 'a', VIGIL_NOTIFY_MAX - 8);
    memcpy(text + VIGIL_NOTIFY_MAX - 8, "\\\\", 2);
    append_text(&msg, text, VIGIL_NOTIFY_MAX - 6);
    assert_int_equal(msg.len, VIGIL_NOTIFY_MAX - 1);
    assert_int_equal(msg.buf[msg.len - 1], 'a');
}

static void test_text_after_other_lines(void **state)
{
    struct vigil_msg msg;
    (void)state;
    vigil_msg_init(&msg);
    assert_int_equal(vigil_msg_append(&msg, LIT("ERRNO"), LIT("5")), 0);
    assert_int_equal(vigil_msg_append_text(&msg, LIT("STATUS"), LIT("reload failed")), 0);
    assert_msg(msg, "ERRNO=5\nSTATUS=reload failed");
    assert_int_equal(vigil_msg_append_text(&msg, LIT("bad key"), LIT("x")), -EINVAL);
}

/* ---- sending ---- */

struct fixture {
    struct receiver rcv;
    struct vigil_conn conn;
};

static int open_fixture(void **state, bool abstract)
{
    static struct fixture f;
    struct vigil_addr addr;

    if (receiver_open(&f.rcv, abstract) < 0)
        return -1;
    vigil_conn_init(&f.conn);
    if (vigil_addr_parse(f.rcv.address, strlen(f.rcv.address), &addr) < 0)
        return -1;
    vigil_conn_configure(&f.conn, &addr);
    *state = &f;
    return 0;
}

static int setup_path(void **state)
{
    return open_fixture(state, false);
}

static int setup_abstract(void **state)
{
    return open_fixture(state, true);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vigil_conn_reset(&f->conn);
    receiver_close(&f->rcv);
    return 0;
}

static void expect_datagram(struct receiver *rcv, const char *want)
{
    struct received got;
    long n = receiver_read(rcv, &got, 1000);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(got.data, want, got.len);
    assert_true(got.has_creds);
    assert_int_equal(got.creds.pid, getpid());
    assert_int_equal(got.creds.uid, getuid());
}

static void test_send_not_configured_is_noop(void **state)
{
    struct vigil_conn conn;
    (void)state;
    vigil_conn_init(&conn);
    assert_int_equal(vigil_conn_send(&conn, LIT("READY=1"), -1), 0);
    assert_int_equal(conn.fd, -1);
}

static void test_send_exact_bytes(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(vigil_conn_send(&f->conn, LIT("READY=1\nSTATUS=up"), -1), 1);
    expect_datagram(&f->rcv, "READY=1\nSTATUS=up");
    assert_int_equal(vigil_conn_send(&f->conn, LIT("WATCHDOG=1"), -1), 1);
    expect_datagram(&f->rcv, "WATCHDOG=1");
}

static void test_send_too_big(void **state)
{
    static char big[VIGIL_NOTIFY_MAX + 1];
    struct fixture *f = *state;
    assert_int_equal(vigil_conn_send(&f->conn, big, sizeof(big), -1), -EMSGSIZE);
}

/* The manager re-executed between two sends: the second send reconnects by itself. */
static void test_send_reconnects_after_receiver_came_back(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(vigil_conn_send(&f->conn, LIT("STATUS=one"), -1), 1);
    expect_datagram(&f->rcv, "STATUS=one");
    receiver_close_socket(&f->rcv);
    assert_int_equal(receiver_reopen(&f->rcv), 0);
    assert_int_equal(vigil_conn_send(&f->conn, LIT("STATUS=two"), -1), 1);
    expect_datagram(&f->rcv, "STATUS=two");
}

/* While the receiver is gone sends fail; once it is back the next send succeeds. */
static void test_send_fails_while_receiver_gone(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(vigil_conn_send(&f->conn, LIT("STATUS=one"), -1), 1);
    expect_datagram(&f->rcv, "STATUS=one");
    receiver_close_socket(&f->rcv);
    int r = vigil_conn_send(&f->conn, LIT("STATUS=lost"), -1);
    assert_true(r == -ECONNREFUSED || r == -ENOENT);
    assert_int_equal(vigil_conn_send(&f->conn, LIT("STATUS=lost"), -1), r);
    assert_int_equal(receiver_reopen(&f->rcv), 0);
    assert_int_equal(vigil_conn_send(&f->conn, LIT("STATUS=back"), -1), 1);
    expect_datagram(&f->rcv, "STATUS=back");
}

/* A receiver that does not read fills its queue: sends report EAGAIN and never block. */
static void test_send_full_queue_is_eagain(void **state)
{
    struct fixture *f = *state;
    int sent = 0, r;

    while ((r = vigil_conn_send(&f->conn, LIT("WATCHDOG=1"), -1)) == 1 && sent < 100000)
        sent++;
    assert_int_equal(r, -EAGAIN);
    assert_true(sent >= 1);
    assert_int_equal(receiver_drain(&f->rcv), sent);
    assert_int_equal(vigil_conn_send(&f->conn, LIT("READY=1"), -1), 1);
    expect_datagram(&f->rcv, "READY=1");
}

static void test_send_passes_fd(void **state)
{
    struct fixture *f = *state;
    struct received got;
    int fds[2];

    assert_int_equal(pipe(fds), 0);
    assert_int_equal(vigil_conn_send(&f->conn, LIT("BARRIER=1"), fds[1]), 1);
    close(fds[1]);
    assert_int_equal(receiver_read(&f->rcv, &got, 1000), 9);
    assert_true(got.passed_fd >= 0);
    close(got.passed_fd);
    /* Every write end is closed now: the reader sees end of file, as a barrier waiter does. */
    char c;
    assert_int_equal(read(fds[0], &c, 1), 0);
    close(fds[0]);
}

static void test_barrier_passes_pipe(void **state)
{
    struct fixture *f = *state;
    struct received got;
    int read_fd = -1;
    char c;

    assert_int_equal(vigil_conn_send_barrier(&f->conn, &read_fd), 1);
    assert_true(read_fd >= 0);
    assert_int_equal(receiver_read(&f->rcv, &got, 1000), 9);
    assert_memory_equal(got.data, "BARRIER=1", 9);
    assert_true(got.passed_fd >= 0);
    /* Non-blocking while the manager holds the write end, end of file once it closes it. */
    assert_int_equal(read(read_fd, &c, 1), -1);
    assert_int_equal(errno, EAGAIN);
    close(got.passed_fd);
    assert_int_equal(read(read_fd, &c, 1), 0);
    close(read_fd);
}

static void test_barrier_not_configured_is_noop(void **state)
{
    struct vigil_conn conn;
    int read_fd = -1;
    (void)state;

    vigil_conn_init(&conn);
    assert_int_equal(vigil_conn_send_barrier(&conn, &read_fd), 0);
    assert_int_equal(read_fd, -1);
}

/* vsock as this kernel answers when no vsock transport reaches VMADDR_CID_LOCAL (no
 * vsock_loopback, no hypervisor), measured: socket(AF_VSOCK, SOCK_DGRAM) fails with ENODEV, a
 * seqpacket connect with ESOCKTNOSUPPORT, and a non-blocking stream connect stays in progress.
 * A plain "vsock:" falls back from datagram to seqpacket, as sd_notify() does. A kernel with a
 * loopback transport answers otherwise and fails here until its outcomes are measured too. */
static const struct {
    const char *address;
    int want;
} vsock_outcomes[] = {
    {"vsock:1:9999", -ESOCKTNOSUPPORT},
    {"vsock-dgram:1:9999", -ENODEV},
    {"vsock-seqpacket:1:9999", -ESOCKTNOSUPPORT},
    {"vsock-stream:1:9999", -EAGAIN},
};

/* Each send answers at once, twice: a failed socket is closed and opened again, a pending
 * stream connect is kept and asked again without waiting. */
static void test_send_vsock(void **state)
{
    (void)state;

    for (size_t i = 0; i < sizeof(vsock_outcomes) / sizeof(vsock_outcomes[0]); i++) {
        struct vigil_conn conn;
        struct vigil_addr addr;
        uint64_t before, after;
        bool pending = vsock_outcomes[i].want == -EAGAIN;

        assert_int_equal(parse(vsock_outcomes[i].address, &addr), 0);
        vigil_conn_init(&conn);
        vigil_conn_configure(&conn, &addr);
        assert_int_equal(vigil_monotonic_usec(&before), 0);
        for (int attempt = 0; attempt < 2; attempt++) {
            int r = vigil_conn_send(&conn, LIT("READY=1"), -1);
            if (r != vsock_outcomes[i].want)
                fail_msg("%s: %s, not %s", vsock_outcomes[i].address,
                         r == 1 ? "sent" : strerror(-r), strerror(-vsock_outcomes[i].want));
            assert_int_equal(conn.fd >= 0, pending);
            assert_int_equal(conn.connecting, pending);
        }
        assert_int_equal(vigil_monotonic_usec(&after), 0);
        assert_true(after - before < 100000);
        vigil_conn_reset(&conn);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addr_absolute_path),
        cmocka_unit_test(test_addr_abstract_name),
        cmocka_unit_test(test_addr_longest_fit_and_too_long),
        cmocka_unit_test(test_addr_malformed),
        cmocka_unit_test(test_addr_vsock_forms),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_status_utf8_by_systemd_rules),
        cmocka_unit_test(test_msg_joins_lines),
        cmocka_unit_test(test_msg_refuses_invalid_and_keeps_message),
        cmocka_unit_test(test_msg_size_limit),
        cmocka_unit_test(test_msg_monotonic_is_clock_monotonic),
        cmocka_unit_test(test_text_controls_become_spaces),
        cmocka_unit_test(test_text_cannot_inject),
        cmocka_unit_test(test_text_backslashes_shown_as_typed),
        cmocka_unit_test(test_text_invalid_utf8_replaced),
        cmocka_unit_test(test_text_cut_to_fit),
        cmocka_unit_test(test_text_after_other_lines),
        cmocka_unit_test(test_send_not_configured_is_noop),
        cmocka_unit_test(test_send_vsock),
        cmocka_unit_test_setup_teardown(test_send_exact_bytes, setup_path, teardown),
        cmocka_unit_test_setup_teardown(test_send_exact_bytes, setup_abstract, teardown),
        cmocka_unit_test_setup_teardown(test_send_too_big, setup_path, teardown),
        cmocka_unit_test_setup_teardown(test_send_reconnects_after_receiver_came_back, setup_path,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_send_reconnects_after_receiver_came_back,
                                        setup_abstract, teardown),
        cmocka_unit_test_setup_teardown(test_send_fails_while_receiver_gone, setup_path, teardown),
        cmocka_unit_test_setup_teardown(test_send_full_queue_is_eagain, setup_path, teardown),
        cmocka_unit_test_setup_teardown(test_send_full_queue_is_eagain, setup_abstract, teardown),
        cmocka_unit_test_setup_teardown(test_send_passes_fd, setup_path, teardown),
        cmocka_unit_test_setup_teardown(test_barrier_passes_pipe, setup_path, teardown),
        cmocka_unit_test(test_barrier_not_configured_is_noop),
    };
    return cmocka_run_group_tests_name("vigil notification core", tests, NULL, NULL);
}
