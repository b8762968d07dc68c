/* fuzz_notify.c: libFuzzer target for the address parser, the value check and text rewriting.
 *
 * Properties: an accepted address fits its sockaddr; an accepted value holds nothing the manager
 * would read differently; rewritten text always fits, never holds a line break, NUL or unpaired
 * backslash, and is valid UTF-8 by systemd's rules, so the manager shows it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vigil_notify.h"

static void check_address(const char *data, size_t size)
{
    struct vigil_addr addr;

    if (vigil_addr_parse(data, size, &addr) != 0)
        return;
    if (memchr(data, '\0', size))
        abort();
    if (addr.kind == VIGIL_ADDR_UNIX &&
        (addr.un_len > sizeof(addr.un) ||
         addr.un_len != offsetof(struct sockaddr_un, sun_path) + size + (data[0] == '/')))
        abort();
}

static void check_value(const char *data, size_t size)
{
    if (vigil_value_check("STATUS", 6, data, size) != 0)
        return;
    for (size_t i = 0; i < size; i++)
        if (data[i] == '\n' || data[i] == '\r' || data[i] == '\0' || data[i] == '\\')
            abort();
}

static void check_rewritten_text(const char *data, size_t size)
{
    static struct vigil_msg msg;

    vigil_msg_init(&msg);
    if (vigil_msg_append_text(&msg, "STATUS", 6, data, size) != 0 || msg.len > VIGIL_NOTIFY_MAX)
        abort();
    const char *value = msg.buf + 7;
    size_t len = msg.len - 7;
    for (size_t i = 0; i < len; i++) {
        if (value[i] == '\n' || value[i] == '\r' || value[i] == '\0')
            abort();
        if (value[i] == '\\' && (i + 1 == len || value[++i] != '\\'))
            abort();
    }
    /* The manager drops a STATUS that is not valid UTF-8. */
    for (size_t i = 0; i < len;) {
        size_t n = vigil_utf8_char_len((const unsigned char *)value + i, len - i);
        if (n == 0)
            abort();
        i += n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_address((const char *)data, size);
    check_value((const char *)data, size);
    check_rewritten_text((const char *)data, size);
    return 0;
}
