#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

/* The options besides the keys. Names are matched exactly: an abbreviation is refused with a
 * suggestion, so that `--limit 10` cannot quietly set some key that starts with "limit". */
enum meta { M_CONFIG, M_OUTPUT, M_PRINT, M_TEMPLATES, M_INIT_TEMPLATES, M_HELP, M_KEYS, M_COUNT };

static const struct {
    const char *name;
    bool value;
} META[M_COUNT] = {
    [M_CONFIG] = {"config", true},
    [M_OUTPUT] = {"output", true},
    [M_PRINT] = {"print", false},
    [M_TEMPLATES] = {"templates", true},
    [M_INIT_TEMPLATES] = {"init-templates", true},
    [M_HELP] = {"help", false},
    [M_KEYS] = {"keys", false},
};

/* Meta option names for suggestions, in the keys' underscore form. */
static const char *const META_KEYS[] = {"config",         "output", "print", "templates",
                                        "init_templates", "help",   "keys",  NULL};

static int find_meta(const char *name, size_t len)
{
    for (int i = 0; i < M_COUNT; i++)
        if (strlen(META[i].name) == len && strncmp(META[i].name, name, len) == 0)
            return i;
    return -1;
}

/* A key on the command line is written with `-` for `_`, exactly. */
static const struct opt_def *find_key(const char *name, size_t len)
{
    for (const struct opt_def *d = GEN_OPT_DEFS; d->key != NULL; d++) {
        size_t i = 0;
        while (i < len && d->key[i] &&
               (name[i] == d->key[i] || (name[i] == '-' && d->key[i] == '_')))
            i++;
        if (i == len && d->key[i] == '\0')
            return d;
    }
    return NULL;
}

static int unknown(const char *arg, size_t len, struct buf *err)
{
    char *name = xstrndup(arg + 2, len);
    const char *near = gen_opt_nearest(name, META_KEYS);
    buf_printf(err, "unknown option \"--%s\"", name);
    if (near == NULL)
        buf_add(err, " (see --help)");
    else
        buf_add(err, ", did you mean --");
    for (const char *p = near; p != NULL && *p; p++)
        buf_addc(err, (char)(*p == '_' ? '-' : *p));
    buf_add(err, near != NULL ? "?" : "");
    free(name);
    return -EINVAL;
}

static void set_meta(struct cli *cli, int m, const char *value)
{
    const char **slot[M_COUNT] = {[M_CONFIG] = &cli->config,
                                  [M_OUTPUT] = &cli->output,
                                  [M_TEMPLATES] = &cli->templates,
                                  [M_INIT_TEMPLATES] = &cli->init_templates};
    if (m == M_PRINT)
        cli->print = true;
    else if (m == M_HELP)
        cli->help = true;
    else if (m == M_KEYS)
        cli->keys = true;
    else
        *slot[m] = value;
}

static void push_setting(struct cli *cli, const struct opt_def *def, const char *value)
{
    cli->settings = xrealloc(cli->settings, (cli->n_settings + 1) * sizeof(*cli->settings));
    cli->settings[cli->n_settings++] = (struct cli_setting){def, value};
}

/* One `--name[=value]` at argv[*i]; a value not given with `=` is the next argument, except
 * for booleans, which mean yes alone. */
static int parse_one(int argc, char **argv, int *i, struct cli *cli, struct buf *err)
{
    const char *arg = argv[*i];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
    int m = find_meta(arg + 2, len);
    const struct opt_def *def = m < 0 ? find_key(arg + 2, len) : NULL;
    if (m < 0 && def == NULL)
        return unknown(arg, len, err);
    bool takes = m >= 0 ? META[m].value : def->kind != OPT_BOOL;
    const char *value = eq ? eq + 1 : NULL;
    if (value == NULL && takes) {
        if (*i + 1 >= argc) {
            buf_printf(err, "option \"%s\" needs a value (see --help)", arg);
            return -EINVAL;
        }
        value = argv[++*i];
    }
    if (m >= 0 && !takes && value != NULL) {
        buf_printf(err, "option \"--%s\" takes no value", META[m].name);
        return -EINVAL;
    }
    if (m >= 0)
        set_meta(cli, m, value);
    else
        push_setting(cli, def, value ? value : "yes");
    return 0;
}

int cli_parse(int argc, char **argv, struct cli *ret, struct buf *err)
{
    /* `version` is also the release version key: only `--version` alone asks for ours. */
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        ret->version = true;
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == '\0' || argv[i][2] == '=') {
            buf_printf(err, "unexpected argument \"%s\"", argv[i]);
            return -EINVAL;
        }
        int r = parse_one(argc, argv, &i, ret, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int cli_apply(const struct cli *cli, struct gen_opts *o, struct buf *err)
{
    int r = 0;
    if (cli->config != NULL) {
        struct buf text = {0};
        r = read_file(cli->config, &text);
        if (r < 0)
            buf_printf(err, "config: cannot read %s: %s", cli->config, strerror(-r));
        else
            r = gen_opts_read_config(o, buf_str(&text), cli->config, err);
        buf_free(&text);
    }
    for (size_t i = 0; r == 0 && i < cli->n_settings; i++)
        r = gen_opt_set(o, cli->settings[i].def, cli->settings[i].value, ORIGIN_CLI, err);
    return r;
}

void cli_free(struct cli *cli)
{
    free(cli->settings);
    *cli = (struct cli){0};
}
