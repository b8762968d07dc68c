/* Test helpers: the reverse of the generator's escaping, as systemd reads it back. */
#ifndef VIGIL_GEN_TEST_UNQUOTE_H
#define VIGIL_GEN_TEST_UNQUOTE_H

#include "buf.h"

#include <stdbool.h>

/** Reads one word as systemd does for quoted lists (quotes removed, C escapes resolved).
 * Returns 1 and advances `*p` when a word was read, 0 at the end, -EINVAL on a syntax error. */
int unquote_word(const char **p, struct buf *ret_word);

/** Appends `s` with `%%` turned back into `%` and, when `dollar` is set, `$$` into `$`. */
void spec_unescape(struct buf *b, const char *s, bool dollar);

#endif
