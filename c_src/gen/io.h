/* File input and output of vigil-unit: reading the config and templates, writing the
 * generated files atomically, copying templates. Nothing here knows about units. */
#ifndef VIGIL_GEN_IO_H
#define VIGIL_GEN_IO_H

#include "buf.h"

/** Reads a whole file into `out`. Returns 0 or -errno. */
int read_file(const char *path, struct buf *out);

/** Writes `contents[i]` to `dir/names[i]` for every i, creating directories as needed, each
 * through a temporary file and rename(). Returns 0 or -errno with the path in `err`. */
int write_files(const struct strlist *names, const struct strlist *contents, const char *dir,
                struct buf *err);

/** Creates `path` and its parents with mode 0755. Returns 0 or -errno. */
int mkdir_parents(const char *path);

/** Copies the files `names` (NULL-terminated) from `src` to `dst` for customisation;
 * refuses to overwrite. Returns 0 or -errno with the file and problem in `err`. */
int copy_templates(const char *src, const char *dst, const char *const *names, struct buf *err);

#endif
