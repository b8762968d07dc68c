/* vigil-unit: turns a release's settings into a hardened Type=notify systemd service and its
 * companion files. main() only wires the parts: options, model, renderer, file output. */
/* realpath() is X/Open, not base POSIX: ask for it where only POSIX is declared. */
#if !defined(_GNU_SOURCE) && !defined(_XOPEN_SOURCE)
#define _XOPEN_SOURCE 700
#endif
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "io.h"
#include "model.h"
#include "render.h"

/* Writes `s` to `f`; -EIO when it could not be written (a closed or full stdout). */
static int emit(FILE *f, const char *s)
{
    return fputs(s, f) == EOF || fflush(f) == EOF ? -EIO : 0;
}

static int usage(void)
{
    struct buf b = {0};
    buf_add(&b,
            "Usage: vigil-unit [--config FILE] [--KEY VALUE]... (--output DIR | --print)\n"
            "       vigil-unit --init-templates DIR\n"
            "       vigil-unit --version   (alone: vigil's version; with a value, the release\n"
            "                              version key below)\n\n"
            "  --config FILE          key = value lines; a key on the command line wins (a list\n"
            "                         key given there replaces the file's list)\n"
            "  --output DIR           write the unit files, companions and manifest\n"
            "  --print                print the service unit only\n"
            "  --templates DIR        templates to use instead of the installed ones\n"
            "  --init-templates DIR   copy the installed templates to DIR\n"
            "  --keys                 list every key and its kind (string, bool, number,\n"
            "                         mode, list), one per line\n\nKeys:\n");
    gen_opts_help(&b);
    int r = emit(stdout, buf_str(&b));
    buf_free(&b);
    return r;
}

/* The installed templates live next to the binary: priv/vigil-unit, priv/templates. The
 * binary is found through /proc/self/exe, or where there is no /proc (macOS, the BSDs) through
 * argv[0], which the mix task gives as an absolute path. */
static void default_templates(const char *argv0, struct buf *out)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    if (n <= 0 && argv0 != NULL && realpath(argv0, exe) != NULL)
        n = (ssize_t)strlen(exe);
    buf_printf(out, "%s/templates", n > 0 ? dirname(exe) : ".");
}

/* Warnings, and directives the target lacks, on stderr. */
static int report_dropped(const struct unit_model *m)
{
    struct buf b = {0};
    buf_add(&b, "");
    for (size_t i = 0; i < m->n_notes; i++)
        if (m->notes[i].warn)
            buf_printf(&b, "vigil-unit: warning: %s: %s\n", m->notes[i].key, m->notes[i].text);
    for (size_t i = 0; i < m->n; i++)
        if (m->d[i].status == DS_DROPPED && m->d[i].too_new)
            buf_printf(&b, "vigil-unit: dropped %s=%s: %s\n", m->d[i].key, m->d[i].value,
                       m->d[i].reason);
    int r = emit(stderr, buf_str(&b));
    buf_free(&b);
    return r;
}

static int generate(const struct cli *cli, const struct gen_opts *o, const char *tmpl,
                    struct buf *err)
{
    struct unit_model m;
    struct rendered rd = {0};
    int r = unit_model_build(o, &m, err);
    if (r < 0)
        return r;
    r = render_all(&m, tmpl, &rd, err);
    if (r == 0 && cli->print) {
        r = emit(stdout, rd.contents.v[0]);
        if (r < 0)
            buf_add(err, "cannot write to standard output");
    } else if (r == 0) {
        r = write_files(&rd.names, &rd.contents, cli->output, err);
    }
    if (r == 0)
        r = report_dropped(&m);
    rendered_free(&rd);
    unit_model_free(&m);
    return r;
}

static int run_with(const struct cli *cli, const char *tmpl, struct buf *err)
{
    if (cli->init_templates != NULL)
        return copy_templates(tmpl, cli->init_templates, RENDER_TEMPLATES, err);
    if (!cli->print == !cli->output) {
        buf_add(err, "give exactly one of --output DIR or --print");
        return -EINVAL;
    }
    struct gen_opts o;
    gen_opts_init(&o);
    int r = cli_apply(cli, &o, err);
    if (r == 0)
        r = generate(cli, &o, tmpl, err);
    gen_opts_free(&o);
    return r;
}

static int run(const struct cli *cli, const char *argv0, struct buf *err)
{
    struct buf tmpl = {0};
    default_templates(argv0, &tmpl);
    int r = run_with(cli, cli->templates ? cli->templates : buf_str(&tmpl), err);
    buf_free(&tmpl);
    return r;
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    struct buf err = {0};
    int r = cli_parse(argc, argv, &cli, &err);
    if (r == 0 && cli.help) {
        r = usage();
    } else if (r == 0 && cli.version) {
        r = emit(stdout, "vigil-unit " VIGIL_VERSION "\n");
    } else if (r == 0 && cli.keys) {
        struct buf k = {0};
        gen_opts_kinds(&k);
        r = emit(stdout, buf_str(&k));
        buf_free(&k);
    } else if (r == 0) {
        r = run(&cli, argc > 0 ? argv[0] : NULL, &err);
    }
    if (r < 0) {
        struct buf msg = {0};
        buf_printf(&msg, "vigil-unit: %s\n", err.len ? buf_str(&err) : "cannot write output");
        /* The exit status reports the failure even when stderr cannot. */
        r = emit(stderr, buf_str(&msg)) < 0 ? -EIO : r;
        buf_free(&msg);
    }
    cli_free(&cli);
    buf_free(&err);
    return r < 0 ? 1 : 0;
}
