/* fuzz_listen.c: libFuzzer target for the socket activation variables and the fd store's names.
 *
 * The input is LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PIDFDID separated by 0xFF bytes
 * (a missing field is an unset variable). Properties: a count n > 0 comes with exactly n names,
 * each taken without error and unescaped by vigil_listen_name_copy() to exactly the length
 * announced, the same names the independent splitter below finds; nothing reads outside the
 * input (ASan); a name vigil_fdname_check() accepts holds no byte the fd store would refuse. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil_listen.h"

#define FIELDS 4
#define SEPARATOR 0xFF

/* Split on SEPARATOR into at most FIELDS texts; the ones not present stay unset. */
static void split_fields(const uint8_t *data, size_t size, struct vigil_text *fields)
{
    size_t start = 0;
    int n = 0;

    for (size_t i = 0; i <= size && n < FIELDS; i++) {
        if (i == size || data[i] == SEPARATOR) {
            fields[n++] = (struct vigil_text){(const char *)data + start, i - start};
            start = i + 1;
        }
    }
}

/* The k-th name of text by a second reading of the rule: a backslash takes the next byte, an
 * unescaped ':' ends a name. Returns the unescaped length written to out, or -1 past the end. */
static long reference_name(struct vigil_text text, long k, char *out)
{
    long index = 0;
    size_t len = 0;

    for (size_t i = 0; i < text.len; i++) {
        if (text.data[i] == ':' && index++ == k)
            return (long)len;
        if (text.data[i] == ':')
            continue;
        if (text.data[i] == '\\')
            i++;
        if (index == k && i < text.len)
            out[len++] = text.data[i];
    }
    return index == k ? (long)len : -1;
}

static void check_names(const struct vigil_listen_env *env, int n)
{
    struct vigil_listen_names names;
    struct vigil_text raw;
    size_t len = 0;
    char *mine = malloc(env->fdnames.len + 8);
    char *theirs = malloc(env->fdnames.len + 8);

    vigil_listen_names_init(&names, env);
    for (int k = 0; k < n; k++) {
        if (vigil_listen_names_next(&names, &raw, &len) != 1)
            abort();
        if (len > raw.len)
            abort();
        vigil_listen_name_copy(raw, mine);
        if (env->fdnames.data) {
            long want = reference_name(env->fdnames, k, theirs);
            if (want != (long)len || memcmp(mine, theirs, len) != 0)
                abort();
        }
    }
    if (env->fdnames.data && vigil_listen_names_next(&names, &raw, &len) != 0)
        abort();
    free(mine);
    free(theirs);
}

static void check_fdname(const uint8_t *data, size_t size)
{
    if (vigil_fdname_check((const char *)data, size) != 0)
        return;
    if (size == 0 || size > VIGIL_FDNAME_MAX)
        abort();
    for (size_t i = 0; i < size; i++)
        if (data[i] < 0x20 || data[i] >= 0x7F || data[i] == ':' || data[i] == '\\')
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vigil_text fields[FIELDS] = {{NULL, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    struct vigil_listen_env env;
    struct vigil_listen_self self = {.pid = 42, .has_pidfd_id = size % 2 == 0, .pidfd_id = 7};

    split_fields(data, size, fields);
    env = (struct vigil_listen_env){
        .pid = fields[0], .fds = fields[1], .fdnames = fields[2], .pidfdid = fields[3]};
    int n = vigil_listen_parse(&env, &self);
    if (n < 0 && n != -EINVAL)
        abort();
    /* Names are walked for counts a test can afford; larger ones were counted the same way. */
    if (n > 0 && n <= 4096)
        check_names(&env, n);
    check_fdname(data, size);
    return 0;
}
