/* vigil_utf8.c: UTF-8 as systemd accepts it (its utf8_is_valid()), shared by the notification
 * core (the manager ignores a STATUS that fails it) and the unit generator (systemd ignores a
 * unit file line that fails it). */
#include "vigil_utf8.h"

/* As systemd's unichar_is_valid(): no surrogates, no noncharacters, nothing past U+10FFFF. */
static bool codepoint_is_valid(uint32_t cp)
{
    return cp < 0x110000 && (cp & 0xFFFFF800) != 0xD800 && !(cp >= 0xFDD0 && cp <= 0xFDEF) &&
           (cp & 0xFFFE) != 0xFFFE;
}

static size_t utf8_encoded_len(uint32_t cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

size_t vigil_utf8_char_len(const unsigned char *s, size_t avail)
{
    size_t len;
    uint32_t cp;

    if (avail == 0)
        return 0;
    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xE0) == 0xC0)
        len = 2, cp = s[0] & 0x1FU;
    else if ((s[0] & 0xF0) == 0xE0)
        len = 3, cp = s[0] & 0x0FU;
    else if ((s[0] & 0xF8) == 0xF0)
        len = 4, cp = s[0] & 0x07U;
    else
        return 0;
    if (avail < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3FU);
    }
    return utf8_encoded_len(cp) == len && codepoint_is_valid(cp) ? len : 0;
}

bool vigil_utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;

    for (size_t i = 0; i < len;) {
        size_t n = vigil_utf8_char_len(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}
