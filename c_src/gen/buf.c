#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one out-of-memory path: the generator cannot continue, and says so. */
static void die_oom(void)
{
    /* Nothing is left to do if even this write fails. */
    (void)!fputs("vigil-unit: out of memory\n", stderr);
    abort();
}

static void buf_reserve(struct buf *b, size_t extra)
{
    if (b->data != NULL && b->len + extra < b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap <= b->len + extra)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
        die_oom();
    b->data = p;
    b->cap = cap;
}

void buf_addn(struct buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_add(struct buf *b, const char *s)
{
    buf_addn(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
    buf_addn(b, &c, 1);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die_oom();
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    int written = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    if (written != n)
        die_oom();
    b->len += (size_t)n;
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

char *buf_steal(struct buf *b)
{
    char *s = b->data ? b->data : xstrdup("");
    *b = (struct buf){0};
    return s;
}

void buf_free(struct buf *b)
{
    free(b->data);
    *b = (struct buf){0};
}

void strlist_push(struct strlist *l, const char *s)
{
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = xstrdup(s);
}

bool strlist_contains(const struct strlist *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return true;
    return false;
}

void strlist_free(struct strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    *l = (struct strlist){0};
}

char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        die_oom();
    return p;
}

char *xstrndup(const char *s, size_t n)
{
    char *p = strndup(s, n);
    if (p == NULL)
        die_oom();
    return p;
}

void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (q == NULL)
        die_oom();
    return q;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (p == NULL)
        die_oom();
    return p;
}
