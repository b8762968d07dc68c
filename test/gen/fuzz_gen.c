/* libFuzzer target: config text -> options -> model -> rendered unit. Property: either a clean
 * refusal naming a key, or output whose every line is a section, a comment, blank, or
 * Key=value without control characters, and whose quoted words read back without error. */
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

static void check_line(const char *line)
{
    if (line[0] == '\0' || line[0] == '#' || line[0] == '[')
        return;
    const char *eq = strchr(line, '=');
    if (eq == NULL || text_problem(line) != NULL)
        abort();
    if (strncmp(line, "Environment=", 12) == 0 || strncmp(line, "ExecStart", 9) == 0) {
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

static void check_output(char *text)
{
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"))
        check_line(line);
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
        if (render_template(&m, UF_SERVICE, TEMPLATE, &out, &err) != 0)
            abort();
        check_output(out.data);
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
