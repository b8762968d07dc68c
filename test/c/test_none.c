/* test_none.c: the core linked with vigil_platform_none.c, as on a system without systemd,
 * pointed at a real AF_UNIX receiver that would hear anything sent. */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "receiver.h"
#include "vigil_listen.h"
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

/* Socket activation reads the variables and describes sockets as on Linux (tools other than
 * systemd set LISTEN_FDS); the fd store sends nothing; no pidfd check, no accept queue limit. */
static void test_socket_activation(void **state)
{
    struct vigil_listen_env env = {.pid = {LIT("42")}, .fds = {LIT("2")}, .fdnames = {LIT("a:b")}};
    struct vigil_listen_self self;
    struct vigil_fd_info info;
    struct vigil_conn conn;
    (void)state;

    vigil_listen_self(&self);
    assert_false(self.has_pidfd_id);
    self.pid = 42;
    assert_int_equal(vigil_listen_parse(&env, &self), 2);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in in = {.sin_family = AF_INET};
    assert_int_equal(bind(fd, (struct sockaddr *)&in, sizeof(in)), 0);
    assert_int_equal(listen(fd, 9), 0);
    assert_int_equal(vigil_fd_describe(fd, &info), 0);
    assert_true(info.listening);
    assert_int_equal(info.family, AF_INET);
    assert_int_equal(info.backlog, -1);
    configure(&conn, rcv.address);
    assert_int_equal(vigil_conn_send_fds(&conn, LIT("FDSTORE=1"), &fd, 1), 0);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configured_is_not_under_a_manager),
        cmocka_unit_test(test_addresses_parse_as_on_linux),
        cmocka_unit_test(test_socket_activation),
    };
    return cmocka_run_group_tests_name("vigil core, platform none", tests, setup, teardown);
}
