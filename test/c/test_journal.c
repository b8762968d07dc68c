/* test_journal.c: journal entries and their transport, against a real AF_UNIX datagram receiver
 * that reads them as journald does (journal_parse.h), files passed with SCM_RIGHTS included. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal_parse.h"
#include "receiver.h"
#include "vigil_journal.h"

#define LIT(s) (s), (sizeof(s) - 1)
#define JOURNALD_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* ---- a receiver that reads entries as journald does ---- */

struct jmsg {
    char *data; /* the datagram, or the content of the file passed with it */
    size_t len;
    bool via_file;
    size_t payload_len; /* bytes of the datagram itself */
    int seals;          /* F_GET_SEALS of the passed file, -1 when none */
    bool regular;       /* the passed file is a regular file */
    char path[256];     /* where the passed file is, as journald reads it from /proc */
};

static void jmsg_free(struct jmsg *msg)
{
    free(msg->data);
    memset(msg, 0, sizeof(*msg));
}

static int passed_fd(struct msghdr *header)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(header); c; c = CMSG_NXTHDR(header, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof(fd));
            return fd;
        }
    }
    return -1;
}

/* journald maps a sealed memfd and reads an unsealed file: both come to its content. */
static void read_file(struct jmsg *msg, int fd)
{
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    msg->regular = S_ISREG(st.st_mode);
    msg->seals = fcntl(fd, F_GET_SEALS);
    char link[64];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, msg->path, sizeof(msg->path) - 1);
    msg->path[n > 0 ? n : 0] = '\0';
    free(msg->data);
    msg->len = (size_t)st.st_size;
    msg->data = malloc(msg->len + 1);
    assert_non_null(msg->data);
    assert_int_equal(pread(fd, msg->data, msg->len, 0), (ssize_t)msg->len);
    msg->via_file = true;
    close(fd);
}

/* The datagram's size from SIOCINQ, as journald sizes its buffer. */
static int jrecv(int fd, struct jmsg *msg, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int size = 0;
    union {
        struct cmsghdr align;
        char bytes[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 4)];
    } control;

    memset(msg, 0, sizeof(*msg));
    msg->seals = -1;
    if (poll(&pfd, 1, timeout_ms) <= 0)
        return -EAGAIN;
    assert_int_equal(ioctl(fd, FIONREAD, &size), 0);
    msg->data = malloc((size_t)size + 1);
    assert_non_null(msg->data);
    struct iovec iov = {.iov_base = msg->data, .iov_len = (size_t)size + 1};
    struct msghdr header = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = control.bytes,
                            .msg_controllen = sizeof(control.bytes)};
    ssize_t n = recvmsg(fd, &header, MSG_CMSG_CLOEXEC);
    assert_true(n >= 0);
    msg->len = msg->payload_len = (size_t)n;
    int file = passed_fd(&header);
    if (file >= 0)
        read_file(msg, file);
    return 0;
}

/* ---- fixtures ---- */

struct fixture {
    struct receiver rcv;
    struct vigil_journal journal;
    struct vigil_jentry entry;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    assert_int_equal(receiver_open(&f->rcv, false), 0);
    assert_int_equal(vigil_journal_open(&f->journal, f->rcv.address, strlen(f->rcv.address),
                                        VIGIL_JOURNAL_SNDBUF),
                     1);
    vigil_jentry_init(&f->entry);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vigil_jentry_free(&f->entry);
    vigil_journal_close(&f->journal);
    receiver_close(&f->rcv);
    free(f);
    return 0;
}

static void add(struct vigil_jentry *entry, const char *key, const char *value, size_t len)
{
    assert_int_equal(vigil_jentry_add(entry, key, strlen(key), value, len), 0);
}

static void assert_field(const struct jp_entry *parsed, const char *key, const char *value,
                         size_t len)
{
    const struct jp_field *field = jp_find(parsed, key);
    if (!field)
        fail_msg("no field %s", key);
    assert_int_equal(field->value_len, len);
    assert_memory_equal(field->value, value, len);
}

/* ---- keys ---- */

static void test_keys_as_journal_field_valid(void **state)
{
    static const char *const good[] = {"MESSAGE", "A", "X_", "CODE_LINE", "A9", "REQUEST_ID"};
    static const char *const bad[] = {"",    "_PID", "9A",  "message", "A-B", "A B",
                                      "A=B", "Ä",    "A\n", "a",       "_",   "0"};
    char longest[VIGIL_JOURNAL_KEY_MAX + 1];
    (void)state;

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(vigil_journal_key_check(good[i], strlen(good[i])), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (vigil_journal_key_check(bad[i], strlen(bad[i])) != -EINVAL)
            fail_msg("\"%s\" accepted", bad[i]);
    memset(longest, 'K', sizeof(longest));
    assert_int_equal(vigil_journal_key_check(longest, VIGIL_JOURNAL_KEY_MAX), 0);
    assert_int_equal(vigil_journal_key_check(longest, VIGIL_JOURNAL_KEY_MAX + 1), -EINVAL);
}

/* ---- entries ---- */

static void test_entry_exact_bytes(void **state)
{
    static const char want[] = "MESSAGE=hello\nPRIORITY=6\n"
                               "TRACE\n\x06\0\0\0\0\0\0\0line\n2\n"
                               "EMPTY=\n"
                               "NUL=a\0b\n";
    struct vigil_jentry entry;
    (void)state;

    vigil_jentry_init(&entry);
    add(&entry, "MESSAGE", LIT("hello"));
    add(&entry, "PRIORITY", LIT("6"));
    add(&entry, "TRACE", LIT("line\n2"));
    add(&entry, "EMPTY", LIT(""));
    add(&entry, "NUL", LIT("a\0b"));
    assert_int_equal(entry.len, sizeof(want) - 1);
    assert_memory_equal(entry.buf, want, sizeof(want) - 1);
    assert_int_equal(entry.fields, 5);
    vigil_jentry_free(&entry);
    assert_null(entry.buf);
    assert_int_equal(entry.len, 0);
}

static void test_entry_refuses_and_stays_unchanged(void **state)
{
    struct vigil_jentry entry;
    (void)state;

    vigil_jentry_init(&entry);
    add(&entry, "MESSAGE", LIT("kept"));
    size_t len = entry.len;
    assert_int_equal(vigil_jentry_add(&entry, LIT("_PID"), LIT("1")), -EINVAL);
    assert_int_equal(vigil_jentry_add(&entry, LIT("request_id"), LIT("1")), -EINVAL);
    /* Checked before a byte of the value is read. */
    assert_int_equal(vigil_jentry_add(&entry, LIT("HUGE"), "x", entry.max + (size_t)1), -EMSGSIZE);
    assert_int_equal(entry.len, len);
    assert_int_equal(entry.fields, 1);
    vigil_jentry_free(&entry);
}

static void test_entry_field_count_limit(void **state)
{
    struct vigil_jentry entry;
    (void)state;

    vigil_jentry_init(&entry);
    for (int i = 0; i < VIGIL_JOURNAL_FIELDS_MAX; i++)
        add(&entry, "F", LIT("x"));
    assert_int_equal(vigil_jentry_add(&entry, LIT("F"), LIT("x")), -E2BIG);
    assert_int_equal(entry.len, (size_t)VIGIL_JOURNAL_FIELDS_MAX * 4);
    vigil_jentry_free(&entry);
}

static void test_entry_size_limit(void **state)
{
    struct vigil_jentry entry;
    size_t max = (size_t)1024 * 1024;
    size_t big = max - 16;
    char *value = calloc(1, big);
    (void)state;

    assert_non_null(value);
    vigil_jentry_init(&entry);
    assert_int_equal(entry.max, VIGIL_JOURNAL_ENTRY_MAX);
    entry.max = max;
    add(&entry, "BIG", value, big - 16); /* BIG= + value + \n */
    assert_int_equal(vigil_jentry_add(&entry, LIT("MORE"), value, 32), -EMSGSIZE);
    add(&entry, "M", LIT("1"));
    assert_true(entry.len <= max);
    vigil_jentry_free(&entry);
    free(value);
}

/* ---- opening ---- */

static void test_open_refuses_other_addresses(void **state)
{
    struct vigil_journal journal;
    char longest[200];
    (void)state;

    assert_int_equal(vigil_journal_open(&journal, LIT("run/journal"), 0), -EINVAL);
    assert_int_equal(journal.fd, -1);
    assert_int_equal(vigil_journal_open(&journal, LIT("vsock:2:9"), 0), -EINVAL);
    assert_int_equal(vigil_journal_open(&journal, LIT(""), 0), -EINVAL);
    memset(longest, 'a', sizeof(longest));
    longest[0] = '/';
    assert_int_equal(vigil_journal_open(&journal, longest, sizeof(longest), 0), -E2BIG);
    assert_int_equal(journal.fd, -1);
    vigil_journal_close(&journal);
}

/* As root SO_SNDBUFFORCE passes the cap: the kernel reports twice what was asked. */
static void test_open_raises_send_buffer(void **state)
{
    struct fixture *f = *state;
    int value = 0;
    socklen_t len = sizeof(value);

    assert_int_equal(getsockopt(f->journal.fd, SOL_SOCKET, SO_SNDBUF, &value, &len), 0);
    assert_true(value >= 212992);
    if (geteuid() == 0)
        assert_int_equal(value, 2 * VIGIL_JOURNAL_SNDBUF);
    assert_true(fcntl(f->journal.fd, F_GETFD) & FD_CLOEXEC);
}

/* ---- sending ---- */

static void send_and_parse(struct fixture *f, struct jmsg *msg, struct jp_entry *parsed, int want)
{
    assert_int_equal(vigil_journal_send(&f->journal, f->entry.buf, f->entry.len), want);
    assert_int_equal(jrecv(f->rcv.fd, msg, 1000), 0);
    assert_int_equal(msg->len, f->entry.len);
    assert_memory_equal(msg->data, f->entry.buf, f->entry.len);
    assert_int_equal(jp_parse(msg->data, msg->len, parsed), 0);
    assert_int_equal(parsed->invalid_keys, 0);
    assert_int_equal(parsed->separators, 0);
}

static void test_send_datagram(void **state)
{
    struct fixture *f = *state;
    struct jmsg msg;
    static struct jp_entry parsed;

    add(&f->entry, "MESSAGE", LIT("two\nlines"));
    add(&f->entry, "PRIORITY", LIT("3"));
    add(&f->entry, "SYSLOG_IDENTIFIER", LIT("vigil"));
    send_and_parse(f, &msg, &parsed, 1);
    assert_false(msg.via_file);
    assert_int_equal(parsed.count, 3);
    assert_field(&parsed, "MESSAGE", LIT("two\nlines"));
    assert_true(jp_find(&parsed, "MESSAGE")->binary);
    assert_field(&parsed, "PRIORITY", LIT("3"));
    assert_field(&parsed, "SYSLOG_IDENTIFIER", LIT("vigil"));
    jmsg_free(&msg);
}

static void test_send_abstract(void **state)
{
    struct receiver rcv;
    struct vigil_journal journal;
    struct jmsg msg;
    (void)state;

    assert_int_equal(receiver_open(&rcv, true), 0);
    assert_int_equal(vigil_journal_open(&journal, rcv.address, strlen(rcv.address), 0), 1);
    assert_int_equal(vigil_journal_send(&journal, LIT("MESSAGE=x\n")), 1);
    assert_int_equal(jrecv(rcv.fd, &msg, 1000), 0);
    assert_int_equal(msg.len, 10);
    assert_memory_equal(msg.data, "MESSAGE=x\n", 10);
    jmsg_free(&msg);
    vigil_journal_close(&journal);
    receiver_close(&rcv);
}

/* 1 MiB of lines with a send buffer of 64 KiB: EMSGSIZE, so a memfd with an empty payload,
 * sealed exactly as journald 252 compares (no F_SEAL_EXEC, whatever the kernel). */
static void test_send_large_entry_through_sealed_memfd(void **state)
{
    struct fixture *f = *state;
    size_t big = 1024 * 1024;
    char *value = malloc(big);
    int small = 65536;
    struct jmsg msg;
    static struct jp_entry parsed;

    assert_non_null(value);
    for (size_t i = 0; i < big; i++)
        value[i] = i % 100 == 99 ? '\n' : (char)('a' + i % 26);
    add(&f->entry, "MESSAGE", value, big);
    add(&f->entry, "PRIORITY", LIT("6"));
    assert_int_equal(setsockopt(f->journal.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
    send_and_parse(f, &msg, &parsed, 2);
    assert_true(msg.via_file);
    assert_int_equal(msg.payload_len, 0);
    assert_true(msg.regular);
    assert_int_equal(msg.seals, JOURNALD_SEALS);
    assert_field(&parsed, "MESSAGE", value, big);
    assert_field(&parsed, "PRIORITY", LIT("6"));
    jmsg_free(&msg);
    free(value);
}

/* Without raising the buffer a datagram holds about 208 KiB: more goes through the file. */
static void test_send_over_default_buffer_uses_file(void **state)
{
    struct receiver rcv;
    struct vigil_journal journal;
    struct vigil_jentry entry;
    size_t big = 300 * 1024;
    char *value = calloc(1, big);
    struct jmsg msg;
    (void)state;

    assert_non_null(value);
    assert_int_equal(receiver_open(&rcv, false), 0);
    assert_int_equal(vigil_journal_open(&journal, rcv.address, strlen(rcv.address), 0), 1);
    vigil_jentry_init(&entry);
    add(&entry, "MESSAGE", value, big);
    assert_int_equal(vigil_journal_send(&journal, entry.buf, entry.len), 2);
    assert_int_equal(jrecv(rcv.fd, &msg, 1000), 0);
    assert_int_equal(msg.seals, JOURNALD_SEALS);
    assert_int_equal(msg.len, entry.len);
    assert_memory_equal(msg.data, entry.buf, entry.len);
    jmsg_free(&msg);
    vigil_jentry_free(&entry);
    vigil_journal_close(&journal);
    receiver_close(&rcv);
    free(value);
}

/* ---- the fallbacks, with memfd_create() made to fail by a seccomp filter in a child ---- */

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG1_LOW offsetof(struct seccomp_data, args[1])
#else
#define ARG1_LOW (offsetof(struct seccomp_data, args[1]) + 4)
#endif

/* memfd_create() fails with err when its flags hold any bit of mask. */
static void fail_memfd_create(unsigned mask, int err)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_memfd_create, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG1_LOW),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, mask, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) < 0)
        _exit(3);
}

/* In a child whose memfd_create() fails so, send 300 KiB through the file path; the parent
 * reads what arrived. */
static void send_large_with_failing_memfd(struct fixture *f, unsigned mask, int err,
                                          struct jmsg *ret_msg)
{
    size_t big = 300 * 1024;
    char *value = calloc(1, big);
    int status = 0;

    assert_non_null(value);
    add(&f->entry, "MESSAGE", value, big);
    free(value);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int small = 65536;
        fail_memfd_create(mask, err);
        (void)setsockopt(f->journal.fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
        _exit(vigil_journal_send(&f->journal, f->entry.buf, f->entry.len) == 2 ? 0 : 1);
    }
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(jrecv(f->rcv.fd, ret_msg, 1000), 0);
    assert_true(ret_msg->via_file);
    assert_int_equal(ret_msg->payload_len, 0);
    assert_int_equal(ret_msg->len, f->entry.len);
    assert_memory_equal(ret_msg->data, f->entry.buf, f->entry.len);
}

/* No memfds (ENOSYS): an unlinked, unsealed regular file directly in /dev/shm. */
static void test_file_fallback_without_memfd(void **state)
{
    struct jmsg msg;

    send_large_with_failing_memfd(*state, ~0U, ENOSYS, &msg);
    assert_true(msg.regular);
    assert_int_equal(msg.seals, F_SEAL_SEAL); /* not a memfd: cannot be sealed */
    assert_int_equal(strncmp(msg.path, "/dev/shm/", 9), 0);
    assert_null(strchr(msg.path + 9, '/'));
    assert_non_null(strstr(msg.path, "(deleted)"));
    jmsg_free(&msg);
}

/* A kernel before 6.3 does not know MFD_EXEC (EINVAL): a memfd without it, sealed exactly. */
static void test_memfd_without_mfd_exec_on_old_kernels(void **state)
{
    struct jmsg msg;

    send_large_with_failing_memfd(*state, 0x10U, EINVAL, &msg);
    assert_int_equal(msg.seals, JOURNALD_SEALS);
    assert_int_equal(strncmp(msg.path, "/memfd:vigil-journal", 20), 0);
    jmsg_free(&msg);
}

/* vm.memfd_noexec=2 refuses MFD_EXEC (EACCES), and a memfd would carry F_SEAL_EXEC, which
 * journald 252 refuses: /dev/shm instead. */
static void test_file_fallback_when_mfd_exec_forbidden(void **state)
{
    struct jmsg msg;

    send_large_with_failing_memfd(*state, 0x10U, EACCES, &msg);
    assert_int_equal(strncmp(msg.path, "/dev/shm/", 9), 0);
    assert_int_equal(msg.seals, F_SEAL_SEAL);
    jmsg_free(&msg);
}

static void test_send_too_large(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(vigil_journal_send(&f->journal, "x", VIGIL_JOURNAL_ENTRY_MAX + (size_t)1),
                     -EMSGSIZE);
}

/* A socket file with nobody bound to it: what a stopped journald leaves behind. */
static void leave_stale_socket(const char *path)
{
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memcpy(un.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(fd, (const struct sockaddr *)&un, sizeof(un)), 0);
    close(fd);
}

/* journald gone: no socket file, or one nobody listens on. */
static void test_send_without_journald(void **state)
{
    struct fixture *f = *state;

    receiver_close_socket(&f->rcv);
    assert_int_equal(vigil_journal_send(&f->journal, LIT("MESSAGE=x\n")), -ENOENT);
    leave_stale_socket(f->rcv.address);
    assert_int_equal(vigil_journal_send(&f->journal, LIT("MESSAGE=x\n")), -ECONNREFUSED);
    /* journald came back: the same journal reaches it, nothing to reopen. */
    assert_int_equal(receiver_reopen(&f->rcv), 0);
    assert_int_equal(vigil_journal_send(&f->journal, LIT("MESSAGE=y\n")), 1);
}

static void test_send_full_queue_is_eagain(void **state)
{
    struct fixture *f = *state;
    int r = 1;

    for (int i = 0; i < 100000 && r == 1; i++)
        r = vigil_journal_send(&f->journal, LIT("MESSAGE=fill\n"));
    assert_int_equal(r, -EAGAIN);
    assert_true(receiver_drain(&f->rcv) > 0);
    assert_int_equal(vigil_journal_send(&f->journal, LIT("MESSAGE=again\n")), 1);
}

static void test_closed_journal_sends_nothing(void **state)
{
    struct vigil_journal journal = {.fd = -1};
    (void)state;
    assert_int_equal(vigil_journal_send(&journal, LIT("MESSAGE=x\n")), 0);
    vigil_journal_close(&journal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_as_journal_field_valid),
        cmocka_unit_test(test_entry_exact_bytes),
        cmocka_unit_test(test_entry_refuses_and_stays_unchanged),
        cmocka_unit_test(test_entry_field_count_limit),
        cmocka_unit_test(test_entry_size_limit),
        cmocka_unit_test(test_open_refuses_other_addresses),
        cmocka_unit_test_setup_teardown(test_open_raises_send_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_datagram, setup, teardown),
        cmocka_unit_test(test_send_abstract),
        cmocka_unit_test_setup_teardown(test_send_large_entry_through_sealed_memfd, setup,
                                        teardown),
        cmocka_unit_test(test_send_over_default_buffer_uses_file),
        cmocka_unit_test_setup_teardown(test_file_fallback_without_memfd, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memfd_without_mfd_exec_on_old_kernels, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_file_fallback_when_mfd_exec_forbidden, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_send_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_without_journald, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_full_queue_is_eagain, setup, teardown),
        cmocka_unit_test(test_closed_journal_sends_nothing),
    };
    return cmocka_run_group_tests_name("vigil journal", tests, NULL, NULL);
}
