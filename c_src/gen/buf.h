/* Growable byte buffers and string lists for the unit generator. */
#ifndef VIGIL_GEN_BUF_H
#define VIGIL_GEN_BUF_H

#include <stdbool.h>
#include <stddef.h>

/** A NUL-terminated growable string; `data` is never NULL once anything was appended. */
struct buf {
    char *data;
    size_t len;
    size_t cap;
};

/** An owned list of owned strings. */
struct strlist {
    char **v;
    size_t n;
};

/** Appends `n` bytes of `s`; aborts on out-of-memory (the generator cannot continue). */
void buf_addn(struct buf *b, const char *s, size_t n);

/** Appends the NUL-terminated string `s`. */
void buf_add(struct buf *b, const char *s);

/** Appends one byte. */
void buf_addc(struct buf *b, char c);

/** Appends printf-formatted text. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Returns the contents ("" when empty); the buffer keeps ownership. */
const char *buf_str(const struct buf *b);

/** Hands the contents to the caller (an empty string when empty) and resets the buffer. */
char *buf_steal(struct buf *b);

/** Frees the contents and resets the buffer. */
void buf_free(struct buf *b);

/** Appends a copy of `s` to the list. */
void strlist_push(struct strlist *l, const char *s);

/** Returns true when the list holds a string equal to `s`. */
bool strlist_contains(const struct strlist *l, const char *s);

/** Frees every string and the list itself. */
void strlist_free(struct strlist *l);

/** strdup that aborts on out-of-memory. */
char *xstrdup(const char *s);

/** strndup that aborts on out-of-memory. */
char *xstrndup(const char *s, size_t n);

/** realloc that aborts on out-of-memory. */
void *xrealloc(void *p, size_t size);

/** calloc that aborts on out-of-memory. */
void *xcalloc(size_t n, size_t size);

#endif
