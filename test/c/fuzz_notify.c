/* fuzz_notify.c: libFuzzer target for the address parser, the value check, UTF-8 validation
 * and text rewriting.
 *
 * Properties: an accepted address fits its sockaddr; an accepted value holds nothing the manager
 * would read differently; vigil_utf8.c agrees with the independent checker below on every
 * input; rewritten text always fits, never holds a line break, NUL or unpaired backslash, and is
 * valid UTF-8 by systemd's rules (by the checker below), so the manager shows it. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil_notify.h"

/* ---- UTF-8 by systemd's rules, written apart from c_src/core/vigil_utf8.c ----
 *
 * Well-formed sequences as the Unicode Standard tabulates them (chapter 3, table 3-7): the
 * allowed range of each byte depends only on the first byte, which rules out overlong forms,
 * surrogates and code points past U+10FFFF. systemd also refuses the noncharacters U+FDD0..
 * U+FDEF and every code point ending in FFFE or FFFF. */

struct utf8_row {
    unsigned char first_lo, first_hi; /* the lead byte */
    unsigned char second_lo, second_hi;
    int len;
};

static const struct utf8_row utf8_table[] = {
    {0x00, 0x7F, 0, 0, 1},       {0xC2, 0xDF, 0x80, 0xBF, 2}, {0xE0, 0xE0, 0xA0, 0xBF, 3},
    {0xE1, 0xEC, 0x80, 0xBF, 3}, {0xED, 0xED, 0x80, 0x9F, 3}, {0xEE, 0xEF, 0x80, 0xBF, 3},
    {0xF0, 0xF0, 0x90, 0xBF, 4}, {0xF1, 0xF3, 0x80, 0xBF, 4}, {0xF4, 0xF4, 0x80, 0x8F, 4},
};

static const struct utf8_row *utf8_row_of(unsigned char lead)
{
    for (size_t i = 0; i < sizeof(utf8_table) / sizeof(utf8_table[0]); i++)
        if (lead >= utf8_table[i].first_lo && lead <= utf8_table[i].first_hi)
            return &utf8_table[i];
    return NULL;
}

static bool is_noncharacter(uint32_t cp)
{
    uint32_t low16 = cp % 0x10000;
    return (cp >= 0xFDD0 && cp <= 0xFDEF) || low16 == 0xFFFE || low16 == 0xFFFF;
}

/* Bytes of the character at s, or 0 if it is not one systemd accepts. */
static size_t reference_char_len(const unsigned char *s, size_t avail)
{
    const struct utf8_row *row = avail > 0 ? utf8_row_of(s[0]) : NULL;
    uint32_t cp;

    if (!row || avail < (size_t)row->len)
        return 0;
    if (row->len == 1)
        return 1;
    if (s[1] < row->second_lo || s[1] > row->second_hi)
        return 0;
    for (int i = 2; i < row->len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    /* The lead byte keeps 7 - len bits, each continuation byte 6. */
    cp = s[0] % (1U << (7 - row->len));
    for (int i = 1; i < row->len; i++)
        cp = cp * 64 + (s[i] - 0x80U);
    return is_noncharacter(cp) ? 0 : (size_t)row->len;
}

static bool reference_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = reference_char_len(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static void check_utf8(const uint8_t *data, size_t size)
{
    if (vigil_utf8_char_len(data, size) != reference_char_len(data, size))
        abort();
    if (vigil_utf8_valid((const char *)data, size) != reference_utf8_valid(data, size))
        abort();
}

/* ---- the core ---- */

static void check_address(const char *data, size_t size)
{
    struct vigil_addr addr;

    if (vigil_addr_parse(data, size, &addr) != 0)
        return;
    if (memchr(data, '\0', size))
        abort();
    if (addr.kind == VIGIL_ADDR_UNIX &&
        (addr.un_len > sizeof(addr.un) ||
         addr.un_len != offsetof(struct sockaddr_un, sun_path) + size + (data[0] == '/')))
        abort();
}

static void check_value(const char *data, size_t size)
{
    if (vigil_value_check("STATUS", 6, data, size) != 0)
        return;
    for (size_t i = 0; i < size; i++)
        if (data[i] == '\n' || data[i] == '\r' || data[i] == '\0' || data[i] == '\\')
            abort();
}

static void check_rewritten_text(const char *data, size_t size)
{
    static struct vigil_msg msg;

    vigil_msg_init(&msg);
    if (vigil_msg_append_text(&msg, "STATUS", 6, data, size) != 0 || msg.len > VIGIL_NOTIFY_MAX)
        abort();
    const char *value = msg.buf + 7;
    size_t len = msg.len - 7;
    for (size_t i = 0; i < len; i++) {
        if (value[i] == '\n' || value[i] == '\r' || value[i] == '\0')
            abort();
        if (value[i] == '\\' && (i + 1 == len || value[++i] != '\\'))
            abort();
    }
    /* The manager drops a STATUS that is not valid UTF-8. */
    if (!reference_utf8_valid((const unsigned char *)value, len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_utf8(data, size);
    check_address((const char *)data, size);
    check_value((const char *)data, size);
    check_rewritten_text((const char *)data, size);
    return 0;
}
