/* The renderer: fills the templates from the model and writes the manifest, in memory. */
#ifndef VIGIL_GEN_RENDER_H
#define VIGIL_GEN_RENDER_H

#include "buf.h"
#include "model.h"

/** The template file names, NULL-terminated; the first UF_COUNT belong to the unit files. */
extern const char *const RENDER_TEMPLATES[];

/** Rendered files: relative names and contents, index for index. */
struct rendered {
    struct strlist names;
    struct strlist contents;
};

/** Renders every file of the model with the templates in `tmpl_dir`. Returns 0 or -errno
 * with the template file and problem in `err`. */
int render_all(const struct unit_model *m, const char *tmpl_dir, struct rendered *out,
               struct buf *err);

/** Fills `text` (a template) for unit file `f` (socket unit `part` of the model's sockets
 * when `f` is UF_SOCKET), or for a companion file when `f` is UF_COUNT. Returns 0, or -EINVAL
 * naming an unknown placeholder in `err`. */
int render_template(const struct unit_model *m, enum unit_file f, unsigned part, const char *text,
                    struct buf *out, struct buf *err);

/** Writes the JSON manifest of every directive, its status and reason, and the expected
 * exposure score. */
void render_manifest(const struct unit_model *m, const struct strlist *files, struct buf *out);

/** Frees the rendered files. */
void rendered_free(struct rendered *r);

#endif
