/* Command line of vigil-unit: the meta options and the settings, in the order they apply. */
#ifndef VIGIL_GEN_CLI_H
#define VIGIL_GEN_CLI_H

#include "buf.h"
#include "opts.h"

#include <stdbool.h>

/** One setting given on the command line: its key and its value (in argv). */
struct cli_setting {
    const struct opt_def *def;
    const char *value;
};

/** What the command line asks for, apart from the settings themselves. */
struct cli {
    const char *config, *output, *templates, *init_templates;
    bool print, help, keys;       /**< keys: list every key and its kind, for tools */
    bool version;                 /**< print the package version (VIGIL_VERSION) */
    struct cli_setting *settings; /**< in command line order */
    size_t n_settings;
};

/** Parses argv: `--name value` or `--name=value`, names exact (an abbreviation is refused with
 * a suggestion), booleans alone mean yes; `--version` as the only argument sets `version`. Returns
 * 0, or -EINVAL with the problem in `err`. */
int cli_parse(int argc, char **argv, struct cli *ret, struct buf *err);

/** Applies config file (if any) then command line settings to `o`; the command line wins. */
int cli_apply(const struct cli *cli, struct gen_opts *o, struct buf *err);

/** Frees the lists of `cli`. */
void cli_free(struct cli *cli);

#endif
