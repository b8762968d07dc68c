/* vigil_journal.c: journal entries and how they are sent; the socket and the memfd are the
 * platform layer's. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vigil_journal.h"
#include "vigil_notify.h"
#include "vigil_platform.h"

static int is_upper_or_digit(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int vigil_journal_key_check(const char *key, size_t len)
{
    if (len == 0 || len > VIGIL_JOURNAL_KEY_MAX)
        return -EINVAL;
    if (key[0] == '_' || (key[0] >= '0' && key[0] <= '9'))
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        if (!is_upper_or_digit(key[i]) && key[i] != '_')
            return -EINVAL;
    return 0;
}

void vigil_jentry_init(struct vigil_jentry *entry)
{
    memset(entry, 0, sizeof(*entry));
    entry->max = VIGIL_JOURNAL_ENTRY_MAX;
}

void vigil_jentry_free(struct vigil_jentry *entry)
{
    free(entry->buf);
    vigil_jentry_init(entry);
}

/* Room for need more bytes; the buffer at least doubles so appends stay linear. */
static int reserve(struct vigil_jentry *entry, size_t need)
{
    size_t want = entry->len + need;
    if (want <= entry->cap)
        return 0;
    size_t cap = entry->cap < 256 ? 256 : entry->cap;
    while (cap < want)
        cap *= 2;
    char *buf = realloc(entry->buf, cap);
    if (!buf)
        return -ENOMEM;
    entry->buf = buf;
    entry->cap = cap;
    return 0;
}

static void put(struct vigil_jentry *entry, const void *data, size_t len)
{
    if (len > 0)
        memcpy(entry->buf + entry->len, data, len);
    entry->len += len;
}

static void put_le64(struct vigil_jentry *entry, uint64_t value)
{
    unsigned char bytes[8];
    for (size_t i = 0; i < sizeof(bytes); i++)
        bytes[i] = (unsigned char)(value >> (8 * i));
    put(entry, bytes, sizeof(bytes));
}

/* Bytes the field takes: KEY=VALUE\n, or KEY\n + 8 bytes of length + VALUE + \n. */
static size_t field_size(size_t key_len, size_t value_len, int binary)
{
    return key_len + 1 + (binary ? 8 : 0) + value_len + 1;
}

int vigil_jentry_add(struct vigil_jentry *entry, const char *key, size_t key_len, const char *value,
                     size_t value_len)
{
    if (vigil_journal_key_check(key, key_len) < 0)
        return -EINVAL;
    if (entry->fields >= VIGIL_JOURNAL_FIELDS_MAX)
        return -E2BIG;
    if (value_len > entry->max)
        return -EMSGSIZE;
    int binary = value_len > 0 && memchr(value, '\n', value_len) != NULL;
    size_t need = field_size(key_len, value_len, binary);
    if (entry->len + need > entry->max)
        return -EMSGSIZE;
    if (reserve(entry, need) < 0)
        return -ENOMEM;
    put(entry, key, key_len);
    if (binary) {
        put(entry, "\n", 1);
        put_le64(entry, value_len);
    } else {
        put(entry, "=", 1);
    }
    put(entry, value, value_len);
    put(entry, "\n", 1);
    entry->fields++;
    return 0;
}

int vigil_journal_open(struct vigil_journal *journal, const char *path, size_t len, int sndbuf)
{
    struct vigil_addr addr;

    journal->fd = -1;
    int r = vigil_addr_parse(path, len, &addr);
    if (r < 0)
        return r;
    if (addr.kind != VIGIL_ADDR_UNIX)
        return -EINVAL;
    if (!vigil_platform_has_manager())
        return 0;
    int fd = vigil_platform_journal_socket(sndbuf);
    if (fd < 0)
        return fd;
    journal->fd = fd;
    journal->addr = addr.un;
    journal->addr_len = addr.un_len;
    return 1;
}

void vigil_journal_close(struct vigil_journal *journal)
{
    if (journal->fd >= 0)
        close(journal->fd);
    journal->fd = -1;
}

static int send_through_file(const struct vigil_journal *journal, const char *data, size_t len)
{
    int file = vigil_platform_journal_file(data, len);
    if (file < 0)
        return file;
    int r =
        vigil_platform_journal_sendto(journal->fd, &journal->addr, journal->addr_len, "", 0, file);
    close(file);
    return r < 0 ? r : 2;
}

int vigil_journal_send(const struct vigil_journal *journal, const char *data, size_t len)
{
    if (journal->fd < 0)
        return 0;
    if (len > VIGIL_JOURNAL_ENTRY_MAX)
        return -EMSGSIZE;
    int r = vigil_platform_journal_sendto(journal->fd, &journal->addr, journal->addr_len, data, len,
                                          -1);
    if (r != -EMSGSIZE && r != -ENOBUFS)
        return r;
    return send_through_file(journal, data, len);
}
