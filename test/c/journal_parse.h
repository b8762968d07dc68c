/* journal_parse.h: journal entries read back the way journald's native transport reads them
 * (systemd src/journal/journald-native.c), written apart from c_src/core for the tests and the
 * fuzz target. Header-only: static inline, so a file that leaves a function unused still builds.
 *
 * journald's rules, and what this parser reports instead of silently dropping:
 * - a line "KEY=VALUE\n"; a line starting with '.' or '#' is ignored (counted in ignored_lines);
 * - "KEY\n" + 64-bit little-endian length + value + "\n": a length or a terminating "\n" that
 *   does not match stops the parse (journald keeps the fields before it): -EBADMSG;
 * - a last field with no "\n" is trailing noise (journald drops it, keeps the entry): -ENODATA;
 * - an empty line separates entries (counted in separators);
 * - a key journal_field_valid() refuses is dropped by journald: counted in invalid_keys and kept
 *   here, so a test sees it. */
#ifndef VIGIL_TEST_JOURNAL_PARSE_H
#define VIGIL_TEST_JOURNAL_PARSE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define JP_FIELDS_MAX 1100

struct jp_field {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    bool binary;
};

/** Fields point into the parsed buffer. */
struct jp_entry {
    size_t count;
    size_t invalid_keys;
    size_t ignored_lines;
    size_t separators;
    struct jp_field fields[JP_FIELDS_MAX];
};

/** journal_field_valid(), from its definition, not from c_src/core. */
static inline bool jp_key_valid(const char *key, size_t len)
{
    if (len == 0 || len > 64 || key[0] == '_' || (key[0] >= '0' && key[0] <= '9'))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static inline int jp_add(struct jp_entry *entry, struct jp_field field)
{
    if (entry->count >= JP_FIELDS_MAX)
        return -E2BIG;
    if (!jp_key_valid(field.key, field.key_len))
        entry->invalid_keys++;
    entry->fields[entry->count++] = field;
    return 0;
}

static inline uint64_t jp_le64(const unsigned char *p)
{
    uint64_t value = 0;
    for (int i = 7; i >= 0; i--)
        value = (value << 8) | p[i];
    return value;
}

/* The binary form at p, whose key ends at the '\n' at e: the number of bytes it takes, or
 * -EBADMSG. */
static inline long jp_binary(struct jp_entry *entry, const char *p, const char *e, size_t remaining)
{
    size_t key_len = (size_t)(e - p);
    if (remaining < key_len + 1 + 8 + 1)
        return -EBADMSG;
    uint64_t len = jp_le64((const unsigned char *)e + 1);
    if (len > remaining - (key_len + 1 + 8 + 1) || e[1 + 8 + len] != '\n')
        return -EBADMSG;
    struct jp_field field = {p, key_len, e + 1 + 8, (size_t)len, true};
    int r = jp_add(entry, field);
    return r < 0 ? r : (long)(key_len + 1 + 8 + len + 1);
}

/* One line at p ending at e: the number of bytes it takes, or -errno. */
static inline long jp_line(struct jp_entry *entry, const char *p, const char *e, size_t remaining)
{
    size_t line = (size_t)(e - p);
    if (line == 0) {
        entry->separators++;
        return 1;
    }
    if (*p == '.' || *p == '#') {
        entry->ignored_lines++;
        return (long)line + 1;
    }
    const char *eq = memchr(p, '=', line);
    if (!eq)
        return jp_binary(entry, p, e, remaining);
    struct jp_field field = {p, (size_t)(eq - p), eq + 1, (size_t)(e - eq - 1), false};
    int r = jp_add(entry, field);
    return r < 0 ? r : (long)line + 1;
}

/**
 * Parse one datagram.
 * @return 0 every byte parsed; -EBADMSG a malformed binary field; -ENODATA trailing noise;
 *         -E2BIG more than JP_FIELDS_MAX fields. entry holds what was parsed before an error.
 */
static inline int jp_parse(const char *data, size_t len, struct jp_entry *entry)
{
    memset(entry, 0, sizeof(*entry));
    while (len > 0) {
        const char *e = memchr(data, '\n', len);
        if (!e)
            return -ENODATA;
        long n = jp_line(entry, data, e, len);
        if (n < 0)
            return (int)n;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/** The first field named key, or NULL. */
static inline const struct jp_field *jp_find(const struct jp_entry *entry, const char *key)
{
    size_t key_len = strlen(key);
    for (size_t i = 0; i < entry->count; i++)
        if (entry->fields[i].key_len == key_len && memcmp(entry->fields[i].key, key, key_len) == 0)
            return &entry->fields[i];
    return NULL;
}

#endif
