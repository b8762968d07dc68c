/* NAME=LISTEN values of the `sockets` key, read as systemd reads them: the name by
 * fdname_is_valid()'s rules, LISTEN by socket_address_parse()'s for the forms taken here. */
#include "sockspec.h"

#include "escape.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char SHAPE[] = "is not NAME=LISTEN (LISTEN: a port, ADDRESS:PORT, [ADDRESS6]:PORT "
                            "or an absolute path)";

/* printable ASCII without `:` (LISTEN_FDNAMES' separator), at most 255 bytes; not empty here,
 * and nothing the unit file would trim or continue. */
static const char *name_problem(const char *name, size_t len)
{
    if (len == 0)
        return SHAPE;
    if (len > SOCK_NAME_MAX)
        return "has a name longer than 255 characters";
    for (size_t i = 0; i < len; i++)
        if (name[i] < 0x20 || name[i] > 0x7e || name[i] == ':')
            return "has a name that is not printable ASCII without a colon (a file "
                   "descriptor name, as LISTEN_FDNAMES carries it)";
    if (name[0] == ' ' || name[len - 1] == ' ')
        return "has a name that starts or ends with a space, which systemd would trim";
    if (name[len - 1] == '\\')
        return "has a name that ends with a backslash, which would continue the line";
    return NULL;
}

/* A TCP port 1..65535 in decimal, the whole of `s`. */
static int parse_port(const char *s, unsigned *ret)
{
    unsigned long n = 0;
    size_t len = strspn(s, "0123456789");
    if (len == 0 || len > 5 || s[len] != '\0')
        return -EINVAL;
    for (size_t i = 0; i < len; i++)
        n = n * 10 + (unsigned long)(s[i] - '0');
    if (n == 0 || n > 65535)
        return -EINVAL;
    *ret = (unsigned)n;
    return 0;
}

static const char *parse_path(const char *s, struct sock_spec *ret)
{
    const char *problem = path_problem(s);
    if (problem != NULL)
        return problem;
    if (strlen(s) > SOCK_PATH_MAX)
        return "has a path longer than an AF_UNIX socket address holds (107 bytes)";
    ret->kind = SK_PATH;
    (void)snprintf(ret->listen, sizeof(ret->listen), "%s", s);
    return NULL;
}

/* ADDRESS:PORT or [ADDRESS6]:PORT; the address is written back in its canonical form. */
static const char *parse_address(const char *s, struct sock_spec *ret)
{
    bool v6 = s[0] == '[';
    const char *end = v6 ? strstr(s, "]:") : strrchr(s, ':');
    char addr[64];
    char text[INET6_ADDRSTRLEN];
    if (end == NULL || (size_t)(end - s) >= sizeof(addr))
        return v6 ? "has an IPv6 address without a port ([ADDRESS6]:PORT)" : SHAPE;
    memcpy(addr, s + v6, (size_t)(end - s - v6));
    addr[end - s - v6] = '\0';
    if (parse_port(end + 1 + v6, &ret->port) < 0)
        return "has a port that is not 1..65535";
    int family = v6 ? AF_INET6 : AF_INET;
    if (inet_pton(family, addr, ret->addr) != 1)
        return v6 ? "has an address that is not IPv6 (in brackets: [::1]:PORT)"
                  : "has an address that is not IPv4 dotted (127.0.0.1:PORT; host names are "
                    "not resolved) or IPv6 in brackets";
    ret->kind = v6 ? SK_IPV6 : SK_IPV4;
    static const unsigned char zero[16] = {0};
    ret->wildcard = memcmp(ret->addr, zero, v6 ? 16 : 4) == 0;
    inet_ntop(family, ret->addr, text, sizeof(text));
    (void)snprintf(ret->listen, sizeof(ret->listen), v6 ? "[%s]:%u" : "%s:%u", text, ret->port);
    return NULL;
}

static const char *parse_listen(const char *s, struct sock_spec *ret)
{
    if (s[0] == '/')
        return parse_path(s, ret);
    if (strspn(s, "0123456789") == strlen(s) && s[0] != '\0') {
        if (parse_port(s, &ret->port) < 0)
            return "has a port that is not 1..65535";
        ret->kind = SK_PORT;
        ret->wildcard = true;
        (void)snprintf(ret->listen, sizeof(ret->listen), "%u", ret->port);
        return NULL;
    }
    if (s[0] == '[' || strchr(s, ':') != NULL)
        return parse_address(s, ret);
    return s[0] == '\0' ? SHAPE
                        : "has a relative path: an AF_UNIX socket needs an absolute path (or "
                          "LISTEN is a port, ADDRESS:PORT or [ADDRESS6]:PORT)";
}

int sock_spec_parse(const char *s, struct sock_spec *ret, const char **ret_problem)
{
    const char *eq = strchr(s, '=');
    size_t len = eq != NULL ? (size_t)(eq - s) : 0;
    *ret = (struct sock_spec){0};
    const char *problem = eq == NULL ? SHAPE : name_problem(s, len);
    if (problem == NULL) {
        memcpy(ret->name, s, len);
        problem = parse_listen(eq + 1, ret);
    }
    *ret_problem = problem;
    return problem != NULL ? -EINVAL : 0;
}

bool sock_spec_dual(const struct sock_spec *s)
{
    return s->kind == SK_PORT || (s->kind == SK_IPV6 && s->wildcard);
}

/* Whether binding both would fail: the same port, and one address covers the other. */
static bool overlap(const struct sock_spec *a, const struct sock_spec *b)
{
    if (a->port != b->port)
        return false;
    if (sock_spec_dual(a) || sock_spec_dual(b))
        return true;
    return a->kind == b->kind && (a->wildcard || b->wildcard ||
                                  memcmp(a->addr, b->addr, a->kind == SK_IPV6 ? 16 : 4) == 0);
}

const char *sock_spec_clash(const struct sock_spec *a, const struct sock_spec *b)
{
    if (strcmp(a->name, b->name) == 0)
        return "repeats the name of another socket";
    if (a->kind == SK_PATH || b->kind == SK_PATH)
        return a->kind == b->kind && strcmp(a->listen, b->listen) == 0
                   ? "repeats the path of another socket"
                   : NULL;
    return overlap(a, b) ? "binds a port another socket binds on the same or any address" : NULL;
}
