#include "escape.h"

#include "vigil_utf8.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/* Why control byte `c` is refused under `allow` (TEXT_* flags), or NULL. */
static const char *control_problem(unsigned char c, unsigned allow)
{
    if (c == '\t' && (allow & TEXT_TAB))
        return NULL;
    if (c == '\n' && (allow & TEXT_NEWLINE))
        return NULL;
    if (allow & TEXT_CONTROL)
        return NULL;
    return c == '\n' || c == '\r' ? "contains a line break" : "contains a control character";
}

/* systemd ignores a unit file line that is not UTF-8 by its rules, noncharacters included.
 * Allowed control bytes are written escaped, so they never reach the line raw. */
const char *text_problem_allowing(const char *s, unsigned allow)
{
    const unsigned char *end = (const unsigned char *)s + strlen(s);

    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        const char *problem = is_control(*p) ? control_problem(*p, allow) : NULL;
        size_t n = is_control(*p) ? 1 : vigil_utf8_char_len(p, (size_t)(end - p));
        if (problem != NULL)
            return problem;
        if (n == 0)
            return "is not valid UTF-8";
        p += n;
    }
    return NULL;
}

const char *text_problem(const char *s)
{
    return text_problem_allowing(s, 0);
}

const char *path_problem(const char *s)
{
    const char *problem = text_problem(s);
    if (problem != NULL)
        return problem;
    if (s[0] != '/')
        return "is not an absolute path";
    if (strlen(s) >= PATH_MAX)
        return "is too long for a path";
    if (strstr(s, "//") != NULL || strstr(s, "/./") != NULL || strstr(s, "/../") != NULL)
        return "is not a normalized path (//, /./ or /../)";
    size_t n = strlen(s);
    if (n > 1 && s[n - 1] == '/')
        return "ends with a slash";
    if ((n >= 2 && strcmp(s + n - 2, "/.") == 0) || (n >= 3 && strcmp(s + n - 3, "/..") == 0))
        return "is not a normalized path (. or ..)";
    /* systemd refuses a path with a component longer than a file name may be. */
    for (const char *p = s; *p;) {
        size_t len = strcspn(++p, "/");
        if (len > NAME_MAX)
            return "has a component longer than 255 bytes";
        p += len;
    }
    return raw_value_problem(s);
}

const char *raw_value_problem(const char *s)
{
    const char *problem = text_problem(s);
    if (problem != NULL)
        return problem;
    size_t n = strlen(s);
    if (n > 0 && (s[0] == ' ' || s[n - 1] == ' '))
        return "starts or ends with a space, which systemd would trim";
    /* A trailing backslash continues the line in a unit file. */
    if (n > 0 && s[n - 1] == '\\')
        return "ends with a backslash, which would continue the line";
    return NULL;
}

int fail_value(struct buf *err, const char *key, const char *value, const char *problem)
{
    buf_printf(err, "%s: value \"", key);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            buf_printf(err, "\\x%02x", *p);
        else
            buf_addc(err, (char)*p);
    buf_printf(err, "\" %s", problem);
    return -EINVAL;
}

static bool in_set(char c, const char *set)
{
    return c != '\0' && strchr(set, c) != NULL;
}

bool env_name_valid(const char *s)
{
    if (!(in_set(s[0], "_") || (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
        return false;
    for (const char *p = s; *p; p++)
        if (!(*p == '_' || (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= 'a' && *p <= 'z')))
            return false;
    return true;
}

bool user_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 31 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || in_set(*p, "_-")))
            return false;
    return true;
}

bool unit_name_valid(const char *s)
{
    static const char *const suffixes[] = {".service", ".socket", ".target", ".mount",
                                           ".path",    ".timer",  ".slice",  ".device"};
    size_t n = strlen(s);
    if (n == 0 || n > 255 || s[0] == '.' || s[0] == '-')
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              in_set(*p, ":-_.@")))
            return false;
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(*suffixes); i++) {
        size_t k = strlen(suffixes[i]);
        if (n > k && strcmp(s + n - k, suffixes[i]) == 0)
            return true;
    }
    return false;
}

void spec_escape(struct buf *b, const char *s, bool dollar)
{
    for (const char *p = s; *p; p++) {
        if (*p == '%' || (dollar && *p == '$'))
            buf_addc(b, *p);
        buf_addc(b, *p);
    }
}

/* Characters that never need quotes: nothing systemd splits on, unquotes, or treats as a
 * command prefix or separator when it starts a word. */
static bool word_is_plain(const char *s)
{
    if (s[0] == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || in_set(*p, "/._,=:%$") ||
                  (p != s && in_set(*p, "-+@"));
        if (!ok)
            return false;
    }
    return true;
}

/* One character inside double quotes: " and \ escaped, control bytes as the C escapes that
 * systemd's unquoting (cunescape) resolves. */
static void quoted_char(struct buf *b, char c)
{
    static const char from[] = "\t\n\r";
    static const char to[] = "tnr";
    const char *hit = c != '\0' ? strchr(from, c) : NULL;
    if (c == '"' || c == '\\')
        buf_printf(b, "\\%c", c);
    else if (hit != NULL)
        buf_printf(b, "\\%c", to[hit - from]);
    else if (is_control((unsigned char)c))
        buf_printf(b, "\\x%02x", (unsigned)(unsigned char)c);
    else
        buf_addc(b, c);
}

void quote_word(struct buf *b, const char *s, bool force)
{
    if (!force && word_is_plain(s)) {
        buf_add(b, s);
        return;
    }
    buf_addc(b, '"');
    for (const char *p = s; *p; p++)
        quoted_char(b, *p);
    buf_addc(b, '"');
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* One character of a shell word at `*s`; updates the quote state. Returns -EINVAL when a
 * backslash ends the input. */
static int shell_char(const char **s, char *quote, struct buf *word)
{
    char c = *(*s)++;
    if (*quote == '\'') {
        if (c == '\'')
            *quote = 0;
        else
            buf_addc(word, c);
    } else if (c == '\\') {
        if (**s == '\0')
            return -EINVAL;
        bool escapable = *quote == 0 || in_set(**s, "\"\\$`");
        if (!escapable)
            buf_addc(word, c);
        buf_addc(word, *(*s)++);
    } else if (c == '"' && *quote == '"')
        *quote = 0;
    else if (*quote == 0 && (c == '"' || c == '\''))
        *quote = c;
    else
        buf_addc(word, c);
    return 0;
}

int split_command(const char *s, struct strlist *ret_words, const char **ret_problem)
{
    while (true) {
        while (is_blank(*s))
            s++;
        if (*s == '\0')
            break;
        struct buf word = {0};
        char quote = 0;
        int r = 0;
        buf_add(&word, "");
        while (r == 0 && *s && (quote || !is_blank(*s)))
            r = shell_char(&s, &quote, &word);
        if (r < 0 || quote) {
            buf_free(&word);
            *ret_problem = r < 0 ? "ends with a lone backslash" : "has an unbalanced quote";
            return -EINVAL;
        }
        strlist_push(ret_words, buf_str(&word));
        buf_free(&word);
    }
    if (ret_words->n == 0) {
        *ret_problem = "is an empty command";
        return -EINVAL;
    }
    return 0;
}
