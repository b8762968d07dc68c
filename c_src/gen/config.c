/* The config file: `key = value` lines, read into the same options as the command line. */
#include "escape.h"
#include "opts.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* A value in double quotes keeps its edge spaces; inside, \" and \\ stand for " and \. The
 * value is checked before it is changed, so a refusal can show it as written. */
static bool is_quoted(const char *v, size_t n)
{
    return n >= 2 && v[0] == '"' && v[n - 1] == '"';
}

static int check_config_quoting(const char *v)
{
    size_t n = strlen(v);
    for (const char *r = v + 1; is_quoted(v, n) && r < v + n - 1; r++) {
        if (*r == '\\' && (r[1] == '"' || r[1] == '\\') && r + 1 < v + n - 1)
            r++;
        else if (*r == '"' || *r == '\\')
            return -EINVAL;
    }
    return 0;
}

static void unquote_config_value(char *v)
{
    size_t n = strlen(v);
    if (!is_quoted(v, n))
        return;
    char *w = v;
    for (char *r = v + 1; r < v + n - 1; r++) {
        if (*r == '\\')
            r++;
        *w++ = *r;
    }
    *w = '\0';
}

static int config_line(struct gen_opts *o, char *line, const char *where, struct buf *err)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#')
        return 0;
    char *eq = strchr(s, '=');
    if (eq == NULL) {
        buf_printf(err, "%s: expected \"key = value\"", where);
        return -EINVAL;
    }
    *eq = '\0';
    char *key = trim(s);
    char *value = trim(eq + 1);
    const struct opt_def *def = gen_opt_find(key);
    if (def == NULL) {
        const char *near = gen_opt_nearest(key, NULL);
        buf_printf(err, "%s: unknown key \"%s\"", where, key);
        if (near != NULL)
            buf_printf(err, ", did you mean %s?", near);
        return -EINVAL;
    }
    if (check_config_quoting(value) < 0) {
        fail_value(err, def->key, value, "has bad quoting");
    } else {
        unquote_config_value(value);
        if (gen_opt_set(o, def, value, ORIGIN_CONFIG, err) == 0)
            return 0;
    }
    buf_printf(err, " (%s)", where);
    return -EINVAL;
}

int gen_opts_read_config(struct gen_opts *o, const char *text, const char *name, struct buf *err)
{
    char *copy = xstrdup(text);
    char *line = copy;
    int r = 0;
    for (unsigned lineno = 1; r == 0 && line != NULL; lineno++) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        struct buf where = {0};
        buf_printf(&where, "%.40s:%u", name, lineno);
        r = config_line(o, line, buf_str(&where), err);
        buf_free(&where);
        line = next;
    }
    free(copy);
    return r;
}
