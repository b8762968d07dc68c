/* vigil_addr.c: $NOTIFY_SOCKET parsing, in the forms current sd_notify() accepts. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "vigil_notify.h"

static int parse_unix(const char *text, size_t len, struct vigil_addr *ret_addr)
{
    struct vigil_addr addr = {.kind = VIGIL_ADDR_UNIX, .type = SOCK_DGRAM};
    bool abstract = text[0] == '@';
    /* A path is passed with its terminating NUL; an abstract name is counted without one. */
    size_t room = sizeof(addr.un.sun_path) - (abstract ? 0 : 1);

    if (len < 2)
        return -EINVAL;
    if (len > room)
        return -E2BIG;

    addr.un.sun_family = AF_UNIX;
    memcpy(addr.un.sun_path, text, len);
    if (abstract)
        addr.un.sun_path[0] = '\0';
    addr.un_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 0 : 1));
    *ret_addr = addr;
    return 0;
}

/* Decimal only: a leading zero or a sign would be read differently by other parsers. */
static int parse_decimal_uint(const char *text, size_t len, unsigned *ret_value)
{
    unsigned long value = 0;

    if (len == 0 || (len > 1 && text[0] == '0'))
        return -EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -EINVAL;
        value = value * 10 + (unsigned long)(text[i] - '0');
        if (value > UINT_MAX)
            return -EINVAL;
    }
    *ret_value = (unsigned)value;
    return 0;
}

struct vsock_prefix {
    const char *text;
    int type;
};

static const struct vsock_prefix vsock_prefixes[] = {
    {"vsock:", 0},
    {"vsock-dgram:", SOCK_DGRAM},
    {"vsock-seqpacket:", SOCK_SEQPACKET},
    {"vsock-stream:", SOCK_STREAM},
};

static const struct vsock_prefix *find_vsock_prefix(const char *text, size_t len)
{
    for (size_t i = 0; i < sizeof(vsock_prefixes) / sizeof(vsock_prefixes[0]); i++) {
        size_t n = strlen(vsock_prefixes[i].text);
        if (len >= n && memcmp(text, vsock_prefixes[i].text, n) == 0)
            return &vsock_prefixes[i];
    }
    return NULL;
}

/* Linux's VMADDR_CID_ANY (-1U), not a context id one can send to. */
#define VSOCK_CID_ANY UINT_MAX

/* "vsock:CID:PORT". sd_notify() refuses a missing CID (VMADDR_CID_ANY), so do we. */
static int parse_vsock(const char *text, size_t len, struct vigil_addr *ret_addr)
{
    const struct vsock_prefix *prefix = find_vsock_prefix(text, len);
    struct vigil_addr addr = {.kind = VIGIL_ADDR_VSOCK};
    unsigned cid = 0;
    unsigned port = 0;

    if (!prefix)
        return -EINVAL;
    const char *cid_text = text + strlen(prefix->text);
    size_t rest = len - strlen(prefix->text);
    const char *colon = memchr(cid_text, ':', rest);
    if (!colon)
        return -EINVAL;
    size_t cid_len = (size_t)(colon - cid_text);
    if (parse_decimal_uint(cid_text, cid_len, &cid) < 0 ||
        parse_decimal_uint(colon + 1, rest - cid_len - 1, &port) < 0 || cid == VSOCK_CID_ANY)
        return -EINVAL;

    addr.cid = cid;
    addr.port = port;
    addr.type = prefix->type;
    *ret_addr = addr;
    return 0;
}

int vigil_addr_parse(const char *text, size_t len, struct vigil_addr *ret_addr)
{
    if (!text || !ret_addr || len == 0 || memchr(text, '\0', len))
        return -EINVAL;
    if (text[0] == '/' || text[0] == '@')
        return parse_unix(text, len, ret_addr);
    return parse_vsock(text, len, ret_addr);
}
