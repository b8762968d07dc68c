#include "unquote.h"

#include <errno.h>
#include <string.h>

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* \xHH as systemd's cunescape() reads it; a NUL byte is an error there too. */
static int unescape_hex(const char **p, struct buf *ret)
{
    int hi = hex_digit((*p)[1]), lo = hi < 0 ? -1 : hex_digit((*p)[2]);
    if (lo < 0 || (hi == 0 && lo == 0))
        return -EINVAL;
    buf_addc(ret, (char)(hi * 16 + lo));
    *p += 3;
    return 0;
}

/* Resolves the C escape after a backslash at `*p` (pointing past the backslash): the single
 * character escapes of systemd's cunescape() and \xHH; others are an error here. */
static int unescape_one(const char **p, struct buf *ret)
{
    static const char from[] = "abfnrtv\\\"'s";
    static const char to[] = "\a\b\f\n\r\t\v\\\"' ";
    if (**p == 'x')
        return unescape_hex(p, ret);
    const char *hit = **p ? strchr(from, **p) : NULL;
    if (hit == NULL)
        return -EINVAL;
    buf_addc(ret, to[hit - from]);
    (*p)++;
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

int unquote_word(const char **p, struct buf *ret_word)
{
    const char *s = *p;
    while (is_blank(*s))
        s++;
    if (*s == '\0') {
        *p = s;
        return 0;
    }
    char quote = 0;
    for (; *s && (quote || !is_blank(*s));) {
        char c = *s++;
        if (quote && c == quote)
            quote = 0;
        else if (!quote && (c == '"' || c == '\''))
            quote = c;
        else if (c == '\\' && quote != '\'') {
            if (unescape_one(&s, ret_word) < 0)
                return -EINVAL;
        } else
            buf_addc(ret_word, c);
    }
    if (quote)
        return -EINVAL;
    *p = s;
    return 1;
}

void spec_unescape(struct buf *b, const char *s, bool dollar)
{
    for (const char *p = s; *p; p++) {
        buf_addc(b, *p);
        if ((*p == '%' || (dollar && *p == '$')) && p[1] == *p)
            p++;
    }
}
