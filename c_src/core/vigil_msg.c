/* vigil_msg.c: assignments as the manager parses them.
 *
 * The manager splits a datagram on '\n' and '\r', unescapes backslashes ("\\" is one backslash,
 * a lone trailing one drops the whole datagram), and ignores a STATUS that is not valid UTF-8.
 * Strict values must therefore hold none of those bytes; text for people is rewritten instead.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vigil_notify.h"

static const char replacement_char[] = "\xEF\xBF\xBD"; /* U+FFFD */

void vigil_msg_init(struct vigil_msg *msg)
{
    msg->len = 0;
}

static bool is_key_char(char c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
}

int vigil_key_check(const char *key, size_t len)
{
    if (len == 0)
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!is_key_char(key[i], i == 0))
            return -EINVAL;
    return 0;
}

static bool is_status_key(const char *key, size_t len)
{
    return len == 6 && memcmp(key, "STATUS", 6) == 0;
}

int vigil_value_check(const char *key, size_t key_len, const char *value, size_t value_len)
{
    for (size_t i = 0; i < value_len; i++) {
        char c = value[i];
        if (c == '\n' || c == '\r' || c == '\0' || c == '\\')
            return -EINVAL;
    }
    if (is_status_key(key, key_len) && !vigil_utf8_valid(value, value_len))
        return -EINVAL;
    return 0;
}

static size_t room_left(const struct vigil_msg *msg)
{
    return VIGIL_NOTIFY_MAX - msg->len;
}

/* Bytes of "KEY=" plus the '\n' that separates it from a previous line. */
static size_t line_prefix_len(const struct vigil_msg *msg, size_t key_len)
{
    return (msg->len > 0 ? 1 : 0) + key_len + 1;
}

static void put_bytes(struct vigil_msg *msg, const void *bytes, size_t len)
{
    memcpy(msg->buf + msg->len, bytes, len);
    msg->len += len;
}

static void put_line_prefix(struct vigil_msg *msg, const char *key, size_t key_len)
{
    if (msg->len > 0)
        put_bytes(msg, "\n", 1);
    put_bytes(msg, key, key_len);
    put_bytes(msg, "=", 1);
}

int vigil_msg_append(struct vigil_msg *msg, const char *key, size_t key_len, const char *value,
                     size_t value_len)
{
    if (vigil_key_check(key, key_len) < 0 || vigil_value_check(key, key_len, value, value_len) < 0)
        return -EINVAL;
    if (line_prefix_len(msg, key_len) + value_len > room_left(msg))
        return -EMSGSIZE;
    put_line_prefix(msg, key, key_len);
    put_bytes(msg, value, value_len);
    return 0;
}

int vigil_msg_append_int(struct vigil_msg *msg, const char *key, size_t key_len, int64_t value)
{
    char digits[24];
    int n = snprintf(digits, sizeof(digits), "%" PRId64, value);

    return vigil_msg_append(msg, key, key_len, digits, (size_t)n);
}

int vigil_monotonic_usec(uint64_t *ret_usec)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        return -errno;
    *ret_usec = (uint64_t)ts.tv_sec * 1000000U + (uint64_t)ts.tv_nsec / 1000U;
    return 0;
}

int vigil_msg_append_monotonic(struct vigil_msg *msg)
{
    uint64_t usec = 0;
    int r = vigil_monotonic_usec(&usec);

    if (r < 0)
        return r;
    return vigil_msg_append_int(msg, "MONOTONIC_USEC", 14, (int64_t)usec);
}

/* Length of the leading run that is copied as it is: printable ASCII but the backslash. */
static size_t plain_run_len(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len && s[i] >= 0x20 && s[i] < 0x7F && s[i] != '\\')
        i++;
    return i;
}

/* Rewrite the one character at s for people to read; returns the input bytes it used. */
static size_t rewrite_char(const unsigned char *s, size_t avail, const char **ret_out,
                           size_t *ret_out_len)
{
    if (s[0] == '\\') {
        *ret_out = "\\\\", *ret_out_len = 2;
        return 1;
    }
    if (s[0] < 0x20 || s[0] == 0x7F) {
        *ret_out = " ", *ret_out_len = 1;
        return 1;
    }
    size_t n = vigil_utf8_char_len(s, avail);
    if (n == 0) {
        *ret_out = replacement_char, *ret_out_len = sizeof(replacement_char) - 1;
        return 1;
    }
    *ret_out = (const char *)s, *ret_out_len = n;
    return n;
}

int vigil_msg_append_text(struct vigil_msg *msg, const char *key, size_t key_len, const char *text,
                          size_t text_len)
{
    const unsigned char *s = (const unsigned char *)text;

    if (vigil_key_check(key, key_len) < 0)
        return -EINVAL;
    if (line_prefix_len(msg, key_len) > room_left(msg))
        return -EMSGSIZE;
    put_line_prefix(msg, key, key_len);

    for (size_t i = 0; i < text_len;) {
        size_t run = plain_run_len(s + i, text_len - i);
        if (run > room_left(msg)) {
            put_bytes(msg, s + i, room_left(msg));
            break;
        }
        put_bytes(msg, s + i, run);
        i += run;
        if (i == text_len)
            break;

        const char *out;
        size_t out_len;
        size_t used = rewrite_char(s + i, text_len - i, &out, &out_len);
        if (out_len > room_left(msg))
            break;
        put_bytes(msg, out, out_len);
        i += used;
    }
    return 0;
}
