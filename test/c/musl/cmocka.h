/* cmocka.h for the musl build: the part of cmocka's API that test_core.c uses.
 *
 * Debian's libcmocka is built against glibc and cannot be linked with musl, so test-musl puts
 * this directory first on the include path. Same names, same meaning: a failed assertion ends
 * the test (longjmp), setup and teardown run around it, and the run fails if any test did.
 */
#ifndef VIGIL_MUSL_CMOCKA_H
#define VIGIL_MUSL_CMOCKA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct CMUnitTest {
    const char *name;
    void (*test_func)(void **state);
    int (*setup_func)(void **state);
    int (*teardown_func)(void **state);
};

#define cmocka_unit_test(f)                                                                        \
    {                                                                                              \
#f, f, NULL, NULL                                                                          \
    }
#define cmocka_unit_test_setup_teardown(f, setup, teardown)                                        \
    {                                                                                              \
#f, f, setup, teardown                                                                     \
    }

static jmp_buf cmocka_failed;

/** Report a failed check at file:line and end the running test. */
static inline void cmocka_fail(const char *file, int line, const char *format, ...)
{
    va_list args;

    fprintf(stderr, "%s:%d: ", file, line);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    longjmp(cmocka_failed, 1);
}

/* As cmocka, integers are compared as its largest unsigned type. */
#define assert_int_equal(a, b)                                                                     \
    do {                                                                                           \
        uintmax_t a_ = (uintmax_t)(a), b_ = (uintmax_t)(b);                                        \
        if (a_ != b_)                                                                              \
            cmocka_fail(__FILE__, __LINE__, "%jd != %jd", (intmax_t)a_, (intmax_t)b_);             \
    } while (0)
#define assert_true(c)                                                                             \
    do {                                                                                           \
        if (!(c))                                                                                  \
            cmocka_fail(__FILE__, __LINE__, "%s is false", #c);                                    \
    } while (0)
#define assert_string_equal(a, b)                                                                  \
    do {                                                                                           \
        if (strcmp((a), (b)) != 0)                                                                 \
            cmocka_fail(__FILE__, __LINE__, "\"%s\" != \"%s\"", (a), (b));                         \
    } while (0)
#define assert_memory_equal(a, b, n)                                                               \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            cmocka_fail(__FILE__, __LINE__, "%s and %s differ", #a, #b);                           \
    } while (0)
#define fail_msg(...) cmocka_fail(__FILE__, __LINE__, __VA_ARGS__)
#define print_message(...) printf(__VA_ARGS__)

/** Run one test between its setup and teardown. @return 0 passed, 1 failed */
static inline int cmocka_run_one(const struct CMUnitTest *test)
{
    void *state = NULL;
    /* volatile: set after setjmp() returned the second time. */
    volatile int failed = 0;

    printf("[ RUN      ] %s\n", test->name);
    if (test->setup_func && test->setup_func(&state) != 0) {
        printf("[  ERROR   ] %s: setup failed\n", test->name);
        return 1;
    }
    if (setjmp(cmocka_failed) == 0)
        test->test_func(&state);
    else
        failed = 1;
    if (test->teardown_func && test->teardown_func(&state) != 0)
        failed = 1;
    printf("[ %s ] %s\n", failed ? " FAILED " : "      OK", test->name);
    return failed;
}

/** Run every test. @return how many failed */
static inline int cmocka_run_all(const char *name, const struct CMUnitTest *tests, size_t n)
{
    int failed = 0;

    printf("[==========] %s: running %zu test(s).\n", name, n);
    for (size_t i = 0; i < n; i++)
        failed += cmocka_run_one(&tests[i]);
    printf("[  %s  ] %zu test(s), %d failed.\n", failed ? "FAILED" : "PASSED", n, failed);
    return failed;
}

#define cmocka_run_group_tests_name(name, tests, group_setup, group_teardown)                      \
    cmocka_run_all((name), (tests), sizeof(tests) / sizeof((tests)[0]))

#endif
