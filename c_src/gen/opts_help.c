/* What `--help` shows of the keys, and the key a misspelt or abbreviated name most likely
 * meant. */
#include "opts.h"

#include <string.h>

/* Levenshtein distance of a and b, `-` equal to `_`; long names count as far. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    size_t row[64];
    if (la >= 63 || lb >= 63)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            bool same = a[i - 1] == b[j - 1] || (a[i - 1] == '-' && b[j - 1] == '_');
            size_t best = diag + (same ? 0 : 1);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

static bool begins(const char *name, const char *key)
{
    size_t i = 0;
    while (name[i] && (name[i] == key[i] || (name[i] == '-' && key[i] == '_')))
        i++;
    return name[i] == '\0' && i > 0;
}

/* Considers one candidate: a key `name` begins beats any near miss. */
static void consider(const char *name, const char *key, const char **best, size_t *best_d)
{
    size_t d = begins(name, key) ? 0 : distance(name, key);
    size_t limit = strlen(name) < 6 ? 1 : strlen(name) / 3;
    if (d <= limit && d < *best_d) {
        *best = key;
        *best_d = d;
    }
}

const char *gen_opt_nearest(const char *name, const char *const *extra)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (const struct opt_def *d = GEN_OPT_DEFS; d->key != NULL; d++)
        consider(name, d->key, &best, &best_d);
    for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
        consider(name, extra[i], &best, &best_d);
    return best;
}

static void help_value(struct buf *out, const void *f, enum opt_kind kind)
{
    switch (kind) {
    case OPT_BOOL:
        buf_add(out, *(const bool *)f ? "yes" : "no");
        break;
    case OPT_UINT:
        buf_printf(out, "%lu", *(const unsigned long *)f);
        break;
    case OPT_MODE:
        buf_printf(out, "%04lo", *(const unsigned long *)f);
        break;
    case OPT_LIST:
    case OPT_PORTS:
    case OPT_SOCKETS:
        for (size_t i = 0; i < ((const struct strlist *)f)->n; i++)
            buf_printf(out, "%s%s", i ? " " : "", ((const struct strlist *)f)->v[i]);
        break;
    default:
        buf_add(out, *(char *const *)f ? *(char *const *)f : "");
    }
}

/* The default as `--help` shows it; nothing for a key without one (required, empty, or derived
 * from other keys, which its help text says). */
static void help_default(struct buf *out, const struct gen_opts *d, const struct opt_def *def)
{
    const void *f = (const char *)d + def->offset;
    struct buf v = {0};
    buf_add(&v, "");
    help_value(&v, f, def->kind);
    if (v.len > 0)
        buf_printf(out, " [default: %s]", buf_str(&v));
    buf_free(&v);
}

static void help_choices(struct buf *out, const struct opt_def *def)
{
    for (size_t i = 0; def->choices != NULL && def->choices[i] != NULL; i++)
        buf_printf(out, "%s%s", i ? ", " : ": one of ", def->choices[i]);
}

void gen_opts_help(struct buf *out)
{
    struct gen_opts d;
    gen_opts_init(&d);
    for (const struct opt_def *def = GEN_OPT_DEFS; def->key != NULL; def++) {
        buf_add(out, "  --");
        for (const char *k = def->key; *k; k++)
            buf_addc(out, (char)(*k == '_' ? '-' : *k));
        buf_printf(out, "%s\n      %s", def->kind == OPT_BOOL ? "[=BOOL]" : " VALUE", def->help);
        help_choices(out, def);
        buf_add(out, gen_opt_is_list(def) ? "; repeat for more" : "");
        help_default(out, &d, def);
        buf_add(out, "\n");
    }
    gen_opts_free(&d);
}

void gen_opts_kinds(struct buf *out)
{
    static const char *const kinds[] = {
        [OPT_STR] = "string", [OPT_BOOL] = "bool",  [OPT_UINT] = "number", [OPT_MODE] = "mode",
        [OPT_LIST] = "list",  [OPT_PORTS] = "list", [OPT_SOCKETS] = "list"};
    for (const struct opt_def *d = GEN_OPT_DEFS; d->key != NULL; d++)
        buf_printf(out, "%s\t%s\n", d->key, kinds[d->kind]);
}
