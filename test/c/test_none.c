/* test_none.c: the core linked with vigil_platform_none.c, as on a system without systemd,
 * pointed at a real AF_UNIX receiver that would hear anything sent. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "receiver.h"
#include "vigil_notify.h"

#define LIT(s) (s), (sizeof(s) - 1)

static struct receiver rcv;

static int setup(void **state)
{
    (void)state;
    return receiver_open(&rcv, false);
}

static int teardown(void **state)
{
    (void)state;
    receiver_close(&rcv);
    return 0;
}

static void configure(struct vigil_conn *conn, const char *text)
{
    struct vigil_addr addr;

    assert_int_equal(vigil_addr_parse(text, strlen(text), &addr), 0);
    vigil_conn_init(conn);
    vigil_conn_configure(conn, &addr);
}

static void test_configured_is_not_under_a_manager(void **state)
{
    struct vigil_conn conn;
    struct received got;
    int read_fd = -1;
    (void)state;

    configure(&conn, rcv.address);
    assert_false(conn.configured);
    assert_int_equal(vigil_conn_send(&conn, LIT("READY=1"), -1), 0);
    assert_int_equal(vigil_conn_send_barrier(&conn, &read_fd), 0);
    assert_int_equal(read_fd, -1);
    assert_int_equal(conn.fd, -1);
    assert_int_equal(receiver_read(&rcv, &got, 100), -EAGAIN);
    vigil_conn_reset(&conn);
}

/* Every form sd_notify() accepts still parses, so a malformed one is reported as on Linux. */
static void test_addresses_parse_as_on_linux(void **state)
{
    struct vigil_conn conn;
    struct vigil_addr addr;
    (void)state;

    configure(&conn, "vsock-stream:2:9");
    assert_false(conn.configured);
    assert_int_equal(vigil_conn_send(&conn, LIT("READY=1"), -1), 0);
    configure(&conn, "@vigil/none");
    assert_false(conn.configured);
    assert_int_equal(vigil_addr_parse(LIT("vsock:x:1"), &addr), -EINVAL);
    assert_int_equal(vigil_addr_parse(LIT("relative"), &addr), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configured_is_not_under_a_manager),
        cmocka_unit_test(test_addresses_parse_as_on_linux),
    };
    return cmocka_run_group_tests_name("vigil core, platform none", tests, setup, teardown);
}
