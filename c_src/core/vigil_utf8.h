/* vigil_utf8.h: UTF-8 by systemd's rules. */
#ifndef VIGIL_UTF8_H
#define VIGIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * Length of the valid UTF-8 character at s by systemd's rules (no overlong forms, surrogates,
 * noncharacters such as U+FFFE, U+FFFF and U+FDD0..U+FDEF, or code points past U+10FFFF).
 * @return 1..4, or 0 when s does not start with a valid character
 */
size_t vigil_utf8_char_len(const unsigned char *s, size_t avail);

/** Whether all len bytes of text are valid UTF-8 by systemd's rules. */
bool vigil_utf8_valid(const char *text, size_t len);

#endif
