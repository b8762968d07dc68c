/* libFuzzer target: config text -> options -> model -> rendered unit. Property: either a clean
 * refusal naming a key, or output whose every line is a section, a comment, blank, or
 * Key=value without control characters, and whose quoted words read back without error. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "model.h"
#include "opts.h"
#include "render.h"
#include "unquote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char TEMPLATE[] = "[Unit]\n{{unit}}\n[Service]\n{{service}}\n[Install]\n{{install}}\n";
static const char SOCKET_TEMPLATE[] = "# {{socket_unit}}\n[Unit]\n{{unit}}\n[Socket]\n{{socket}}\n"
                                      "[Install]\n{{install}}\n";

/* An override's value is the user's unit file syntax, written as is: not unquoted here. */
static bool from_override(const struct unit_model *m, const char *line, const char *eq)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->d[i].reason, "override") == 0 && strlen(m->d[i].key) == (size_t)(eq - line) &&
            strncmp(m->d[i].key, line, (size_t)(eq - line)) == 0 &&
            strcmp(m->d[i].value, eq + 1) == 0)
            return true;
    return false;
}

static void check_line(const struct unit_model *m, const char *line)
{
    if (line[0] == '\0' || line[0] == '#' || line[0] == '[')
        return;
    const char *eq = strchr(line, '=');
    if (eq == NULL || text_problem(line) != NULL)
        abort();
    if ((strncmp(line, "Environment=", 12) == 0 || strncmp(line, "ExecStart", 9) == 0) &&
        !from_override(m, line, eq)) {
        const char *p = eq + 1 + strspn(eq + 1, "-+!");
        struct buf w = {0};
        int r;
        while ((r = unquote_word(&p, &w)) > 0)
            buf_free(&w);
        buf_free(&w);
        if (r < 0)
            abort();
    }
}

static void check_output(const struct unit_model *m, char *text)
{
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"))
        check_line(m, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct gen_opts o;
    struct buf err = {0}, out = {0};
    struct unit_model m;
    gen_opts_init(&o);
    if (gen_opts_read_config(&o, text, "fuzz", &err) == 0 && unit_model_build(&o, &m, &err) == 0) {
        if (render_template(&m, UF_SERVICE, 0, TEMPLATE, &out, &err) != 0)
            abort();
        check_output(&m, out.data);
        for (unsigned i = 0; i < m.n_sockets; i++) {
            buf_free(&out);
            if (render_template(&m, UF_SOCKET, i, SOCKET_TEMPLATE, &out, &err) != 0)
                abort();
            check_output(&m, out.data);
        }
        unit_model_free(&m);
    } else if (err.len == 0) {
        abort(); /* a refusal must say why */
    }
    buf_free(&out);
    buf_free(&err);
    gen_opts_free(&o);
    free(text);
    return 0;
}
