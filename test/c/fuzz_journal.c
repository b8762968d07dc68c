/* fuzz_journal.c: libFuzzer target for the journal's key check and entry encoder.
 *
 * The input is a list of fields: one byte of key length, the key, two bytes of value length, the
 * value. Properties: vigil_journal_key_check() agrees with journal_field_valid() as written in
 * journal_parse.h; every field the encoder accepts is read back by journald's rules
 * (journal_parse.h) with exactly its key and bytes, in order, nothing left over, and every field
 * it refuses leaves the entry unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal_parse.h"
#include "vigil_journal.h"

struct cursor {
    const uint8_t *data;
    size_t len;
};

/* The next n bytes, or NULL when fewer are left. */
static const char *take(struct cursor *c, size_t n)
{
    if (c->len < n)
        return NULL;
    const char *p = (const char *)c->data;
    c->data += n;
    c->len -= n;
    return p;
}

struct input_field {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
};

static int next_field(struct cursor *c, struct input_field *ret_field)
{
    const char *n = take(c, 1);
    if (!n)
        return 0;
    ret_field->key_len = (uint8_t)n[0] % 80;
    ret_field->key = take(c, ret_field->key_len);
    const char *v = take(c, 2);
    if (!ret_field->key || !v)
        return 0;
    ret_field->value_len = (size_t)(uint8_t)v[0] | ((size_t)(uint8_t)v[1] << 8);
    if (ret_field->value_len > c->len)
        ret_field->value_len = c->len;
    ret_field->value = take(c, ret_field->value_len);
    return 1;
}

static void check_read_back(const struct vigil_jentry *entry, const struct input_field *accepted,
                            size_t count)
{
    static struct jp_entry parsed;

    if (jp_parse(entry->buf ? entry->buf : "", entry->len, &parsed) != 0 || parsed.count != count ||
        parsed.invalid_keys != 0 || parsed.ignored_lines != 0 || parsed.separators != 0)
        abort();
    for (size_t i = 0; i < count; i++) {
        const struct jp_field *f = &parsed.fields[i];
        if (f->key_len != accepted[i].key_len || memcmp(f->key, accepted[i].key, f->key_len) != 0 ||
            f->value_len != accepted[i].value_len ||
            (f->value_len > 0 && memcmp(f->value, accepted[i].value, f->value_len) != 0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct input_field accepted[64];
    struct cursor c = {data, size};
    struct input_field field;
    struct vigil_jentry entry;
    size_t count = 0;

    vigil_jentry_init(&entry);
    while (count < 64 && next_field(&c, &field)) {
        bool valid = jp_key_valid(field.key, field.key_len);
        if ((vigil_journal_key_check(field.key, field.key_len) == 0) != valid)
            abort();
        size_t before = entry.len;
        int r = vigil_jentry_add(&entry, field.key, field.key_len, field.value, field.value_len);
        if ((r == 0) != valid || (r != 0 && entry.len != before))
            abort();
        if (r == 0)
            accepted[count++] = field;
    }
    check_read_back(&entry, accepted, count);
    vigil_jentry_free(&entry);
    return 0;
}
