/* test_oracle.c: libsystemd's sd_notify() as the oracle. For the same assignments the receiver
 * must see the same bytes and the same credentials from sd_notify() and from the core. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-daemon.h>

#include "receiver.h"
#include "vigil_notify.h"

struct pair {
    const char *key;
    const char *value;
};

/* What sd_notify() is given: the assignments joined by newlines. */
static size_t join_pairs(const struct pair *pairs, size_t n, char *out, size_t out_size)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, out_size - len, "%s%s=%s", i ? "\n" : "", pairs[i].key,
                                pairs[i].value);
    return len;
}

static void build_with_core(const struct pair *pairs, size_t n, struct vigil_msg *msg)
{
    vigil_msg_init(msg);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(vigil_msg_append(msg, pairs[i].key, strlen(pairs[i].key), pairs[i].value,
                                          strlen(pairs[i].value)),
                         0);
}

static void compare_at(struct receiver *rcv, const struct pair *pairs, size_t n)
{
    char joined[VIGIL_NOTIFY_MAX + 1];
    struct vigil_msg msg;
    struct vigil_conn conn;
    struct vigil_addr addr;
    struct received from_libsystemd, from_core;

    join_pairs(pairs, n, joined, sizeof(joined));
    assert_int_equal(setenv("NOTIFY_SOCKET", rcv->address, 1), 0);
    assert_true(sd_notify(0, joined) > 0);
    assert_true(receiver_read(rcv, &from_libsystemd, 1000) >= 0);

    build_with_core(pairs, n, &msg);
    assert_int_equal(vigil_addr_parse(rcv->address, strlen(rcv->address), &addr), 0);
    vigil_conn_init(&conn);
    vigil_conn_configure(&conn, &addr);
    assert_int_equal(vigil_conn_send(&conn, msg.buf, msg.len, -1), 1);
    vigil_conn_reset(&conn);
    assert_true(receiver_read(rcv, &from_core, 1000) >= 0);

    assert_int_equal(from_core.len, from_libsystemd.len);
    assert_memory_equal(from_core.data, from_libsystemd.data, from_core.len);
    assert_true(from_core.has_creds && from_libsystemd.has_creds);
    assert_memory_equal(&from_core.creds, &from_libsystemd.creds, sizeof(struct ucred));
    unsetenv("NOTIFY_SOCKET");
}

static const struct pair ready[] = {{"READY", "1"}};
static const struct pair ready_status[] = {{"READY", "1"}, {"STATUS", "serving on :4000"}};
static const struct pair reloading[] = {{"RELOADING", "1"}, {"MONOTONIC_USEC", "123456789"}};
static const struct pair stopping[] = {{"STOPPING", "1"},
                                       {"STATUS", "draining \xE2\x80\x94 3 left"}};
static const struct pair many[] = {{"EXTEND_TIMEOUT_USEC", "5000000"},
                                   {"ERRNO", "5"},
                                   {"EXIT_STATUS", "3"},
                                   {"MAINPID", "4711"},
                                   {"WATCHDOG", "1"},
                                   {"WATCHDOG_USEC", "20000000"},
                                   {"X_CUSTOM", "a=b c"},
                                   {"STATUS", ""}};

#define COMPARE(pairs) compare_at(rcv, (pairs), sizeof(pairs) / sizeof((pairs)[0]))

static void compare_all(bool abstract)
{
    struct receiver receiver;
    struct receiver *rcv = &receiver;

    assert_int_equal(receiver_open(rcv, abstract), 0);
    COMPARE(ready);
    COMPARE(ready_status);
    COMPARE(reloading);
    COMPARE(stopping);
    COMPARE(many);
    receiver_close(rcv);
}

static void test_same_datagrams_at_path(void **state)
{
    (void)state;
    compare_all(false);
}

static void test_same_datagrams_at_abstract_name(void **state)
{
    (void)state;
    compare_all(true);
}

/* The longest message the manager reads, byte for byte. */
static void test_same_datagram_at_size_limit(void **state)
{
    static char value[VIGIL_NOTIFY_MAX];
    struct receiver rcv;
    struct pair big[] = {{"STATUS", value}};
    (void)state;

    memset(value, 'x', VIGIL_NOTIFY_MAX - 7);
    value[VIGIL_NOTIFY_MAX - 7] = '\0';
    assert_int_equal(receiver_open(&rcv, false), 0);
    compare_at(&rcv, big, 1);
    receiver_close(&rcv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_datagrams_at_path),
        cmocka_unit_test(test_same_datagrams_at_abstract_name),
        cmocka_unit_test(test_same_datagram_at_size_limit),
    };
    return cmocka_run_group_tests_name("libsystemd oracle", tests, NULL, NULL);
}
