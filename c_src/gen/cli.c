#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "io.h"

enum {
    OPT_CONFIG = 1,
    OPT_OUTPUT,
    OPT_PRINT,
    OPT_TEMPLATES,
    OPT_INIT_TEMPLATES,
    OPT_HELP,
    OPT_KEY_BASE = 256, /* OPT_KEY_BASE + i is GEN_OPT_DEFS[i] */
};

static const struct option META[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"print", no_argument, NULL, OPT_PRINT},
    {"templates", required_argument, NULL, OPT_TEMPLATES},
    {"init-templates", required_argument, NULL, OPT_INIT_TEMPLATES},
    {"help", no_argument, NULL, OPT_HELP},
};

#define N_META (sizeof(META) / sizeof(*META))

/* The long option table: the meta options, then one per key with `-` for `_`. */
static struct option *build_long_options(struct strlist *names)
{
    size_t nkeys = gen_opt_count();
    struct option *lo = xcalloc(N_META + nkeys + 1, sizeof(*lo));
    memcpy(lo, META, sizeof(META));
    for (size_t i = 0; i < nkeys; i++) {
        char *name = xstrdup(GEN_OPT_DEFS[i].key);
        for (char *p = name; *p; p++)
            if (*p == '_')
                *p = '-';
        strlist_push(names, name);
        free(name);
        lo[N_META + i] = (struct option){
            names->v[i], GEN_OPT_DEFS[i].kind == OPT_BOOL ? optional_argument : required_argument,
            NULL, OPT_KEY_BASE + (int)i};
    }
    return lo;
}

static int handle(int c, struct cli *cli)
{
    switch (c) {
    case OPT_CONFIG:
        cli->config = optarg;
        return 0;
    case OPT_OUTPUT:
        cli->output = optarg;
        return 0;
    case OPT_PRINT:
        cli->print = true;
        return 0;
    case OPT_TEMPLATES:
        cli->templates = optarg;
        return 0;
    case OPT_INIT_TEMPLATES:
        cli->init_templates = optarg;
        return 0;
    case OPT_HELP:
        cli->help = true;
        return 0;
    default:
        if (c < OPT_KEY_BASE)
            return -EINVAL;
        cli->settings = xrealloc(cli->settings, (cli->n_settings + 1) * sizeof(*cli->settings));
        cli->settings[cli->n_settings++] =
            (struct cli_setting){&GEN_OPT_DEFS[c - OPT_KEY_BASE], optarg ? optarg : "yes"};
        return 0;
    }
}

int cli_parse(int argc, char **argv, struct cli *ret, struct buf *err)
{
    struct strlist names = {0};
    struct option *lo = build_long_options(&names);
    int r = 0, c;
    optind = 1;
    opterr = 0;
    while (r == 0 && (c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        r = handle(c, ret);
        if (r < 0)
            buf_printf(err, "unknown or incomplete option \"%s\" (see --help)", argv[optind - 1]);
    }
    if (r == 0 && optind < argc) {
        buf_printf(err, "unexpected argument \"%s\"", argv[optind]);
        r = -EINVAL;
    }
    free(lo);
    strlist_free(&names);
    return r;
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
