/* Validation and escaping of values for the contexts of a systemd unit file.
 *
 * Layer 1 protects from systemd's substitutions: `%` specifiers everywhere, `$` variables in
 * command lines. Layer 2 protects the word splitting of list settings (Environment=, command
 * lines, path lists): double quotes, inside which `\` and `"` are escaped. Anything a layer
 * cannot express (control characters, invalid UTF-8, a value whose edges the parser trims) is
 * refused by the *_problem functions, which return NULL for a good value or a short reason. */
#ifndef VIGIL_GEN_ESCAPE_H
#define VIGIL_GEN_ESCAPE_H

#include "buf.h"

#include <stdbool.h>

/** Control bytes a context can carry, escaped inside a quoted word (see quote_word). */
enum { TEXT_TAB = 1, TEXT_NEWLINE = 2, TEXT_CONTROL = 4 };

/** Why `s` cannot appear in a unit file at all (newline, control character, bad UTF-8), or NULL. */
const char *text_problem(const char *s);

/** As text_problem(), but the control bytes in `allow` (TEXT_* flags) are fine. */
const char *text_problem_allowing(const char *s, unsigned allow);

/** Why `s` is not an absolute, normalized path that a unit file can carry, or NULL. */
const char *path_problem(const char *s);

/** Why `s` cannot be a raw (unquoted) setting value, whose edges systemd trims, or NULL. */
const char *raw_value_problem(const char *s);

/** Appends `key: value "...": problem` to `err`, control bytes of the value shown as \\xHH so
 * the message stays one line. Returns -EINVAL, for `return fail_value(...)`. */
int fail_value(struct buf *err, const char *key, const char *value, const char *problem);

/** True for a valid environment variable name: [A-Za-z_][A-Za-z0-9_]*. */
bool env_name_valid(const char *s);

/** True for a portable user or group name: [a-z_][a-z0-9_-]*, at most 31 bytes. */
bool user_name_valid(const char *s);

/** True for a unit name such as `epmd.socket`, without escapes or specifiers. */
bool unit_name_valid(const char *s);

/** Appends `s` with `%` doubled and, when `dollar` is set, `$` doubled (command lines). */
void spec_escape(struct buf *b, const char *s, bool dollar);

/** Appends `s` as one word for a list setting, double-quoted when it needs to be or `force`;
 * inside the quotes " and \ are escaped and control bytes written as C escapes. */
void quote_word(struct buf *b, const char *s, bool force);

/** Splits a command written with POSIX shell quoting ('...', "...", backslash) into words.
 * Returns 0, or -EINVAL with `*ret_problem` set for unbalanced quotes or an empty command. */
int split_command(const char *s, struct strlist *ret_words, const char **ret_problem);

#endif
